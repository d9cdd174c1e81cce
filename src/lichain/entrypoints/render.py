"""Human-readable rendering of service results for the terminal (Rich)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from lichain.services.demo import DemoReport

__all__ = ["print_demo_report"]


def print_demo_report(out: Console, r: DemoReport) -> None:
    """The short report `lichain demo` prints: counts per stage, balance status, one sample CAM lot."""
    if not r.ok or r.stages is None or r.balance is None or r.verify is None:
        from lichain.entrypoints.console import err

        err.print("[red]demo chain refused[/red]")
        for p in r.problems[:20]:
            err.print(f"  {p.location}: {p.message}", markup=False, highlight=False)
        return
    out.print(f"ledger {r.db}: {r.events_written} events written, {r.events_skipped} already on record "
              f"in {r.seconds} s")
    t = Table(title="lots per stage")
    t.add_column("stage")
    t.add_column("lots", justify="right")
    t.add_column("mass (t)", justify="right")
    for stage, v in sorted(r.stages.items()):
        t.add_row(stage, f"{v.lots:,}", f"{v.mass_kg / 1000:,.1f}")
    out.print(t)
    b = r.balance
    status = "[green]all balanced[/green]" if b.problems == 0 else f"[red]{b.problems} problems[/red]"
    out.print(f"mass balance: {b.runs_checked:,} runs checked (Ni, Co, Mn, Li): {status}")
    c = r.verify
    out.print(f"hash chain: {'ok' if c.ok else 'BROKEN'}, {c.events:,} events, head {c.head[:16]}…")
    m = r.manufacturing
    if m:
        out.print(f"manufacturing: {m.readings:,} process readings on {len(m.lines)} lines, {m.certificates:,} "
                  f"certificates of analysis; out of specification: {m.out_of_spec_lot or '-'} (deviation "
                  f"{m.deviation or '-'}) (docs/manufacturing.md)", highlight=False, soft_wrap=True)
    lot = r.sample_cam_lot
    if lot:
        out.print(f"\nsample CAM lot [bold]{lot.id}[/bold] ({lot.material}, {lot.mass_kg} kg at {lot.site})")
        out.print("  assay: " + ", ".join(f"{e} {x:.4f}" for e, x in lot.assay.items()))
        if lot.run:
            out.print(f"  made by {lot.run.kind} run {lot.run.id} from:")
        for i in lot.inputs:
            out.print(f"    {i.lot}  {i.mass_kg} kg")
