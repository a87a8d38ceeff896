"""better-auth's sealed values, from genvid.auth.keyseal and from better-auth's own crypto
(better-auth/crypto, pinned in tests/interop): the same bytes for the same nonce, and each opens what the
other sealed. These are jwks.privateKey under JWT_KEY_ENCRYPTION=better_auth, OAuth tokens under
OAUTH_TOKEN_ENCRYPTION=better_auth and the link state's session token (tests/test_auth_interop.py and
tests/test_social_interop.py run them through both servers)."""
from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from auth_fixtures import INTEROP_DIR, NODE_TIMEOUT, node_env
from conftest import TEST_SECRET

from genvid.auth import keyseal

pytestmark = pytest.mark.slow

SECRETS = [TEST_SECRET, "a", "ünïcødé secret ✓", keyseal.purpose_key(TEST_SECRET, "link-session-token")]
JWK = json.dumps({"crv": "Ed25519", "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
                  "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kty": "OKP"}, separators=(",", ":"))
PLAINTEXTS = ["", "at-123", JWK, "ünïcødé ✓ \u0000 end", "x" * 5000]
NONCES = [bytes(24), bytes(range(24)), bytes.fromhex("ff" * 24)]


def better_auth_crypto(node: str, requests: list[dict[str, str]]) -> list[Any]:
    """Answers of tests/interop/crypto.mjs (better-auth's symmetricEncrypt / symmetricDecrypt), in order."""
    done = subprocess.run([node, "crypto.mjs"], cwd=INTEROP_DIR, input=json.dumps(requests),
                          capture_output=True, text=True, timeout=NODE_TIMEOUT, check=False, env=node_env())
    assert done.returncode == 0, done.stderr
    answers: list[Any] = json.loads(done.stdout)
    return answers


def test_the_same_nonce_gives_better_auths_bytes(node):
    """XChaCha20-Poly1305 under SHA-256 of the secret, as hex of nonce ‖ ciphertext ‖ tag: with the nonce
    fixed, keyseal.encrypt_hex writes byte for byte what better-auth's symmetricEncrypt writes."""
    cases = [(secret, text, nonce) for secret in SECRETS for text in PLAINTEXTS for nonce in NONCES]
    theirs = better_auth_crypto(node, [{"encrypt": text, "secret": secret, "nonce": nonce.hex()}
                                       for secret, text, nonce in cases])
    ours = [keyseal.encrypt_hex(secret, text, nonce=nonce) for secret, text, nonce in cases]
    assert ours == theirs
    assert len({value[:48] for value in ours}) == len(NONCES)       # the nonce leads, as given


def test_each_opens_what_the_other_sealed(node):
    """Random nonces both ways: better-auth opens keyseal's values and keyseal opens better-auth's; under
    another secret, or with one bit flipped, neither opens."""
    cases = [(secret, text) for secret in SECRETS for text in PLAINTEXTS]
    sealed_by_them = better_auth_crypto(node, [{"encrypt": text, "secret": secret} for secret, text in cases])
    assert [keyseal.decrypt_hex(secret, value) for (secret, _), value in zip(cases, sealed_by_them)] == [
        text for _, text in cases]
    sealed_by_us = [keyseal.encrypt_hex(secret, text) for secret, text in cases]
    opened = better_auth_crypto(node, [{"decrypt": value, "secret": secret}
                                       for (secret, _), value in zip(cases, sealed_by_us)])
    assert opened == [text for _, text in cases]

    value = sealed_by_us[1]
    flipped = value[:60] + format(int(value[60], 16) ^ 1, "x") + value[61:]
    refused = better_auth_crypto(node, [{"decrypt": value, "secret": "another secret"},
                                        {"decrypt": flipped, "secret": SECRETS[0]}])
    assert all("error" in answer for answer in refused)
    for secret, tampered in (("another secret", value), (SECRETS[0], flipped)):
        with pytest.raises(ValueError):
            keyseal.decrypt_hex(secret, tampered)


def test_stored_keys_open_on_both_sides(node):
    """jwks.privateKey is the sealed hex as a JSON string: keyseal.seal's opens with better-auth's decrypt of
    the string's content, and keyseal.unseal opens a JSON string of better-auth's value."""
    jwk = JWK
    stored = keyseal.seal(TEST_SECRET, jwk)
    (opened, theirs) = better_auth_crypto(node, [{"decrypt": json.loads(stored), "secret": TEST_SECRET},
                                                 {"encrypt": jwk, "secret": TEST_SECRET}])
    assert opened == jwk
    assert keyseal.unseal(TEST_SECRET, json.dumps(theirs)) == jwk
