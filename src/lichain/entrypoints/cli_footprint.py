"""The ``lichain footprint`` and ``lichain export pcf`` commands: one lot's carbon footprint, and its Catena-X payload.

Kept in its own module so the main CLI wires both in with one line (``cli_footprint.register(app, export_app)``).
The helpers of :mod:`lichain.entrypoints.cli` (``store_for``, ``emit``, ``fail``) are imported when a command
runs, so that ``cli`` may import this module at its top.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from lichain.services.footprint_results import LotFootprint

__all__ = ["export_pcf", "footprint", "register"]

Db = Annotated[str | None, typer.Option("--db", help="Database URL or SQLite path (default: LICHAIN_DB or ./lichain.db).")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _footprint(db: str | None, lot: str, capacity: float | None, voltage: float | None) -> dict[str, Any]:
    from lichain.core.errors import LichainError
    from lichain.entrypoints.console import fail, store_for
    from lichain.services.footprint import footprint_of

    try:
        return footprint_of(store_for(db), lot, capacity, voltage)
    except (LichainError, ValueError) as exc:
        fail(str(exc))


def _lot_footprint(db: str | None, lot: str, capacity: float | None, voltage: float | None) -> LotFootprint:
    from lichain.core.errors import LichainError
    from lichain.entrypoints.console import fail, store_for
    from lichain.services.footprint import lot_footprint

    try:
        return lot_footprint(store_for(db), lot, capacity, voltage)
    except (LichainError, ValueError) as exc:
        fail(str(exc))


def _table(title: str, rows: dict[str, float], total: float, unit: str = "kg CO2e/kg") -> Table:
    t = Table(title=title)
    t.add_column("")
    t.add_column(unit, justify="right")
    t.add_column("share", justify="right")
    for k, v in rows.items():
        t.add_row(k.replace("_", " "), f"{v:,.4f}", f"{v / total:.1%}" if total else "")
    return t


def _render(d: LotFootprint) -> None:
    out = Console()
    out.print(f"[bold]{d.lot}[/bold]  {d.material} ({d.stage}) at {d.site}, {d.mass_kg:,.3f} kg")
    loc, mkt = d.location_based, d.market_based
    out.print(f"cradle-to-gate footprint: [bold]{loc.kg_co2e_per_kg:.4f} kg CO2e/kg[/bold] location-based "
              f"({loc.kg_co2e:,.1f} kg CO2e), market-based {mkt.kg_co2e_per_kg:.4f} kg CO2e/kg")
    out.print(f"own step (this lot's share of its run, commissioning and shipments): {d.own_kg_co2e:,.2f} kg CO2e; "
              f"from inputs: {d.upstream_kg_co2e:,.2f} kg CO2e")
    total = d.kg_co2e_per_kg
    for rows, title in ((d.by_stage, "by life-cycle stage"), (d.by_cause, "by cause"), (d.by_site, "by site")):
        out.print(_table(title, rows, total))
    if d.per_kwh is not None:
        k = d.per_kwh
        out.print(f"per kWh: {k.kg_co2e_per_kwh:.3f} kg CO2e/kWh at {k.capacity_mah_per_g:g} mAh/g × "
                  f"{k.voltage_v:g} V ({k.kwh_per_kg:.3f} kWh/kg); {k.note}", highlight=False)
    if not d.complete:
        out.print("[yellow]incomplete:[/yellow] the lot's upstream lacks data (a datum without an emission factor, "
                  "or a purchased lot without activity data or a supplier PCF):")
    if d.contributions:
        out.print("by source (what each part rests on):")
    for c in d.contributions:
        out.print(f"  {c.kg_co2e_per_kg:.4g} kg CO2e/kg from {c.source}", markup=False, highlight=False)
    for p in d.problems[:20]:
        out.print(f"  {p.kind} ({p.count}×, e.g. {p.location}): {p.message}", markup=False, highlight=False)
    if len(d.problems) > 20:
        out.print(f"showing 20 of {len(d.problems):,} problems; --json for all", highlight=False)
    for n in d.notes:
        out.print(f"[dim]{n}[/dim]", highlight=False)


def footprint(
    lot: Annotated[str, typer.Argument(help="Lot id (EPC URN or GS1 Digital Link URI).")],
    db: Db = None,
    json_: Json = False,
    capacity: Annotated[float | None, typer.Option("--capacity-mah-g", help="Specific capacity of a CAM "
                                                   "[mAh/g] for the per-kWh figure (NCM811 default 200).")] = None,
    voltage: Annotated[float | None, typer.Option("--voltage", help="Average voltage [V] for the per-kWh figure "
                                                  "(NCM811 default 3.7).")] = None,
) -> None:
    """Cradle-to-gate carbon footprint of one lot, with its breakdown by stage, cause and site."""
    from lichain.entrypoints.console import emit

    d = _lot_footprint(db, lot, capacity, voltage)
    if json_:
        emit(d)
    else:
        _render(d)


def export_pcf(
    lot: Annotated[str, typer.Argument(help="Lot id (EPC URN or GS1 Digital Link URI).")],
    db: Db = None,
    out_path: Annotated[Path | None, typer.Option("--out", help="File (default: stdout).")] = None,
    bpnl: Annotated[str | None, typer.Option("--bpnl", help="Your Catena-X legal entity BPN (BPNL…).")] = None,
    bpns: Annotated[str | None, typer.Option("--bpns", help="The producing site's Catena-X BPN (BPNS…).")] = None,
    customer_part_id: Annotated[str | None, typer.Option(help="The customer's part id (default: material code).")]
    = None,
    study_url: Annotated[str | None, typer.Option(help="Link to the public supporting study.")] = None,
    allow_incomplete: Annotated[bool, typer.Option(
        "--allow-incomplete", help="Write an incomplete footprint anyway, marked: data-quality ratings 5 and "
        "INCOMPLETE with the missing inputs in productQualityParameter (absPcfValue is then a lower bound). "
        "Without it an incomplete lot is refused with exit 1.")] = False,
) -> None:
    """Write the Catena-X pcf_for_battery_component_supplier 1.0.0 payload of one lot (schema-checked).

    A lot whose upstream lacks activity data or a supplier PCF is refused (exit 1) with the missing inputs named.
    """
    from lichain.core.errors import LichainError
    from lichain.entrypoints.console import EXIT_REFUSED, err, fail, out, store_for
    from lichain.entrypoints.outpath import check_out
    from lichain.io.pcf import IncompleteFootprintError
    from lichain.services.pcf_export import pcf_document

    check_out(out_path)
    try:
        payload, d = pcf_document(store_for(db), lot, bpnl=bpnl, bpns=bpns, customer_part_id=customer_part_id,
                                  study_url=study_url, allow_incomplete=allow_incomplete)
    except IncompleteFootprintError as exc:
        fail(f"{exc}; record the missing data, or pass --allow-incomplete to write a marked lower bound",
             EXIT_REFUSED)
    except (LichainError, ValueError) as exc:
        fail(str(exc))
    if not (bpnl and bpns):
        err.print("warning: placeholder BPNs written; give --bpnl and --bpns", highlight=False)
    if not d["complete"]:
        err.print("warning: the footprint is incomplete; written marked INCOMPLETE with data-quality ratings 5 "
                  "(see `lichain footprint LOT`)", highlight=False)
    text = json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
    if out_path is None:
        typer.echo(text, nl=False)
        return
    out_path.write_text(text, encoding="utf-8")
    out.print(f"PCF payload of {d['lot']} written to {out_path}")


def register(app: typer.Typer, export_app: typer.Typer) -> None:
    """Add ``footprint`` to ``app`` and ``pcf`` to the ``export`` group."""
    app.command("footprint")(footprint)
    export_app.command("pcf")(export_pcf)
