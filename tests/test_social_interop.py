"""Social sign-in beside the real better-auth 1.7.25, both talking to the same local fake providers (Google,
GitHub, a generic OIDC provider) on one database: the same browser journey gets the same statuses, redirects,
cookies, bodies and account rows from both, and a flow begun on one server finishes on the other."""
from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import pytest
import requests
from auth_fixtures import TRUSTED_ORIGIN
from fakes.oauth import Person
from social_browser import Browser, Normaliser
from social_fixtures import GENERIC_ID, GITHUB_ORIGIN, GOOGLE_ORIGIN, Fakes

pytestmark = pytest.mark.slow


def journey(api: str, fakes: Fakes, tag: str) -> dict[str, Any]:
    """Every endpoint and error case, as a browser and the better-auth client drive them; normalised steps."""
    server = api[: -len("/api/auth")]
    subjects = {name: f"{digit}{uuid.uuid4().int % 10**9:09d}"
                for digit, name in enumerate(("pat", "carol", "dan"), 1)}
    replacements = {f".{tag}@": ".TAG@", f"pat{tag}": "patTAG", f"carol{tag}": "carolTAG",
                    **{sub: f"<sub:{name}>" for name, sub in subjects.items()}}
    norm = Normaliser({server: "<server>", fakes.google.base: GOOGLE_ORIGIN, fakes.github.base: GITHUB_ORIGIN,
                       fakes.acme.base: "<acme>"}, replacements)
    steps: dict[str, Any] = {}

    def record(name: str, response: requests.Response) -> requests.Response:
        steps[name] = norm.response(response)
        return response

    def record_accounts(name: str, response: requests.Response) -> requests.Response:
        """better-auth lists accounts with no ORDER BY (findAccounts), so in the table's physical order, which
        changes when a new row fills space a deleted one freed: the list is compared sorted by provider."""
        record(name, response)
        steps[name]["body"] = sorted(steps[name]["body"], key=lambda account: account["providerId"])
        return response

    pat = Person(sub=subjects["pat"], email=f"pat.{tag}@example.com", login=f"pat{tag}")
    for fake in (fakes.google, fakes.github, fakes.acme):
        fake.person, fake.deny, fake.token_status, fake.id_token_claims = pat, False, None, {}
    browser = Browser(api, hosts=fakes.hosts())

    # Validation and refusals before any redirect.
    record("no provider", browser.post("/sign-in/social", {}))
    record("unknown provider", browser.post("/sign-in/social", {"provider": "nope"}))
    record("untrusted callbackURL", browser.post("/sign-in/social", {"provider": "google",
                                                                     "callbackURL": "https://evil.example/x"}))
    record("untrusted errorCallbackURL", browser.post("/sign-in/social", {"provider": "google",
                                                                          "errorCallbackURL": "https://evil.example"}))
    record("reserved additionalParams", browser.post("/sign-in/social", {"provider": "google",
                                                                         "additionalParams": {"state": "x"}}))
    record("disableRedirect", browser.post("/sign-in/social", {"provider": "google", "disableRedirect": True,
                                                               "scopes": ["extra"],
                                                               "loginHint": "a@b.example"}))

    # Google: sign-up through the whole redirect dance, then the linked-account endpoints.
    start = record("google sign-in", browser.post("/sign-in/social", {
        "provider": "google", "callbackURL": "/dash", "errorCallbackURL": "/err",
        "newUserCallbackURL": "/welcome"}))
    back = record("google consent", browser.consent(start))
    record("google callback", browser.visit(back.headers["Location"]))
    record("replayed callback", browser.visit(back.headers["Location"]))
    record("get-session", browser.get("/get-session"))
    listed = record_accounts("list-accounts", browser.get("/list-accounts")).json()
    google_row = listed[0]["id"]
    record("get-access-token", browser.post("/get-access-token", {"accountId": google_row}))
    record("get-access-token unknown", browser.post("/get-access-token", {"accountId": "x" * 32}))
    record("get-access-token bad body", browser.post("/get-access-token", {"accountId": google_row, "x": 1}))
    record("refresh-token", browser.post("/refresh-token", {"accountId": google_row}))
    record("account-info", browser.get("/account-info", accountId=google_row))
    record("account-info no query", browser.get("/account-info"))
    record("unlink last account", browser.post("/unlink-account", {"accountId": google_row}))

    # GitHub linked to the same user, listed, then unlinked.
    start = record("link github",
                   browser.post("/link-social", {"provider": "github", "callbackURL": "/linked"}))
    back = browser.consent(start)
    record("link github callback", browser.visit(back.headers["Location"]))
    listed = record_accounts("list-accounts after link", browser.get("/list-accounts")).json()
    github_row = next(a["id"] for a in listed if a["providerId"] == "github")
    record("refresh-token github", browser.post("/refresh-token", {"accountId": github_row}))
    record("account-info github", browser.get("/account-info", accountId=github_row))
    record("unlink github", browser.post("/unlink-account", {"accountId": github_row}))
    record("unlink unknown", browser.post("/unlink-account", {"accountId": "y" * 32}))

    # Signing in again with Google: the existing user, to callbackURL.
    again = Browser(api, hosts=fakes.hosts())
    start = again.post("/sign-in/social",
                       {"provider": "google", "callbackURL": "/dash", "newUserCallbackURL": "/new"})
    record("google sign-in again", again.visit(again.consent(start).headers["Location"]))

    # A generic OIDC provider (discovery, nonce) and GitHub sign-up.
    carol = Person(sub=subjects["carol"], email=f"carol.{tag}@example.com", login=f"carol{tag}")
    fakes.acme.person = fakes.github.person = carol
    acme = Browser(api, hosts=fakes.hosts())
    start = record("acme sign-in", acme.post("/sign-in/social", {"provider": GENERIC_ID}))
    record("acme callback", acme.visit(acme.consent(start).headers["Location"]))
    acme_row = record("acme list-accounts", acme.get("/list-accounts")).json()[0]["id"]
    record("acme account-info", acme.get("/account-info", accountId=acme_row))
    hub = Browser(api, hosts=fakes.hosts())
    start = hub.post("/sign-in/social", {"provider": "github", "callbackURL": "/dash"})
    record("github sign-in existing email", hub.visit(hub.consent(start).headers["Location"]))

    # ID token sign-in (Google One Tap, mobile apps).
    dan = Person(sub=subjects["dan"], email=f"dan.{tag}@example.com")
    one_tap = Browser(api)
    record("idToken sign-in", one_tap.post("/sign-in/social", {"provider": "google",
                                                               "idToken": {
                                                                   "token": fakes.google.id_token(dan)}}))
    record("idToken wrong audience", one_tap.post("/sign-in/social", {
        "provider": "google", "idToken": {"token": fakes.google.id_token(dan, aud="someone-else")}}))
    record("idToken github",
           one_tap.post("/sign-in/social", {"provider": "github", "idToken": {"token": "x"}}))

    # Error cases of the redirect dance.
    fakes.google.deny = True
    denied = Browser(api, hosts=fakes.hosts())
    start = denied.post("/sign-in/social", {"provider": "google", "errorCallbackURL": "/err"})
    record("denied consent", denied.visit(denied.consent(start).headers["Location"]))
    fakes.google.deny = False
    thief = Browser(api, hosts=fakes.hosts())
    victim = Browser(api, hosts=fakes.hosts())
    start = victim.post("/sign-in/social", {"provider": "google", "errorCallbackURL": "/err"})
    record("state cookie of another browser", thief.visit(victim.consent(start).headers["Location"]))
    record("no state", browser.get("/callback/google", code="abc"))
    record("unknown state", browser.get("/callback/google", code="abc", state="s" * 32))
    fakes.acme.token_status = 503
    down = Browser(api, hosts=fakes.hosts())
    start = down.post("/sign-in/social", {"provider": GENERIC_ID, "errorCallbackURL": "/err"})
    record("provider down", down.visit(down.consent(start).headers["Location"]))
    fakes.acme.token_status = None
    fakes.acme.id_token_claims = {"nonce": "forged"}
    forged = Browser(api, hosts=fakes.hosts())
    start = forged.post("/sign-in/social", {"provider": GENERIC_ID, "errorCallbackURL": "/err"})
    record("ID token with a wrong nonce", forged.visit(forged.consent(start).headers["Location"]))
    fakes.acme.id_token_claims = {}
    record("form_post callback", requests.post(api + "/callback/google", data={"state": "abc", "code": "x"},
                                               allow_redirects=False, timeout=10))
    return steps


def account_rows(conn: psycopg.Connection, tag: str) -> list[tuple[Any, ...]]:
    """What the journey left in `account`, comparable across runs (ids and times as shapes)."""
    rows = conn.execute(
        'SELECT u.email, a."providerId", a."accessToken" IS NOT NULL, a."refreshToken" IS NOT NULL,'
        ' a."idToken" IS NOT NULL, a."accessTokenExpiresAt" IS NOT NULL, a.scope, u."emailVerified", u.name, '
        'u.image'
        ' FROM account a JOIN "user" u ON u.id = a."userId" WHERE u.email LIKE %s ORDER BY u.email, '
        'a."providerId"',
        (f"%.{tag}@example.com",)).fetchall()
    return [(row[0].replace(tag, "TAG"), *row[1:]) for row in rows]


def test_the_same_journey_gives_the_same_answers_and_rows(better_auth, serve_genvid, fakes, conn):
    """Every step of journey() (statuses, Location, Set-Cookie, bodies) and the account rows match."""
    reference = better_auth(env=fakes.better_auth_env())
    expected = journey(reference.url + "/api/auth", fakes, "ba")
    genvid_url, _ = serve_genvid(**fakes.genvid_settings(), jwt_key_encryption="better_auth")
    actual = journey(genvid_url + "/api/auth", fakes, "gv")
    assert list(actual) == list(expected)
    differing = [name for name in expected if actual[name] != expected[name]]
    assert differing == [], "\n".join(f"{name}:\n better-auth {json.dumps(expected[name])}\n genvid      "
                                      f"{json.dumps(actual[name])}" for name in differing)
    assert account_rows(conn, "gv") == account_rows(conn, "ba")
    # What "the same" means here, so a broken normaliser cannot make everything equal.
    assert actual["google callback"]["location"] == "/welcome"
    assert actual["google callback"]["cookies"][1].startswith(
        "better-auth.session_token=<signed>; Max-Age=604800")
    assert actual["replayed callback"]["location"] == "<server>/api/auth/error?error=state_mismatch"
    assert actual["denied consent"]["location"].startswith("/err?error=access_denied")
    assert actual["provider down"]["location"] == "/err?error=invalid_code"
    assert actual["unlink last account"]["body"]["code"] == "FAILED_TO_UNLINK_LAST_ACCOUNT"


def test_a_flow_begun_on_one_server_finishes_on_the_other(better_auth, serve_genvid, fakes, conn):
    """With one BETTER_AUTH_URL (as behind one domain), sign-in and linking started on either server complete
    on the other; the session works on both and linked accounts are listed and usable on both."""
    reference = better_auth(env=fakes.better_auth_env())
    genvid_url, _ = serve_genvid(**fakes.genvid_settings(), better_auth_url=reference.url,
                                 jwt_key_encryption="better_auth")
    servers = {"better-auth": reference.url + "/api/auth", "genvid": genvid_url + "/api/auth"}
    for begin, end in (("better-auth", "genvid"), ("genvid", "better-auth")):
        person = Person(sub=f"5{uuid.uuid4().int % 10**9}", email=f"{begin}@cross.example")
        fakes.google.person = fakes.github.person = person
        starter = Browser(servers[begin], hosts=fakes.hosts())
        start = starter.post("/sign-in/social", {"provider": "google", "callbackURL": "/dash"})
        back = starter.consent(start).headers["Location"]
        assert back.startswith(reference.url)
        finished = starter.visit(back.replace(reference.url, servers[end][: -len("/api/auth")]))
        assert (finished.status_code, finished.headers["Location"]) == (302, "/dash")
        for server in servers.values():
            session = starter.session.get(server + "/get-session", timeout=10).json()
            assert session["user"]["email"] == person.email
        # Link GitHub on `begin`, finish on `end`; both list it and hand out its token.
        start = starter.post("/link-social", {"provider": "github", "callbackURL": "/linked"})
        back = starter.consent(start).headers["Location"]
        linked = starter.visit(back.replace(reference.url, servers[end][: -len("/api/auth")]))
        assert linked.headers["Location"] == "/linked"
        for server in servers.values():
            listed = starter.session.get(server + "/list-accounts", timeout=10).json()
            assert sorted(a["providerId"] for a in listed) == ["github", "google"]
            github_row = next(a["id"] for a in listed if a["providerId"] == "github")
            token = starter.session.post(server + "/get-access-token", json={"accountId": github_row},
                                         headers={"Origin": TRUSTED_ORIGIN}, timeout=10)
            assert token.status_code == 200 and token.json()["accessToken"].startswith("at-")


@pytest.mark.parametrize("sealed", [False, True])
def test_tokens_stored_by_either_server_are_read_by_the_other(better_auth, serve_genvid, fakes, sealed, conn):
    """Provider tokens written by one server are handed out by the other: stored as given by default, or
    sealed (genvid's OAUTH_TOKEN_ENCRYPTION=better_auth beside better-auth's account.encryptOAuthTokens)."""
    env = {**fakes.better_auth_env(), **({"ENCRYPT_OAUTH_TOKENS": "1"} if sealed else {})}
    reference = better_auth(env=env)
    genvid_url, _ = serve_genvid(**fakes.genvid_settings(), better_auth_url=reference.url,
                                 oauth_token_encryption="better_auth" if sealed else "none",
                                 jwt_key_encryption="better_auth")
    servers = {"better-auth": reference.url + "/api/auth", "genvid": genvid_url + "/api/auth"}
    for writer, reader in (("better-auth", "genvid"), ("genvid", "better-auth")):
        fakes.google.person = Person(sub=f"6{uuid.uuid4().int % 10**9:09d}",
                                     email=f"{writer}.tokens@example.com")
        b = Browser(servers[writer], hosts=fakes.hosts())
        start = b.post("/sign-in/social", {"provider": "google", "callbackURL": "/dash"})
        assert b.visit(b.consent(start).headers["Location"]).headers["Location"] == "/dash"
        row = b.get("/list-accounts").json()[0]["id"]
        given = b.post("/get-access-token", {"accountId": row}).json()["accessToken"]
        assert given.startswith("at-")
        stored = conn.execute('SELECT "accessToken" FROM account WHERE id = %s', (row,)).fetchone()[0]
        assert (
            stored != given and all(c in "0123456789abcdef" for c in stored)) if sealed else stored == given
        read = b.session.post(servers[reader] + "/get-access-token", json={"accountId": row},
                              headers={"Origin": TRUSTED_ORIGIN}, timeout=10).json()
        assert read["accessToken"] == given
