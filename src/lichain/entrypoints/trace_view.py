"""Terminal view of a downstream trace by group: one table per stage whose shares sum to 1, and what they mean.

Why a module of its own: a recall reads "where did this lot's nickel go" stage by stage; summing per-lot shares
over stages (the old single table) showed figures above 1 without saying why. Kept apart from
:mod:`lichain.entrypoints.cli` so the command wires it in with one call.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["print_per_stage"]


def print_per_stage(out: Console, d: dict[str, Any]) -> None:
    """Print ``d["per_stage"]`` of :func:`lichain.services.trace.trace_lot` (``--down --by``), then the meaning."""
    els = d["elements"]
    for stage, split in d["per_stage"].items():
        reached = ", ".join(f"{e} {split['element_kg'][e]:,.2f} kg" for e in els)
        t = Table(title=f"stage {stage}: traced lot's element reaching it ({reached}), by {d['by']}")
        t.add_column(d["by"])
        for e in els:
            t.add_column(f"{e} kg", justify="right")
            t.add_column(f"{e} share of stage", justify="right")
        for g, v in list(split["groups"].items())[:30]:
            t.add_row(g, *[x for e in els for x in (f"{v['element_kg'][e]:,.2f}", "—" if v["share_of_stage"][e]
                                                   is None else f"{v['share_of_stage'][e]:.4f}")])
        out.print(t)
        if len(split["groups"]) > 30:
            out.print(f"({len(split['groups']) - 30} more groups; --json for all)")
    out.print(f"[dim]Shares: {d['shares_meaning']}[/dim]")
