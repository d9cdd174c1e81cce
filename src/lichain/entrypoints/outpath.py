"""Check an ``--out`` path before a command does any work: a clear one-line usage error, never a traceback.

Every command with ``--out`` calls :func:`check_out` first, so writing into a missing folder, a file onto a
directory, or a folder onto a file stops with exit status 2 and a line naming the path (nothing computed,
nothing written).
"""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["check_out"]


def _refuse(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def check_out(path: Path | None, *, folder: bool = False) -> None:
    """Exit 2 unless ``path`` can be written: its parent folder exists, and it is a file (or, with ``folder``,
    a folder) or not there yet."""
    if path is None:
        return
    parent = path.absolute().parent
    if folder and path.exists() and not path.is_dir():
        _refuse(f"--out {path} is a file; give a folder to write into")
    if not folder and path.is_dir():
        _refuse(f"--out {path} is a directory; give a file name")
    if not parent.is_dir():
        _refuse(f"--out {path}: folder {parent} does not exist (create it first)")
