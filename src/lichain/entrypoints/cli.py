"""The ``lichain`` command: thin wrappers that parse arguments, call a service and render text or JSON.

Every query has ``--json``; errors exit non-zero with a one-line reason. The database is ``--db URL`` (any
SQLAlchemy URL or a SQLite path), else ``LICHAIN_DB``, else ``./lichain.db``.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from lichain.core.errors import LichainError, NotFoundError

if TYPE_CHECKING:
    from lichain.storage.sql import SqlStore

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False,
                  context_settings={"help_option_names": ["-h", "--help"]},
                  help="lichain: the battery-materials chain as a verifiable ledger of lots, runs and shipments; "
                       "trace, footprint, recycled content, reports and standard exports.")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"lichain {version('lichain')}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False) -> None:
    """lichain: the system of record and analysis engine for the lithium-battery materials chain."""
export_app = typer.Typer(no_args_is_help=True, help="Export the ledger in a standard format.")
app.add_typer(export_app, name="export")
from lichain.entrypoints.console import (  # noqa: E402 - after the Typer apps they do not need
    EXIT_INTERNAL,
    EXIT_USAGE,
    KINDS,
    Db,
    Json,
    emit,
    err,
    fail,
    lot_reader_for,
    out,
    store_for,
)


@app.command()
def init(db: Db = None) -> None:
    """Create the ledger (or bring its schema up to date)."""
    s = store_for(db, create=True)
    from lichain.storage.urls import redact_url

    out.print(f"ledger ready at {redact_url(s.url)}")


@app.command()
def ingest(
    files: list[Path], db: Db = None, json_: Json = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every document against the ledger; write nothing.")]
    = False,
    now: Annotated[str | None, typer.Option("--now", metavar="TIME", help=(
        "The ledger clock for this ingest, ISO 8601 with offset (default: the system clock); times later than it "
        "plus one day are refused. For replaying a simulated chain, such as an export of `lichain demo`."))] = None,
) -> None:
    """Ingest EPCIS 2.0 JSON-LD documents or XLSX/CSV workbooks, each all or nothing.

    Example: lichain ingest chain.xlsx shipments.jsonld --dry-run
    """
    from lichain.core.validate import BalancePolicy
    from lichain.services.ingest import IngestReport

    policy = None
    if now is not None:
        from lichain.core.codec import parse_time

        try:
            policy = BalancePolicy(now=parse_time(now))
        except ValueError:
            fail(f"--now {now!r}: expected an ISO 8601 time with a UTC offset, e.g. 2031-12-31T00:00:00Z")
    s = store_for(db, create=True)
    results = []
    for f in files:
        r = _ingest_with_progress(s, f, dry_run, policy, show=not json_ and err.is_terminal)
        results.append((str(f), r))
        if not json_:
            if r.ok:
                verb = "would be written (dry run: nothing written)" if dry_run else "written"
                out.print(f"{f}: {r.events_written} events {verb}, {r.events_skipped} already on record")
                if r.kept_verbatim:  # EPCIS events the lot graph does not model: in the chain, not in the graph
                    out.print(f"  {r.kept_verbatim} kept verbatim, outside the lot graph (--json lists each, why)")
            else:
                err.print(f"{f}: refused, nothing written ({len(r.problems)} problems)")
                for p in r.problems:
                    err.print(f"  {p.location}: {p.message}", highlight=False, markup=False)
    report = IngestReport.of(results, dry_run)
    if json_:
        emit(report)
    if not report.ok:
        raise typer.Exit(1)


def _ingest_with_progress(s: SqlStore, f: Path, dry_run: bool, policy: Any, *, show: bool) -> Any:
    """Ingest one file or CSV folder; on a terminal, a progress bar of bytes read for streamed documents."""
    from lichain.services.record import ingest_file

    if not show or not (f.is_file() or f.is_dir()):
        return ingest_file(s, f, policy, dry_run=dry_run)
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    size = f.stat().st_size if f.is_file() else sum(c.stat().st_size for c in f.glob("*.csv"))  # a CSV folder
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TextColumn("{task.fields[n]}"),
                  TimeRemainingColumn(), console=err, transient=True) as bar:
        task = bar.add_task(f"{f.name}: checking", total=size, n="")

        def progress(done: int, events: int) -> None:
            phase = "reading events" if events else "reading rows" if f.is_dir() else "checking JSON"
            bar.update(task, completed=min(done, size), description=f"{f.name}: {phase}",
                       n=f"{events:,} events" if events else "")

        return ingest_file(s, f, policy, dry_run=dry_run, progress=progress)


@app.command()
def lots(
    db: Db = None, json_: Json = False,
    stage: Annotated[str | None, typer.Option(help="Only lots of this stage, e.g. cam.")] = None,
    site: Annotated[str | None, typer.Option(help="Only lots at this site.")] = None,
    material: Annotated[str | None, typer.Option(help="Only lots of this material code.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many lots (0: all).")] = 100,
    offset: Annotated[int, typer.Option(help="Skip this many lots.")] = 0,
    customer: Annotated[str | None, typer.Option("--customer", help="Only lots shipped to this organisation.")]
    = None,
) -> None:
    """List lots in creation order."""
    from lichain.entrypoints.cli_lists import check_names, lots_total
    from lichain.entrypoints.tables import Col, print_table
    from lichain.services import query

    check_names(db, site=site, material=material, organisation=customer, stage=stage)
    from lichain.entrypoints.present import jsonable

    rows = jsonable(query.list_lots(store_for(db), stage=stage, site=site, material=material, limit=limit or None,
                                    offset=offset, customer=customer))
    if json_:
        emit(rows)
        return
    print_table(out, [Col("id", "id"), Col("material"), Col("stage"), Col("site"), Col("mass kg", "num"),
                      Col("assay"), Col("origin class (own)"), Col("recycled content")],
                [(r["id"], r["material"], r["stage"], r["site"], f"{r['mass_kg']:,.3f}",
                  " ".join(f"{e} {v:.4f}" for e, v in r["assay"].items()), r["origin"], _recycled_text(r))
                 for r in rows],
                total=lots_total(db, len(rows), limit, offset, stage=stage, site=site, material=material,
                                 customer=customer), offset=offset)


def _recycled_text(d: dict[str, Any]) -> str:
    """``Ni 30.0 %, Co 0.0 %``: the lot's recycled content per element (services.lot_origin)."""
    rc = d.get("recycled_content") or {}
    return ", ".join(f"{e} {100 * v['recycled']:.1f} %" for e, v in rc.items() if v["recycled"] is not None)


@app.command()
def show(lot: str, db: Db = None, json_: Json = False) -> None:
    """One lot: its fields, the run that made it with its inputs, use so far and remaining mass."""
    from lichain.entrypoints.present import jsonable
    from lichain.services import query

    try:
        d = jsonable(query.show_lot(lot_reader_for(db), lot))
    except NotFoundError:
        from lichain.entrypoints.cli_lists import fail_unknown_lot

        fail_unknown_lot(db, lot)
    except LichainError as exc:
        fail(str(exc))
    if json_:
        emit(d)
        return
    out.print(f"[bold]{d['id']}[/bold]  {d['material']} ({d['stage']}) at {d['site']}, {d['mass_kg']} kg, "
              f"origin class {d['origin']} (this lot's own class){'  [red]RETRACTED[/red]' if d['retracted'] else ''}")
    out.print(f"recycled content (physical, element-weighted): {_recycled_text(d) or 'not defined'}")
    out.print("assay: " + ", ".join(f"{e} {v}" for e, v in d["assay"].items()))
    if d["run"]:
        out.print(f"made by run {d['run']['id']} ({d['run']['kind']}) at {d['run']['site']}")
        for i in d["inputs"]:
            out.print(f"  ← {i['lot']}  {i['mass_kg']} kg")
    out.print(f"consumed {d['consumed_kg']} kg, remaining {d['remaining_kg']} kg, shipped {d['shipped_kg']} kg")
    out.print("remaining by site: " + ", ".join(f"{k} {v} kg" for k, v in d["remaining_by_site_kg"].items()))


@app.command()
def balance(db: Db = None, json_: Json = False) -> None:
    """Re-check the element mass balance of every run."""
    from lichain.services import query

    b = query.balance(store_for(db))
    if json_:
        emit(b)
    else:
        out.print(f"{b.runs_checked} runs checked for {', '.join(b.elements)}: {len(b.problems)} problems")
        for p in b.problems[:50]:
            out.print(f"  {p.run} {p.element}: {p.message}", markup=False)
        if len(b.problems) > 50:
            out.print(f"showing 50 of {len(b.problems):,} problems; --json for all")
    if b.problems:
        raise typer.Exit(1)


@app.command()
def trace(
    lot: str, db: Db = None, json_: Json = False,
    down: Annotated[bool, typer.Option("--down", help="Downstream (recall) instead of upstream.")] = False,
    element: Annotated[str | None, typer.Option(help="Only this element, e.g. Ni.")] = None,
    by: Annotated[str | None, typer.Option(help="Aggregate by site, material, country or organisation.")] = None,
    depth: Annotated[int | None, typer.Option(help="At most this many steps away.")] = None,
    stage: Annotated[list[str] | None, typer.Option(help="Only report lots of these stages.")] = None,
    graph: Annotated[bool, typer.Option(help="Include nodes and edges with kg (for charts).")] = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help="The graph as it stood then (ISO time, UTC).")]
    = None,
) -> None:
    """Where a lot's elements came from (upstream) or went (downstream), with shares and kg per element."""
    from lichain.core.codec import parse_time
    from lichain.services.trace import trace_lot

    try:
        when = None
        if as_of is not None:
            given = datetime.fromisoformat(as_of.replace("Z", "+00:00"))
            when = parse_time(as_of) if given.tzinfo else given.replace(tzinfo=UTC)  # no offset given: UTC
        result = trace_lot(store_for(db), lot, down=down, element=element, by=by, max_depth=depth, stages=stage,
                           graph=graph, as_of=when)
    except (LichainError, ValueError) as exc:
        fail(str(exc))
    if json_:
        emit(result)
        return
    from lichain.entrypoints.present import jsonable

    d = jsonable(result)
    out.print(f"[bold]{d['lot']}[/bold] traced {d['direction']}stream: {d['lots_in_closure']} lots in the closure")
    if d["per_stage"] is not None:  # downstream by group: per-stage shares that sum to 1
        from lichain.entrypoints.trace_view import print_per_stage

        return print_per_stage(out, d)
    from lichain.entrypoints.tables import Col, print_table

    if d["groups"] is not None:
        cols = [Col(d["by"]), *(Col(f"{e} {w}", "num") for e in d["elements"] for w in ("share", "kg"))]
        print_table(out, cols, [(g, *[x for e in d["elements"] for x in (f"{v['share'][e]:.4f}",
                                                                           f"{v['element_kg'][e]:,.2f}")])
                                for g, v in list(d["groups"].items())[:30]],
                    title=f"by {d['by']}", total=len(d["groups"]), how="--json for all")
        return

    rows = []
    for c in d["contributions"][:30]:
        kg = sum(c["kg"].values())
        sh = (f"{next(iter(c['share'].values())):.4f}" if len(c["share"]) == 1
              else ", ".join(f"{e} {v:.3f}" for e, v in c["share"].items()))
        rows.append((c["lot"], c["site"], c["stage"], f"{kg:,.3f}", sh, ", ".join(c["risks"]) or "-"))
    print_table(out, [Col("lot", "id"), Col("site"), Col("stage"), Col("kg", "num"), Col("share"),
                      Col("risks (diligence)")], rows, total=len(d["contributions"]), how="--json for all")


@app.command()
def template(out_path: Annotated[Path, typer.Option("--out", help="Where to write (.xlsx, or a folder for CSV).")]
             = Path("lichain-template.xlsx")) -> None:
    """Write the spreadsheet template (sheets, columns, units, a tiny valid example chain)."""
    from lichain.entrypoints.outpath import check_out
    from lichain.io.tabular import write_template

    check_out(out_path, folder=out_path.suffix.lower() != ".xlsx")
    write_template(out_path)
    out.print(f"template written to {out_path}")


@export_app.command("epcis")
def export_epcis(db: Db = None, out_path: Annotated[Path | None, typer.Option("--out", help="File (default: stdout).")]
                 = None) -> None:
    """Export the whole ledger as one EPCIS 2.0 JSON-LD document."""
    from lichain.entrypoints.outpath import check_out
    from lichain.services.exchange import export_epcis as run_export

    check_out(out_path)
    s = store_for(db)
    if out_path is None:
        run_export(s, sys.stdout)
        return
    with out_path.open("w", encoding="utf-8") as fp:
        n = run_export(s, fp)
    out.print(f"{n} events written to {out_path}")


@export_app.command("parquet")
def export_parquet(db: Db = None, out_path: Annotated[Path, typer.Option("--out", help="Folder to write into.")]
                   = Path("lichain-parquet")) -> None:
    """Export the lot graph as Parquet tables (lots, edges) for DuckDB, Polars or Spark."""
    from lichain.entrypoints.outpath import check_out
    from lichain.services.exchange import export_parquet as run_export

    check_out(out_path, folder=True)
    paths = run_export(store_for(db), out_path)
    out.print(", ".join(str(p) for p in paths.values()) + " written")


@app.command()
def demo(
    db: Db = None, json_: Json = False,
    lots_: Annotated[int | None, typer.Option("--lots", help="Approximate number of lots (default: one year).")]
    = None,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same chain).")] = 0,
) -> None:
    """Generate the integrated demo chain, ingest it, and print a short report."""
    from lichain.services.demo import run_demo

    s = store_for(db, create=True)
    try:
        if json_:
            report = run_demo(s, lots=lots_, seed=seed)
        else:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            with Progress(TextColumn("ingesting demo chain"), BarColumn(), MofNCompleteColumn(),
                          TextColumn("events"), TimeElapsedColumn(), console=err) as bar:
                task = bar.add_task("demo", total=None)

                def advance(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                report = run_demo(s, lots=lots_, seed=seed, progress=advance)
    except LichainError as exc:
        fail(str(exc))
    if json_:
        emit(report)
    else:
        from lichain.entrypoints.render import print_demo_report

        print_demo_report(out, report)
    if not report.ok:
        raise typer.Exit(1)


def _register_extensions() -> None:
    """Commands that live in their own modules (one module per area)."""
    from lichain.entrypoints import (
        cli_circularity,
        cli_corrections,
        cli_diligence,
        cli_emrt,
        cli_events,
        cli_factors,
        cli_flows,
        cli_footprint,
        cli_keys,
        cli_lists,
        cli_mfg,
        cli_package,
        cli_passport,
        cli_report,
        cli_rnd,
        cli_verify,
    )

    cli_factors.register(app)
    cli_footprint.register(app, export_app)
    cli_circularity.register(app, export_app)
    cli_report.register(app)
    cli_corrections.register(app, export_app)
    cli_verify.register(app)
    cli_lists.register(app)
    cli_diligence.register(app)
    cli_flows.register(app)
    cli_emrt.register(app, export_app)
    cli_keys.register(app)
    cli_package.register(app, export_app)
    cli_mfg.register(app)
    cli_rnd.register(app)
    cli_passport.register(app)
    cli_events.register(app)
    from lichain.entrypoints import cli_access, cli_serve

    cli_access.register(app)
    cli_serve.register(app)


_register_extensions()


def main() -> None:
    """Console-script entry point: exit 0 ok, 1 refused, 2 usage error, 3 internal error (never a bare traceback)."""
    json_mode = "--json" in sys.argv[1:]
    try:
        app()
    except LichainError as exc:  # anything a command did not map itself
        _final(json_mode, EXIT_USAGE, str(exc))
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except Exception as exc:  # a bug: keep the traceback in a file, tell the person where
        import tempfile
        import traceback

        fd, path = tempfile.mkstemp(prefix="lichain-crash-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as fp:
            fp.write(" ".join(sys.argv) + "\n\n" + traceback.format_exc())
        _final(json_mode, EXIT_INTERNAL, f"internal error ({type(exc).__name__}): this is a bug in lichain; please "
                                         f"report it with the details in {path}")


def _final(json_mode: bool, code: int, message: str) -> NoReturn:
    from lichain.storage.urls import scrub

    message = scrub(message, os.environ.get("LICHAIN_DB", ""))
    if json_mode:
        emit({"ok": False, "error": {"code": code, "kind": KINDS[code], "message": message}})
    else:
        from rich.text import Text

        err.print(Text.assemble(("error: ", "red"), message), highlight=False)
    raise SystemExit(code)
