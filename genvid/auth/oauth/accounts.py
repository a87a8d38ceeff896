"""A provider's person becomes a user, an account row and a session, under better-auth's rules.

* An account row is keyed by (providerId, accountId); whoever owns that row signs in, whatever the email says.
* Otherwise a user with the same (lower-cased) email gets the account linked implicitly only when the provider
  is trusted (TRUSTED_PROVIDERS) or says the email is verified, **and** the local user's email is verified
  (better-auth's requireLocalEmailVerified default); else "account not linked".
* Otherwise a new user is made from the profile (emailVerified as the provider says), with its account, in one
  transaction.
* A link-social flow links to the user that began it, if that session is still live, the provider is trusted
  or the email verified, and the email is the user's; an account owned by someone else is refused.

Tokens go into the row as the provider gave them, or sealed in better-auth's encryptOAuthTokens form
(OAUTH_TOKEN_ENCRYPTION=better_auth); `updatedAt` moves with every write. Errors are better-auth's strings.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

import db.auth_accounts
import db.auth_sessions
import db.auth_users
from db import models
from genvid.auth import keyseal, sessions
from genvid.auth.ids import generate_id
from genvid.auth.oauth.client import Tokens
from genvid.auth.oauth.profiles import Profile
from genvid.auth.oauth.state import Link

LINK_SESSION_PURPOSE = "oauth-link-session-token"


@dataclass(frozen=True)
class TokenSealing:
    """How provider tokens are stored: as given ("none", better-auth's default) or sealed ("better_auth")."""

    mode: str
    secret: str

    def seal(self, token: str | None) -> str | None:
        if token is None or self.mode != "better_auth":
            return token
        return keyseal.encrypt_hex(self.secret, token)

    def open(self, stored: str | None) -> str | None:
        """better-auth's decryptOAuthToken: only values that look sealed are opened."""
        if not stored or self.mode != "better_auth" or not _looks_sealed(stored):
            return stored
        return keyseal.decrypt_hex(self.secret, stored)


def _looks_sealed(value: str) -> bool:
    return len(value) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in value)


def seal_link_session(secret: str, token: str) -> str:
    """The link state's encryptedSessionToken."""
    return keyseal.encrypt_hex(keyseal.purpose_key(secret, LINK_SESSION_PURPOSE), token)


@dataclass(frozen=True)
class AccountData:
    """What an account row gets from a sign-in (None: the provider did not say)."""

    provider_id: str
    account_id: str
    access_token: str | None = None
    refresh_token: str | None = None
    id_token: str | None = None
    access_token_expires_at: datetime | None = None
    refresh_token_expires_at: datetime | None = None
    scope: str | None = None

    @classmethod
    def from_tokens(cls, provider_id: str, account_id: str, tokens: Tokens) -> AccountData:
        return cls(provider_id=provider_id, account_id=account_id, access_token=tokens.access_token,
                   refresh_token=tokens.refresh_token, id_token=tokens.id_token,
                   access_token_expires_at=tokens.access_token_expires_at,
                   refresh_token_expires_at=tokens.refresh_token_expires_at, scope=",".join(tokens.scopes))


@dataclass(frozen=True)
class SignedIn:
    user: models.User
    session: models.Session
    is_register: bool


class LinkRefused(Exception):
    """better-auth's error string for a sign-in or link that may not happen ("account not linked", ...)."""


def sign_in(conn: psycopg.Connection, *, profile: Profile, account: AccountData, trusted: bool,
            disable_sign_up: bool, sealing: TokenSealing, ip_address: str, user_agent: str,
            now: datetime) -> SignedIn:
    """better-auth's handleOAuthUserInfo; LinkRefused with its error string. Run inside one transaction."""
    assert profile.email is not None
    email = profile.email.lower()
    owned = db.auth_accounts.get_account_by_key(conn, provider_id=account.provider_id,
                                                account_id=account.account_id)
    is_register = False
    if owned is not None:
        user = db.auth_users.get_user(conn, id=owned.user_id)
        if user is None:
            raise LinkRefused("unable to link account")
        _update_tokens(conn, owned.id, account, sealing=sealing, now=now, with_scope=False)
        if profile.email_verified and not user.email_verified and email == user.email:
            user = db.auth_users.mark_email_verified(conn, id=user.id, now=now) or user
    else:
        existing = db.auth_users.get_user_by_email(conn, email=email)
        if existing is not None:
            if (not trusted and not profile.email_verified) or not existing.email_verified:
                raise LinkRefused("account not linked")
            _create_account(conn, existing.id, account, sealing=sealing, scope=account.scope, now=now)
            user = existing
        else:
            if disable_sign_up:
                raise LinkRefused("signup disabled")
            created = db.auth_users.create_user_from_profile(conn, id=generate_id(), name=profile.name,
                                                             email=email,
                                                             email_verified=profile.email_verified,
                                                             image=profile.image, now=now)
            if created is None:          # the email was taken meanwhile
                raise LinkRefused("unable to create user")
            _create_account(conn, created.id, account, sealing=sealing, scope=account.scope, now=now)
            user, is_register = created, True
    session = sessions.start_session(conn, user_id=user.id, remember=True, ip_address=ip_address,
                                     user_agent=user_agent, now=now)
    return SignedIn(user=user, session=session, is_register=is_register)


def link(conn: psycopg.Connection, *, link: Link, profile: Profile, account: AccountData,
         scopes: list[str] | None, trusted: bool, secret: str, sealing: TokenSealing, now: datetime) -> None:
    """better-auth's linkOAuthAccount; LinkRefused with its redirect error code."""
    if not _link_session_live(conn, link, secret=secret, now=now):
        raise LinkRefused("unable_to_link_account")
    if not trusted and not profile.email_verified:
        raise LinkRefused("unable_to_link_account")
    if (profile.email or "").lower() != link.email.lower():
        raise LinkRefused("email_does_not_match")
    existing = db.auth_accounts.get_account_by_key(conn, provider_id=account.provider_id,
                                                   account_id=account.account_id)
    if existing is not None:
        if existing.user_id != link.user_id:
            raise LinkRefused("account_already_linked_to_different_user")
        merged = merge_scopes(existing.scope, scopes)
        _update_tokens(conn, existing.id, account, sealing=sealing, now=now, with_scope=True,
                       scope=merged or None)
        return
    scope = ",".join(scopes) if scopes is not None else account.scope
    _create_account(conn, link.user_id, account, sealing=sealing, scope=scope, now=now)


class LinkError(Exception):
    """link-social's idToken form refused, with better-auth's status, message and code."""

    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def link_id_token(conn: psycopg.Connection, *, user: models.User, profile: Profile, account: AccountData,
                  trusted: bool, sealing: TokenSealing, now: datetime) -> None:
    """link-social with an ID token: update the user's own account, or link a new one under the same rules."""
    existing = db.auth_accounts.get_account_by_key(conn, provider_id=account.provider_id,
                                                   account_id=account.account_id)
    if existing is not None and existing.user_id == user.id:
        _update_tokens(conn, existing.id, account, sealing=sealing, now=now, with_scope=False)
        return
    if existing is not None:
        raise LinkError(409, "Social account already linked", "SOCIAL_ACCOUNT_ALREADY_LINKED")
    if not trusted and not profile.email_verified:
        raise LinkError(401, "Account not linked - linking not allowed", "LINKING_NOT_ALLOWED")
    if (profile.email or "").lower() != user.email.lower():
        raise LinkError(401, "Account not linked - different emails not allowed",
                        "LINKING_DIFFERENT_EMAILS_NOT_ALLOWED")
    _create_account(conn, user.id, account, sealing=sealing, scope=None, now=now)


def _link_session_live(conn: psycopg.Connection, link: Link, *, secret: str, now: datetime) -> bool:
    if link.encrypted_session_token is None:
        return True
    try:
        token = keyseal.decrypt_hex(keyseal.purpose_key(secret, LINK_SESSION_PURPOSE),
                                    link.encrypted_session_token)
    except ValueError:
        return False
    found = db.auth_sessions.get_session_by_token(conn, token=token)
    return found is not None and found.user_id == link.user_id and found.expires_at > now


def merge_scopes(stored: str | None, incoming: list[str] | None) -> str:
    """better-auth's mergeScopes: the union, stored ones first, without duplicates."""
    existing = [s.strip() for s in (stored or "").split(",") if s.strip()]
    merged = dict.fromkeys([*existing, *(s.strip() for s in incoming or [] if s.strip())])
    return ",".join(merged)


def _create_account(conn: psycopg.Connection, user_id: str, account: AccountData, *, sealing: TokenSealing,
                    scope: str | None, now: datetime) -> models.Account:
    created = db.auth_accounts.create_social_account(
        conn, id=generate_id(), account_id=account.account_id, provider_id=account.provider_id,
        user_id=user_id,
        access_token=sealing.seal(account.access_token), refresh_token=sealing.seal(account.refresh_token),
        id_token=account.id_token, access_token_expires_at=account.access_token_expires_at,
        refresh_token_expires_at=account.refresh_token_expires_at, scope=scope, now=now)
    if created is None:
        raise LinkRefused("unable to link account")
    return created


def _update_tokens(conn: psycopg.Connection, account_row_id: str, account: AccountData, *,
                   sealing: TokenSealing, now: datetime, with_scope: bool, scope: str | None = None) -> None:
    """Write the values the provider gave; absent ones (None) leave their column alone."""
    db.auth_accounts.update_account_tokens(
        conn, id=account_row_id, now=now,
        set_access_token=account.access_token is not None, access_token=sealing.seal(account.access_token),
        set_refresh_token=account.refresh_token is not None,
        refresh_token=sealing.seal(account.refresh_token),
        set_id_token=account.id_token is not None, id_token=account.id_token,
        set_access_token_expires_at=account.access_token_expires_at is not None,
        access_token_expires_at=account.access_token_expires_at,
        set_refresh_token_expires_at=account.refresh_token_expires_at is not None,
        refresh_token_expires_at=account.refresh_token_expires_at,
        set_scope=with_scope and scope is not None, scope=scope)


def list_accounts(conn: psycopg.Connection, *, user_id: str) -> list[models.Account]:
    """The user's accounts, credential included, oldest first."""
    return db.auth_accounts.list_user_accounts(conn, user_id=user_id)


def find_account(conn: psycopg.Connection, *, user_id: str, account_row_id: str) -> models.Account | None:
    """The user's account with this row id (someone else's is not found)."""
    return next((a for a in list_accounts(conn, user_id=user_id) if a.id == account_row_id), None)


def unlink(conn: psycopg.Connection, *, user_id: str, account_row_id: str) -> str | None:
    """Delete one of the user's accounts unless it is the last way to sign in;
    better-auth's error code or None."""
    accounts = list_accounts(conn, user_id=user_id)
    if len(accounts) == 1:
        return "FAILED_TO_UNLINK_LAST_ACCOUNT"
    if not any(a.id == account_row_id for a in accounts):
        return "ACCOUNT_NOT_FOUND"
    db.auth_accounts.delete_user_account(conn, id=account_row_id, user_id=user_id)
    return None


def store_refreshed(conn: psycopg.Connection, *, account: models.Account, tokens: Tokens,
                    sealing: TokenSealing, now: datetime) -> None:
    """After a refresh: the new access token and expiry; refresh and ID tokens only when new ones came."""
    db.auth_accounts.update_account_tokens(
        conn, id=account.id, now=now,
        set_access_token=True, access_token=sealing.seal(tokens.access_token),
        set_refresh_token=tokens.refresh_token is not None, refresh_token=sealing.seal(tokens.refresh_token),
        set_id_token=tokens.id_token is not None, id_token=tokens.id_token,
        set_access_token_expires_at=True, access_token_expires_at=tokens.access_token_expires_at,
        set_refresh_token_expires_at=tokens.refresh_token_expires_at is not None,
        refresh_token_expires_at=tokens.refresh_token_expires_at, set_scope=False, scope=None)
