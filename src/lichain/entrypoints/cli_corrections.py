"""The correction commands: ``lichain retract`` (an error declaration by record id) and ``export workbook``.

Kept in its own module so the main CLI wires it in with one line (``cli_corrections.register(app, export_app)``);
the shared helpers of :mod:`lichain.entrypoints.cli` are imported when a command runs, which keeps the import
acyclic. The use cases are in :mod:`lichain.services.corrections`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["export_workbook", "register", "retract"]

_Db = Annotated[str | None, typer.Option("--db", help="Database URL or SQLite path (default: LICHAIN_DB or "
                                                      "./lichain.db).")]


def retract(
    ref: Annotated[str, typer.Argument(metavar="EVENT_OR_RECORD_ID",
                                       help="Run, shipment or lot id (a lot made by a run names that run), or an "
                                            "event id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why, e.g. incorrect_data, did_not_occur, or a sentence.")],
    corrected_by: Annotated[list[str] | None, typer.Option(
        "--corrected-by", help="A run, shipment, lot or event already in the ledger that replaces it (repeat for "
                               "several).")] = None,
    db: _Db = None,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Retract a record entered by mistake (an EPCIS error declaration); it stays on record, out of balances."""
    from lichain.entrypoints.console import emit, err, out, store_for
    from lichain.services.corrections import retract as run

    r = run(store_for(db), ref, reason, corrected_by or ())
    if json_:
        emit(r)
    elif r.ok:
        fixes = f", corrected by {', '.join(corrected_by or ())}" if corrected_by else ""
        out.print(f"{ref} retracted (event {r.target_event_id}){fixes}: error declaration {r.event_id}",
                  highlight=False, markup=False, soft_wrap=True)
    else:
        err.print(f"{ref}: refused, nothing written ({len(r.problems)} problems)", highlight=False,
                  markup=False)
        for p in r.problems:
            err.print(f"  {p.location}: {p.message}", highlight=False, markup=False, soft_wrap=True)
    if not r.ok:
        raise typer.Exit(1)


def export_workbook(
    db: _Db = None,
    out_path: Annotated[Path, typer.Option("--out", help="An .xlsx workbook, or a folder for CSV files.")]
    = Path("lichain-ledger.xlsx"),
) -> None:
    """Export the ledger in the tabular format (retractions in the corrections sheet), to review or re-ingest."""
    from lichain.core.codec import event_from_payload
    from lichain.entrypoints.console import fail, out, store_for
    from lichain.entrypoints.outpath import check_out
    from lichain.io.tabular import write_workbook

    check_out(out_path, folder=out_path.suffix.lower() != ".xlsx")
    s = store_for(db)
    events = [event_from_payload(e.event_id, e.kind, e.time, e.payload) for e in s.iter_events()]
    try:
        write_workbook(events, out_path)
    except ValueError as exc:
        fail(str(exc), 1)
    out.print(f"{len(events)} events written to {out_path}", highlight=False, markup=False, soft_wrap=True)


def register(app: typer.Typer, export_app: typer.Typer) -> None:
    """Add ``retract`` to ``app`` and ``workbook`` to the ``export`` group."""
    app.command("retract")(retract)
    export_app.command("workbook")(export_workbook)
