"""genvid's auth schema is better-auth's: its migrations adopt tables better-auth created, and match them."""
from __future__ import annotations

import secrets
from urllib.parse import urlsplit, urlunsplit

import psycopg

from genvid.infra.migrations import apply_migrations

# better-auth 1.7.25's generated SQL (spec section 1) plus the jwt plugin's table (section 13).
BETTER_AUTH_SQL = """
create table "user" ("id" text not null primary key, "name" text not null, "email" text not null unique,
  "emailVerified" boolean not null, "image" text, "createdAt" timestamptz default CURRENT_TIMESTAMP not null,
  "updatedAt" timestamptz default CURRENT_TIMESTAMP not null);
create table "session" ("id" text not null primary key, "expiresAt" timestamptz not null,
  "token" text not null unique, "createdAt" timestamptz default CURRENT_TIMESTAMP not null,
  "updatedAt" timestamptz not null, "ipAddress" text, "userAgent" text,
  "userId" text not null references "user" ("id") on delete cascade);
create table "account" ("id" text not null primary key, "accountId" text not null, "providerId" text not null,
  "userId" text not null references "user" ("id") on delete cascade, "accessToken" text, "refreshToken" text,
  "idToken" text, "accessTokenExpiresAt" timestamptz, "refreshTokenExpiresAt" timestamptz, "scope" text,
  "password" text, "createdAt" timestamptz default CURRENT_TIMESTAMP not null,
  "updatedAt" timestamptz not null);
create table "verification" ("id" text not null primary key, "identifier" text not null,
  "value" text not null, "expiresAt" timestamptz not null,
  "createdAt" timestamptz default CURRENT_TIMESTAMP not null,
  "updatedAt" timestamptz default CURRENT_TIMESTAMP not null);
create table "jwks" ("id" text not null primary key, "publicKey" text not null, "privateKey" text not null,
  "createdAt" timestamptz not null, "expiresAt" timestamptz, "alg" text, "crv" text);
create index "session_userId_idx" on "session" ("userId");
create index "account_userId_idx" on "account" ("userId");
create index "verification_identifier_idx" on "verification" ("identifier");
"""

CATALOG = """
SELECT 'column', table_name,
       column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '')
FROM information_schema.columns
WHERE table_schema = 'public' AND table_name IN ('user','session','account','verification','jwks')
UNION ALL
SELECT 'constraint', conrelid::regclass::text, conname || ' ' || pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  AND conrelid::regclass::text IN ('"user"','session','account','verification','jwks')
UNION ALL
SELECT 'index', tablename, indexname || ' ' || indexdef
FROM pg_indexes
WHERE schemaname = 'public' AND tablename IN ('user','session','account','verification','jwks')
"""


def _catalog(url: str) -> set[tuple[str, str, str]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return {tuple(row) for row in conn.execute(CATALOG)}


def _database(services, conn) -> str:
    name = "adopt_" + secrets.token_hex(4)
    conn.execute(f"CREATE DATABASE {name}")
    return urlunsplit(urlsplit(services.database_url)._replace(path="/" + name))


def test_migrations_adopt_a_better_auth_database_and_match_it(services, conn):
    """On tables better-auth created, genvid's migrations apply cleanly and the schema equals genvid's own."""
    adopted = _database(services, conn)
    try:
        with psycopg.connect(adopted, autocommit=True) as other:
            other.execute(BETTER_AUTH_SQL)
        before = _catalog(adopted)
        apply_migrations(adopted)
        assert len(before) == 41 + 9 + 10   # columns, constraints, indexes (5 primary keys, 2 unique, 3 more)
        assert _catalog(adopted) == before
        assert _catalog(services.database_url) == before
    finally:
        conn.execute(f"DROP DATABASE IF EXISTS {urlsplit(adopted).path[1:]} WITH (FORCE)")
