"""README docs test: every command in README.md's ``bash`` code blocks runs verbatim, in order, on a fresh ledger.

Like datasette's documentation tests: the commands are read from the README itself (so an edited README is what
is tested), split as a shell would (``shlex``), and run in one empty temporary folder through the CLI in-process.
Each must exit 0 and say something sensible: JSON that parses when ``--json`` is asked for, a written file when
``--out`` is given, otherwise non-empty text, never an error line. The set-up block's ``make demo`` / ``make
test`` are the bootstrap itself (``make test`` runs this suite), so they are the only lines not run here, and
the test pins that list so nothing else can slip out of it. The README's demo is small (``--lots 3000``).
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lichain.entrypoints.cli import app

README = Path(__file__).resolve().parents[2] / "README.md"
NOT_RUN = ["make demo", "make test"]  # the bootstrap: `make test` runs this very suite


def readme_commands() -> list[str]:
    """The command lines of README.md's bash code blocks, comments stripped, in order."""
    blocks = re.findall(r"^```bash\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M)
    lines = [shlex.join(shlex.split(line, comments=True)) for b in blocks for line in b.splitlines()]
    return [line for line in lines if line]


def test_only_the_bootstrap_is_left_out() -> None:
    cmds = readme_commands()
    assert [c for c in cmds if not c.startswith("lichain ")] == NOT_RUN
    assert len([c for c in cmds if c.startswith("lichain ")]) >= 30


def _out_path(args: list[str]) -> Path | None:
    return Path(args[args.index("--out") + 1]) if "--out" in args else None


def test_every_readme_command_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LICHAIN_DB", raising=False)  # the README's ledger is ./lichain.db
    runner = CliRunner()
    ran = 0
    for line in readme_commands():
        if not line.startswith("lichain "):
            continue
        args = shlex.split(line)[1:]
        r = runner.invoke(app, args, catch_exceptions=False)
        assert r.exit_code == 0, f"{line}\n{r.output}"
        assert "error:" not in r.output.lower(), f"{line}\n{r.output}"
        out = _out_path(args)
        if "--json" in args:
            assert json.loads(r.stdout), line  # parses, and is not empty
            named = [a for a in args if a.startswith("https://id.gs1.org/")]
            assert all(lot in r.stdout for lot in named), line  # about the lot it was asked about
        elif out is not None:
            assert out.exists() and ((out.is_dir() and any(out.iterdir())) or out.stat().st_size > 0), line
        else:
            assert r.stdout.strip(), line
        ran += 1
    assert Path("lichain.db").exists() and ran == len(readme_commands()) - len(NOT_RUN)
