"""Generate ``docs/cli.md`` from the CLI's own help, so the documentation cannot drift from the code.

``python -m lichain.entrypoints.clidoc > docs/cli.md`` writes it; a test checks the file is current.
"""

from __future__ import annotations

import os
from typing import Any

import typer
from typer.testing import CliRunner

__all__ = ["render"]


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for name in sorted(group.commands):
        cmd = group.commands[name]
        path = (*prefix, name)
        if hasattr(cmd, "commands"):
            out.extend(_commands(cmd, path))
        else:
            out.append(path)
    return out


def render() -> str:
    """The Markdown reference of every command's ``--help``."""
    from lichain.entrypoints.cli import app

    os.environ["COLUMNS"] = "100"
    os.environ["TERM"] = "dumb"
    root = typer.main.get_command(app)
    runner = CliRunner()
    parts = ["# lichain command line", "", "Generated from the CLI's help by `python -m lichain.entrypoints.clidoc`;",
             "a test fails when this file is out of date.", ""]
    for path in _commands(root):
        res = runner.invoke(app, [*path, "--help"], prog_name="lichain", env={"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"})
        text = "\n".join(line.rstrip() for line in res.output.strip().splitlines())
        parts += [f"## lichain {' '.join(path)}", "", "```text", text, "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")
