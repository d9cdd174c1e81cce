"""docs/cli.md is generated from the CLI's help and must be current."""

from __future__ import annotations

from pathlib import Path

from lichain.entrypoints.clidoc import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_cli_reference_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/cli.md is stale: run `.venv/bin/python -m lichain.entrypoints.clidoc > docs/cli.md`")
