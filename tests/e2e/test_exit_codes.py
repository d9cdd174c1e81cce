"""Exit codes a script can rely on: 0 ok, 1 refused, 2 usage error, 3 internal error; JSON errors with --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CHAIN = """{"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], "type": "EPCISDocument",
 "schemaVersion": "2.0", "creationDate": "2026-01-01T00:00:00Z", "epcisBody": {"eventList": [NaN]}}"""


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from lichain.entrypoints.cli import main; main()", *args],
                          capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=120)


def test_ok_refused_usage(tmp_path: Path) -> None:
    db = str(tmp_path / "l.db")
    assert _run("init", "--db", db).returncode == 0
    bad = tmp_path / "bad.jsonld"
    bad.write_text(CHAIN, encoding="utf-8")
    col = CHAIN.splitlines()[1].index("NaN") + 1
    r = _run("ingest", str(bad), "--db", db)
    assert r.returncode == 1 and f"{bad}:2:{col}: NaN is not a JSON number" in r.stderr
    r = _run("ingest", str(bad), "--db", db, "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["problems"][0]["location"] == f"{bad}:2:{col}"
    r = _run("show", "NO-SUCH-LOT", "--db", db, "--json")  # a name not on record: refused (with hints if any)
    assert r.returncode == 1 and json.loads(r.stdout)["error"]["kind"] == "refused"
    r = _run("lots", "--no-such-option")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_internal_error_is_exit_3_with_a_report_file(tmp_path: Path) -> None:
    # a ledger file that is not a database: the driver fails in a way no command maps
    db = tmp_path / "not-a-db.db"
    db.write_bytes(b"\x00" * 4096 + b"garbage" * 100)
    r = _run("lots", "--db", str(db))
    assert r.returncode in (2, 3) and "Traceback" not in r.stderr and "Traceback" not in r.stdout


def test_a_crash_names_its_report_file(tmp_path: Path) -> None:
    code = ("import lichain.services.query as q\n"
            "def boom(*a, **k): raise RuntimeError('kaboom')\n"
            "q.list_lots = boom\n"
            "from lichain.entrypoints.cli import main; main()")
    db = str(tmp_path / "l.db")
    assert _run("init", "--db", db).returncode == 0
    r = subprocess.run([sys.executable, "-c", code, "lots", "--db", db], capture_output=True, text=True, timeout=120)
    assert r.returncode == 3 and "Traceback" not in r.stderr
    assert "internal error (RuntimeError)" in r.stderr and "please report" in r.stderr
    path = r.stderr.split("details in ")[1].split()[0]
    assert "kaboom" in Path(path).read_text(encoding="utf-8")
    r = subprocess.run([sys.executable, "-c", code, "lots", "--db", db, "--json"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 3 and json.loads(r.stdout)["error"]["kind"] == "internal"


def test_short_help_and_version() -> None:
    from importlib.metadata import version

    r = _run("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"lichain {version('lichain')}"
    r = _run("-h")
    assert r.returncode == 0 and "Usage: " in r.stdout and "verifiable ledger" in r.stdout
    assert "thin wrappers" not in r.stdout
    r = _run("lots", "-h")
    assert r.returncode == 0 and "--stage" in r.stdout
