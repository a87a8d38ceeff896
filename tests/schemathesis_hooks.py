"""Hooks for the schemathesis CLI run of tests/test_api_fuzz.py (loaded through SCHEMATHESIS_HOOKS).

- Every case is signed in with a bearer session token of a funded user. A case may end that session or delete
  the user (sign-out, revoke-sessions, delete-user are fuzzed like the rest), so the token is checked once a
  second and a new user signed up when it no longer works.
- Half of the positive cases that create a video (or a batch: its template, with rows filling it in) use an
  avatar and voice of the live catalogue, so renders are created and the stateful phase can follow the
  document's links (show, delete, events; a batch's show, cancel, results, events) from them.

Environment: GENVID_FUZZ_BASE_URL (the server under test), GENVID_FUZZ_DATABASE_URL (to fund users).
"""
from __future__ import annotations

import os
import random
import threading
import uuid
from typing import Any

import psycopg
import requests
import schemathesis

BASE_URL = os.environ.get("GENVID_FUZZ_BASE_URL", "")
DATABASE_URL = os.environ.get("GENVID_FUZZ_DATABASE_URL", "")
ORIGIN = {"Origin": "http://localhost:5173"}
CREDITS = 1_000_000


@schemathesis.auth(refresh_interval=1)
class SignedInUser:
    """A bearer token of a user who exists and holds credits."""

    def __init__(self) -> None:
        self.token: str | None = None
        self.lock = threading.Lock()

    def get(self, case: Any, context: Any) -> str:
        with self.lock:
            if self.token is None or not _still_signed_in(self.token):
                self.token = _new_funded_user()
            return self.token

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def _still_signed_in(token: str) -> bool:
    answer = requests.get(f"{BASE_URL}/api/auth/get-session", headers={"Authorization": f"Bearer {token}"},
                          timeout=30)
    return answer.status_code == 200 and answer.json() is not None


def _new_funded_user() -> str:
    from genvid.billing import ledger
    email = f"fuzz-{uuid.uuid4().hex[:12]}@example.com"
    signed_up = requests.post(f"{BASE_URL}/api/auth/sign-up/email", headers=ORIGIN, timeout=30,
                              json={"name": "Fuzz", "email": email, "password": "correct horse battery"})
    signed_up.raise_for_status()
    body = signed_up.json()
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        ledger.grant(conn, user_id=body["user"]["id"], credits=CREDITS, reason="fuzz",
                     reference=uuid.uuid4().hex)
    return str(body["token"])


_catalogue: list[tuple[str, str]] = []


def _live_pairs(token: str) -> list[tuple[str, str]]:
    if not _catalogue:
        headers = {"Authorization": f"Bearer {token}"}
        avatars = requests.get(f"{BASE_URL}/api/avatars", headers=headers, timeout=30).json()["data"]
        voices = requests.get(f"{BASE_URL}/api/voices", headers=headers, timeout=30).json()["data"]
        _catalogue.extend((avatar["id"], voice["id"]) for avatar in avatars for voice in voices)
    return _catalogue


@schemathesis.hook("map_case").apply_to(path="/api/videos", method="POST")
def real_avatar_and_voice(context: Any, case: Any) -> Any:
    """Positive creates get a live avatar and voice half of the time (random ids are always 422)."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or not isinstance(case.body, dict):
        return case
    token = (case.headers or {}).get("Authorization", "").removeprefix("Bearer ")
    if token and random.random() < 0.5:
        case.body["avatar_id"], case.body["voice_id"] = random.choice(_live_pairs(token))
    return case


@schemathesis.hook("map_case").apply_to(path_regex="^/api/(batches|batch-previews)$", method="POST")
def real_template_avatar_and_voice(context: Any, case: Any) -> Any:
    """Positive JSON batches get a live avatar and voice in their template half of the time, and rows that
    fill in its variables, so batches are created and the stateful phase follows their links."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or not isinstance(case.body, dict):
        return case
    template = case.body.get("template")
    token = (case.headers or {}).get("Authorization", "").removeprefix("Bearer ")
    if token and isinstance(template, dict) and random.random() < 0.5:
        template["avatar_id"], template["voice_id"] = random.choice(_live_pairs(token))
        template["script"], template["title"] = "Hello {{name}}.", None
        case.body["rows"] = [{"name": f"Fuzz {n}"} for n in range(random.randint(1, 5))]
    return case
