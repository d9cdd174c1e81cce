"""The circularity commands: ``recycled``, ``recovery``, ``art8`` and ``export secondary-material``.

Kept in its own module so the main CLI wires them in with one line (``cli_circularity.register(app, export_app)``).
The helpers of :mod:`lichain.entrypoints.cli` (``store_for``, ``emit``, ``fail``) are imported when a command
runs, so that ``cli`` may import this module at its top.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

__all__ = ["art8", "claim", "export_secondary_material", "recovery", "recycled", "register"]

Db = Annotated[str | None, typer.Option("--db", help="Database URL or SQLite path (default: LICHAIN_DB or ./lichain.db).")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


_T = TypeVar("_T")


def _run(db: str | None, call: Callable[[Any], _T]) -> _T:
    from lichain.core.errors import LichainError
    from lichain.entrypoints.console import fail, store_for

    try:
        return call(store_for(db))
    except (LichainError, ValueError, KeyError) as exc:
        fail(str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc))


def _emit(d: Any) -> None:
    from lichain.entrypoints.console import emit

    emit(d)


def _short(key: str) -> str:
    """``eu.annex12.2027.Co`` → ``EU 2027``; ``cn.miit2024.Li`` → ``CN 2024``."""
    parts = key.split(".")
    year = parts[2] if parts[0] == "eu" else parts[1][-4:]
    return f"{parts[0].upper()} {year}"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.2%}"


def recycled(lot: str, db: Db = None, json_: Json = False) -> None:
    """Recycled share per element of one lot: physical (pre/post-consumer) beside the claimed (allocated) one."""
    from lichain.services.circularity import recycled as run

    d = _run(db, lambda s: run(s, lot))
    if json_:
        _emit(d)
        return
    from lichain.entrypoints.console import out
    from lichain.entrypoints.tables import Col, print_table

    out.print(f"[bold]{d.lot}[/bold]  {d.material} ({d.stage}) at {d.site}, {d.mass_kg:,.3f} kg")
    cols = [Col("element"), *(Col(c, "num") for c in ("element kg", "pre-consumer", "post-consumer", "recycled",
                                                       "alloc. pre", "alloc. post"))]
    print_table(out, cols, [(e, f"{v.element_kg:,.3f}", _pct(v.pre_consumer), _pct(v.post_consumer),
                             _pct(v.recycled), _pct(v.allocated_pre_consumer),
                             _pct(v.allocated_post_consumer)) for e, v in d.elements.items()],
                title="recycled share of element mass (physical | allocated by custody claims)")
    for c in d.claims:
        out.print(f"claim {c.claim} ({c.model}, {c.site}): {c.element} pre {c.pre_consumer_kg:,.3f} kg, "
                  f"post {c.post_consumer_kg:,.3f} kg", highlight=False)


_ORG_HELP = ("Reporting organisation: only its sites count in a period (default: the ledger owner declared in "
             "master data; every site when none is declared among several organisations).")


def recovery(
    db: Db = None, json_: Json = False,
    recycler: Annotated[str | None, typer.Option("--recycler", help="Recycler site id (default: every recycler).")]
    = None,
    period: Annotated[str, typer.Option("--period", help="2026, 2026-Q1, 2026-03 or START..END (UTC).")] = "2026",
    organisation: Annotated[str | None, typer.Option("--organisation", help=_ORG_HELP)] = None,
) -> None:
    """Recovery efficiency per element and recycler (black mass in → recovered products out) vs Annex XII / MIIT."""
    from lichain.services.circularity import recovery as run

    d = _run(db, lambda s: run(s, recycler=recycler, period=period, organisation=organisation))
    if json_:
        _emit(d)
        return
    from lichain.entrypoints.console import out
    from lichain.entrypoints.tables import Col, print_table

    out.print(f"period {d.period.start} .. {d.period.end}: {d.status}")
    for r in d.recyclers:
        rows = []
        for e, v in r.elements.items():
            marks = "; ".join(f"{_short(x.key)} ≥{x.minimum:.0%} {'ok' if x.meets else 'below'}"
                              for x in v.targets if x.meets is not None)
            rows.append((e, f"{v.black_mass_in_kg:,.1f}", f"{v.recovered_kg:,.1f}", _pct(v.recovery),
                         _pct(v.overall), marks))
        print_table(out, [Col("element"), Col("black mass in kg", "num"), Col("recovered kg", "num"),
                          Col("recovery", "num"), Col("overall", "num"), Col("targets (indicative)")], rows,
                    title=f"{r.site} ({r.runs} recovery runs)")


def art8(
    db: Db = None, json_: Json = False,
    lot: Annotated[str | None, typer.Option("--lot", help="One lot.")] = None,
    customer: Annotated[str | None, typer.Option("--customer", help="An organisation receiving shipments.")] = None,
    period: Annotated[str | None, typer.Option("--period", help="2026, 2026-Q1, 2026-03 or START..END (UTC).")]
    = None,
    stage: Annotated[str, typer.Option("--stage", help="Material stage of a customer's or period's lots.")] = "cam",
    organisation: Annotated[str | None, typer.Option("--organisation", help=_ORG_HELP)] = None,
) -> None:
    """Recycled Co, Li, Ni shares vs the Art. 8 minimums, for a lot, a customer's deliveries or a period."""
    from lichain.entrypoints.cli_lists import check_names
    from lichain.services.circularity import art8 as run

    check_names(db, organisation=customer)  # a mistyped customer is refused with hints, not "0 shipments"
    d = _run(db, lambda s: run(s, lot=lot, customer=customer, period=period, stage=stage,
                               organisation=organisation))
    if json_:
        _emit(d)
        return
    from lichain.entrypoints.console import out
    from lichain.entrypoints.present import jsonable
    from lichain.entrypoints.tables import Col, print_table

    out.print(f"{d.regulation}: {d.status}")
    scope = {k: v for k, v in jsonable(d.scope).items() if v is not None}
    out.print("scope: " + json.dumps(scope, ensure_ascii=False), highlight=False)
    rows = []
    for e, v in d.elements.items():
        mins = [x.minimum for x in v.vs_physical]
        rows.append((e, f"{v.element_kg:,.1f}", _pct(v.recycled), _pct(v.allocated_recycled),
                     *[f"{m:.0%}" for m in mins[:2]]))
    print_table(out, [Col("element"), *(Col(c, "num") for c in ("element kg", "physical", "allocated", "2031",
                                                                  "2036"))], rows,
                title="recycled share of element mass vs minimums (2031 | 2036)")


def export_secondary_material(
    lot: str, db: Db = None,
    out_path: Annotated[Path | None, typer.Option("--out", help="File (default: stdout).")] = None,
    order: Annotated[str | None, typer.Option("--order", help="Order number (default: the lot's first shipment).")]
    = None,
    basis: Annotated[str, typer.Option("--basis", help="auto, physical or allocated shares.")] = "auto",
    automotive: Annotated[bool, typer.Option("--automotive", help="Post-consumer material is from end-of-life "
                                                                  "vehicles.")] = False,
) -> None:
    """Export a lot's recycled content as a Catena-X secondary_material_content_calculated 1.0.0 payload."""
    from lichain.entrypoints.outpath import check_out
    from lichain.services.circularity import secondary_material as run

    check_out(out_path)
    d = _run(db, lambda s: run(s, lot, order_number=order, basis=basis, automotive=automotive))
    text = json.dumps(d, indent=2, ensure_ascii=False) + "\n"
    if out_path is None:
        typer.echo(text, nl=False)
        return
    out_path.write_text(text, encoding="utf-8")
    Console().print(f"secondary-material payload of {lot} written to {out_path}")


def claim(
    site: Annotated[str, typer.Argument(help="The boundary: the site whose outputs get the allocation.")],
    period: Annotated[str, typer.Option(help="2026, 2026-Q1, 2026-03 or START..END.")],
    model: Annotated[str, typer.Option(help="segregated, controlled_blending, mass_balance_rolling_average or "
                                             "mass_balance_credit.")],
    claim_id: Annotated[str | None, typer.Option("--id", help="Claim id (default: SITE/PERIOD/MODEL).")] = None,
    record: Annotated[bool, typer.Option("--record", help="Write the claim to the ledger (default: only show it).")]
    = False,
    db: Db = None, json_: Json = False,
) -> None:
    """Propose the largest chain-of-custody claim the ledger allows for a site and period; --record writes it."""
    from lichain.entrypoints.console import fail
    from lichain.services.circularity import claim as run

    d = _run(db, lambda s: run(s, site, period, model, claim_id=claim_id, record=record))
    if json_:
        _emit(d)
    else:
        Console().print(f"claim {d.id}: {d.allocations} allocations, "
                        + ", ".join(f"{e} pre {v.pre_consumer:,.3f} kg / post {v.post_consumer:,.3f} kg"
                                    for e, v in d.allocated_kg.items())
                        + (" — recorded" if d.recorded else " (not recorded; add --record)"))
    if record and not d.recorded and d.allocations:
        fail("claim refused: " + "; ".join(p.message for p in d.problems), 1)


def register(app: typer.Typer, export_app: typer.Typer) -> None:
    """Add ``recycled``, ``recovery``, ``art8``, ``claim`` to ``app`` and ``secondary-material`` to ``export_app``."""
    app.command("claim")(claim)
    app.command("recycled")(recycled)
    app.command("recovery")(recovery)
    app.command("art8")(art8)
    export_app.command("secondary-material")(export_secondary_material)
