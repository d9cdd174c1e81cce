"""The ``lichain report`` commands: management reports rendered from the ledger (``report esg``).

Kept in its own module so the main CLI wires it in with one line (``cli_report.register(app)``); the shared
helpers of :mod:`lichain.entrypoints.cli` are imported when a command runs, which keeps the import acyclic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["esg", "register"]

report_app = typer.Typer(no_args_is_help=True, help="Management reports (ESG) from the ledger.")


@report_app.command("esg")
def esg(
    period: Annotated[str, typer.Option("--period", help="2026, 2026-Q1, 2026-03 or 2026-01-01..2026-06-30 "
                                                         "(runs belong to the period by their end time).")],
    out_path: Annotated[Path | None, typer.Option("--out", help="Write the self-contained HTML report here.")]
    = None,
    organisation: Annotated[str | None, typer.Option(
        "--organisation", help="Reporting organisation: its sites form Scope 1+2, other organisations' sites are "
                               "shown apart as Scope 3 context (default: the ledger owner declared in master "
                               "data).")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    db: Annotated[str | None, typer.Option("--db", help="Database URL or SQLite path (default: LICHAIN_DB or "
                                                        "./lichain.db).")] = None,
) -> None:
    """ESG indicators per site: energy, Scope 1/2, water, waste, recycled input, recovery, footprints."""
    from rich.console import Console
    from rich.table import Table

    from lichain.core.errors import LichainError
    from lichain.entrypoints.console import emit, fail, store_for
    from lichain.entrypoints.outpath import check_out
    from lichain.io.report_html import render_esg_html
    from lichain.services.esg import esg_report

    check_out(out_path)
    from lichain.entrypoints.present import jsonable

    try:
        result = esg_report(store_for(db), period, organisation)
    except LichainError as exc:
        fail(str(exc))
    report = jsonable(result)
    if out_path is not None:
        try:
            out_path.write_text(render_esg_html(report), encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {out_path}: {exc}")
    if json_:
        emit(result)
        return
    con = Console()
    per, org = report["period"], report["organisation"]
    k = Table(title=f"Key figures {per['label']}, {org['name']} (vs {report['kpis']['previous_period']['label']})")
    for c in ("figure", "value", "previous", "trend", "target"):
        k.add_column(c, justify="left" if c in ("figure", "trend") else "right")
    for f in report["kpis"]["figures"]:
        sc, u = (100, " %") if f["unit"] == "share" else (1, " " + f["unit"])
        k.add_row(f["label"], *[_people(f[x], sc) + u if f[x] is not None else "—" for x in ("value", "previous")],
                  f["trend"], "" if f.get("target") is None else _people(f["target"], sc) + u)
    con.print(k)
    t = Table(title=f"ESG {per['label']} ({per['start']} to {per['end']}), Scope 1+2 boundary: {org['name']}")
    for c in ("site", "kind", "energy MJ", "Scope 1 t", "Scope 2 loc t", "Scope 2 mkt t", "water m³"):
        t.add_column(c, justify="left" if c in ("site", "kind") else "right")
    ctx = report["scope3_context"]
    groups = ([*report["sites"], {"id": f"{org['name']} total", "kind": "", **report["totals"]}],
              [*ctx["sites"], {"id": "Scope 3 context total", "kind": "other orgs", **ctx["totals"]}])
    for group in groups:
        for s in group:
            e = s["emissions"]
            t.add_row(s["id"], s["kind"], f"{s['energy']['total_mj']:,.0f}", f"{e['scope1_kg_co2e'] / 1000:,.1f}",
                      f"{e['scope2_location_kg_co2e'] / 1000:,.1f}", f"{e['scope2_market_kg_co2e'] / 1000:,.1f}",
                      f"{s['water_m3']:,.0f}")
        t.add_section()
    con.print(t)
    if out_path is not None:
        con.print(f"HTML report written to {out_path}")


def _people(v: float | None, scale: float = 1) -> str:
    from lichain.io.report_kpi import fmt_people

    return fmt_people(v, scale)


def register(app: typer.Typer) -> None:
    """Add the ``report`` command group to ``app``."""
    app.add_typer(report_app, name="report")
