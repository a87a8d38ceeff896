"""schemathesis against the whole API as gunicorn serves it: every operation of /api/openapi.json (/api/auth
included) fuzzed with valid and invalid data by a signed-in user, then followed along the document's links
(a created video's show, events and delete). Passes with no server error and no answer that contradicts the
document (status, content type, headers, body schema), every check on but those tests/schemathesis.toml
turns off and says why.

Bounded in time (FUZZ_SECONDS, 100 s in the suite: a slower machine runs fewer cases, it does not take longer;
GENVID_FUZZ_SECONDS runs it longer), with a fixed seed so a failure in CI replays; GENVID_FUZZ_SEED picks
another. The summary is printed (-s).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Services
from fakes.stripe import WEBHOOK_SECRET, FakeStripe
from live_stack import ROOT, Gunicorn, genvid_env

pytestmark = pytest.mark.slow
FUZZ_SECONDS = int(os.environ.get("GENVID_FUZZ_SECONDS", "100"))
TESTS = Path(__file__).resolve().parent


@pytest.fixture
def web(app, services: Services, fake_stripe: FakeStripe, tmp_path: Path) -> Iterator[Gunicorn]:  # type: ignore[no-untyped-def]
    """gunicorn on the test database (cleaned by `app`), billing through the fake Stripe, a synced catalogue,
    and event streams that end after a second (a stream of a queued video would otherwise hold its case)."""
    (tmp_path / "config.json").write_text('{"event_stream_seconds": 1, "stripe_timeout_seconds": 2}')
    env = genvid_env(database_url=services.database_url, redis_url=services.redis_url, data_dir=tmp_path,
                     CONFIG_FILE=str(tmp_path / "config.json"), LOG_LEVEL="WARNING",
                     STRIPE_SECRET_KEY=fake_stripe.api_key, STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
                     STRIPE_API_BASE=fake_stripe.base_url)
    subprocess.run([sys.executable, "-m", "genvid.cli", "catalog", "sync"], env=env, cwd=ROOT, check=True,
                   capture_output=True, timeout=120)
    server = Gunicorn(env, tmp_path / "gunicorn.log")
    yield server
    server.close()


def test_the_api_keeps_its_document_under_fuzzing(web: Gunicorn, services: Services, tmp_path: Path) -> None:
    env = {**os.environ, "GENVID_FUZZ_BASE_URL": web.url, "GENVID_FUZZ_DATABASE_URL": services.database_url,
           "SCHEMATHESIS_HOOKS": "schemathesis_hooks", "PYTHONPATH": str(TESTS), "NO_COLOR": "1"}
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(TESTS / "schemathesis.toml"),
               "run", f"{web.url}/api/openapi.json", "--max-time", str(FUZZ_SECONDS), "--max-redirects", "0",
               "--seed", os.environ.get("GENVID_FUZZ_SEED", "20261205"), "--request-timeout", "30",
               "--report", "junit", "--report-dir", str(tmp_path / "report"),
               # Hypothesis's health checks judge data generation (its speed above all), not the API: on a
               # busy machine they would fail a run that found nothing wrong.
               "--suppress-health-check", "all"]
    done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, check=False,
                          timeout=FUZZ_SECONDS * 4)
    output = done.stdout + done.stderr
    summary = output[output.find("= SUMMARY ="):] if "= SUMMARY =" in output else output[-3000:]
    print(summary)
    assert done.returncode == 0, output[-20000:]
    generated = re.search(r"(\d+) generated", summary)
    assert generated and int(generated.group(1)) >= 200, "schemathesis ran too few cases to mean anything"
    tested = re.search(r"Tested: (\d+)", summary)
    assert tested and int(tested.group(1)) >= 40, "every documented operation must be tested"
    for phase in ("Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in summary, f"the {phase} phase did not pass"
    assert "ST1" not in summary and "ST2" not in summary and "ST3" not in summary
