"""The ``lichain factors`` command: list the shipped emission-factor library, so every number can be audited.

Kept in its own module so the main CLI wires it in with one line (``cli_factors.register(app)``).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from lichain.core.factors import Factor

__all__ = ["factors", "register"]


def _range(f: Factor) -> str:
    if f.low is None and f.high is None:
        return ""
    return f"{'' if f.low is None else f.low}–{'' if f.high is None else f.high}"


def factors(
    json_: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    key: Annotated[str | None, typer.Option("--key", help="Only keys starting with this prefix, e.g. grid: or "
                                                          "transport:sea.")] = None,
) -> None:
    """List emission factors: key, value, unit, range, basis, source and library version."""
    from lichain.core.factors import default_library

    lib = default_library()
    rows = lib.list(key)
    if json_:
        sys.stdout.write(json.dumps([f.to_json() for f in rows], indent=2, ensure_ascii=False) + "\n")
        return
    from lichain.entrypoints.console import out
    from lichain.entrypoints.tables import Col, print_table

    cols = [Col("key"), Col("value", "num"), Col("unit"), Col("range"), Col("basis"), Col("source"), Col("version")]
    print_table(out, cols, [(f.key, str(f.value), f.unit, _range(f), f.basis, f.source, f.version)
                                  for f in rows],
                title=f"emission factors, library {lib.version} ({len(rows)} of {len(lib)})")


def register(app: typer.Typer) -> None:
    """Add the ``factors`` command to ``app``."""
    app.command("factors")(factors)
