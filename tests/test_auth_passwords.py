"""Password hashes: bcrypt ($gv1$ pre-hashed) by default, better-auth's scrypt on request,
rehash on sign-in."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from concurrent.futures import ThreadPoolExecutor

import bcrypt
from factories import create_user

from genvid.auth import passwords

ORIGIN = {"Origin": "http://localhost:5173"}
SCRYPT = re.compile(r"^[0-9a-f]{32}:[0-9a-f]{128}$")


def stored_hash(conn, email):
    return conn.execute(
        'SELECT a.password FROM account a JOIN "user" u ON u.id = a."userId" WHERE u.email = %s',
        (email,)).fetchone()[0]


def better_auth_scrypt(password: str, salt_hex: str) -> str:
    """better-auth's scrypt, written out from the spec (section 7)."""
    key = hashlib.scrypt(unicodedata.normalize("NFKC", password).encode(), salt=salt_hex.encode(), n=16384,
                         r=16, p=1, dklen=64, maxmem=64 * 1024 * 1024)
    return f"{salt_hex}:{key.hex()}"


def test_bcrypt_is_the_default_format(client, conn):
    """Sign-up stores `$gv1$` + a bcrypt hash at BCRYPT_ROUNDS."""
    client.post("/api/auth/sign-up/email",
                json={"name": "B", "email": "b@example.com", "password": "long enough"})
    stored = stored_hash(conn, "b@example.com")
    assert stored.startswith("$gv1$$2b$04$")


def test_scrypt_setting_writes_better_auths_format(make_app, conn):
    """PASSWORD_HASH=scrypt stores what better-auth itself would verify."""
    client = make_app(password_hash="scrypt").test_client()
    client.post("/api/auth/sign-up/email",
                json={"name": "S", "email": "s@example.com", "password": "ｌong enough"})
    stored = stored_hash(conn, "s@example.com")
    assert SCRYPT.match(stored)
    assert better_auth_scrypt("ｌong enough", stored.split(":")[0]) == stored


def test_scrypt_user_signs_in_under_bcrypt_and_is_rehashed(client, conn):
    """A better-auth scrypt hash verifies; the successful sign-in rewrites it as the configured bcrypt."""
    user = create_user(conn, email="ba@example.com")
    conn.execute("UPDATE account SET password = %s WHERE \"userId\" = %s",
                 (better_auth_scrypt("from better auth", "0123456789abcdef0123456789abcdef"), user.id))
    response = client.post("/api/auth/sign-in/email",
                           json={"email": "ba@example.com", "password": "from better auth"})
    assert response.status_code == 200
    assert stored_hash(conn, "ba@example.com").startswith("$gv1$$2b$04$")


def test_other_bcrypt_cost_is_rehashed(make_app, conn):
    """A hash at another cost is rewritten at BCRYPT_ROUNDS on sign-in."""
    create_user(conn, email="c@example.com")
    client = make_app(bcrypt_rounds=5).test_client()
    client.post("/api/auth/sign-in/email",
                json={"email": "c@example.com", "password": "correct horse battery"})
    assert stored_hash(conn, "c@example.com").startswith("$gv1$$2b$05$")


def test_every_one_of_128_characters_counts():
    """Passwords differing only in the last of 128 (multi-byte) characters do not match."""
    base = "é" * 127
    stored = passwords.hash_password(base + "a", algorithm="bcrypt", bcrypt_rounds=4)
    assert passwords.verify_password(base + "a", stored)
    assert not passwords.verify_password(base + "b", stored)
    assert not passwords.verify_password(base, stored)


def test_plain_bcrypt_hashes_still_verify():
    """A plain $2b$ hash of a short password (another tool's) verifies; more than 72 bytes never does."""
    stored = bcrypt.hashpw(b"plain password", bcrypt.gensalt(4)).decode()
    assert passwords.verify_password("plain password", stored)
    assert not passwords.verify_password("plain password" + "x" * 80, stored)
    assert not passwords.verify_password("anything", "garbage")


def test_concurrent_duplicate_sign_ups(app, conn):
    """Eight simultaneous sign-ups with one email: exactly one user, the rest 422."""
    def attempt(_: int) -> int:
        body = {"name": "Dup", "email": "dup@example.com", "password": "long enough"}
        return app.test_client().post("/api/auth/sign-up/email", json=body).status_code
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(attempt, range(8)))
    assert sorted(statuses) == [200] + [422] * 7
    assert conn.execute('SELECT count(*) FROM "user"').fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM account").fetchone()[0] == 1


def test_unknown_email_costs_a_password_check(make_app, conn, monkeypatch):
    """An unknown email runs the same bcrypt check, at the same cost, as a wrong password
    (no timing oracle)."""
    import bcrypt

    from genvid.auth import passwords
    client = make_app(bcrypt_rounds=5).test_client()
    create_user(conn, email="known@example.com")
    costs: list[int] = []
    real_checkpw = bcrypt.checkpw

    def counting_checkpw(secret: bytes, hashed: bytes) -> bool:
        costs.append(int(hashed.split(b"$")[2]))
        return real_checkpw(secret, hashed)

    monkeypatch.setattr(passwords.bcrypt, "checkpw", counting_checkpw)
    for email in ("known@example.com", "nobody@example.com"):
        response = client.post("/api/auth/sign-in/email", json={"email": email, "password": "wrong guess"})
        assert response.status_code == 401
    assert costs == [5, 5]      # one check each, both at the configured cost (the dummy hash matches it)
