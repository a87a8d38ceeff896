"""The checks `make lint` runs beyond ruff and mypy: no SQL strings outside queries/ and migrations/
(tools/check_sql.py) and the import rules (.importlinter), each run as `make lint` runs it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def check_sql(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "tools/check_sql.py", *map(str, paths)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


def test_genvid_holds_no_sql_but_the_allowed_statements() -> None:
    result = check_sql()
    assert result.returncode == 0, result.stderr
    assert "5 allowed, each with its reason" in result.stdout


def test_sql_in_any_letter_case_or_in_an_f_string_is_found_and_prose_is_not(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text('''
def run(conn, table):
    conn.execute("SELECT id, name FROM videos WHERE id = %s", ("x",))
    conn.execute("""
        update videos set status = 'failed' where id = %s""", ("x",))
    conn.execute(f"DELETE FROM {table} WHERE id = 1")
    conn.execute("with due as (select 1) select * from due")
    conn.execute("INSERT INTO videos (id) VALUES (%s)", ("x",))
    message = "Update the script, then Select a voice. Set MEDIA_STORAGE_URL to keep media elsewhere."
    hint = "With object storage, delete from the bucket by hand. Copy a file:// URL to destination."
    return message, hint
''')
    result = check_sql(module)
    assert result.returncode == 1
    flagged = [line for line in result.stderr.splitlines() if "SQL outside queries/" in line]
    assert [line.split(":")[1] for line in flagged] == ["3", "4", "6", "7", "8"], result.stderr


def test_the_import_rules_hold_and_a_domain_module_importing_flask_breaks_them(tmp_path: Path) -> None:
    """lint-imports passes on genvid as it is, and fails on a copy where plain domain code imports Flask."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    kept = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert kept.returncode == 0, kept.stdout + kept.stderr

    copy = tmp_path / "copy"
    copy.mkdir()
    for part in ("genvid", "db", ".importlinter"):
        subprocess.run(["cp", "-r", str(ROOT / part), str(copy)], check=True)
    service = copy / "genvid" / "videos" / "service.py"
    service.write_text(service.read_text() + "\nfrom flask import request  # domain code reads the request\n")
    broken = subprocess.run([str(lint_imports), "--no-cache"], cwd=copy, capture_output=True, text=True,
                            timeout=120, check=False, env={"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"})
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "genvid.videos.service -> flask" in broken.stdout
