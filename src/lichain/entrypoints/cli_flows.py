"""``lichain flows``: one element's flows between chain stages in a period (the numbers behind the Sankey).

Kept in its own module so the main CLI wires it in with one line; the use case is
:func:`lichain.services.flows.element_flows`, this module only presents it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from lichain.entrypoints.console import Db, Json

__all__ = ["flows", "register"]


def flows(
    element: Annotated[str, typer.Option("--element", "-e", help="Tracked element: Ni, Co, Mn or Li.")] = "Ni",
    period: Annotated[str | None, typer.Option(
        "--period", help="Lots made in 2026, 2026-Q1, 2026-03 or 2026-01-01..2026-06-30 (default: all).")] = None,
    db: Db = None, json_: Json = False,
) -> None:
    """Element mass (kg) moved between chain stages (mine → refining → pCAM → CAM → cells → recycling → back).

    Example: lichain flows --element Co --period 2026 --json
    """
    from lichain.core.errors import NotFoundError, PeriodError
    from lichain.entrypoints.console import EXIT_REFUSED, emit, fail, out, store_for
    from lichain.entrypoints.tables import Col, print_table
    from lichain.services.flows import element_flows

    try:
        r = element_flows(store_for(db), element, period)
    except (NotFoundError, PeriodError) as exc:
        fail(str(exc).strip("'\""), EXIT_REFUSED)
    if json_:
        emit(r)
        return
    out.print(f"{r.element} flows between stages [kg], lots made in {r.period or 'the whole ledger'}",
              highlight=False, markup=False)
    print_table(out, [Col("from"), Col("to"), Col(f"{r.element} kg", "num"), Col("edges", "num")],
                [[k.source, k.target, f"{k.element_kg:,.1f}", str(k.edges)] for k in r.links])
    for k in r.within_stage:
        out.print(f"  within {k.source}: {k.element_kg:,.1f} kg ({k.edges} edges, not drawn)", markup=False)


def register(app: typer.Typer) -> None:
    """Add ``flows`` to ``app``."""
    app.command("flows")(flows)
