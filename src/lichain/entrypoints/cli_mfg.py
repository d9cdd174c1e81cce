"""Manufacturing commands: ``lichain process ingest|show``, ``lichain quality LOT`` and ``lichain spc``.

Kept in its own module so the main CLI wires it in with one line; the use cases are in
:mod:`lichain.services.process`, :mod:`lichain.services.quality` and :mod:`lichain.services.spc`, this module only
presents them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from lichain.entrypoints.console import Db, Json

__all__ = ["process_ingest", "process_show", "quality", "register", "spc"]

process_app = typer.Typer(help="Process readings of the lines (pH, temperature, feed rates, ...).",
                          no_args_is_help=True)


@process_app.command("ingest")
def process_ingest(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet of readings: time,run,parameter,value,unit.")],
    line: Annotated[str, typer.Option("--line", help="The production line the readings come from.")],
    db: Db = None, json_: Json = False,
) -> None:
    """Ingest a file of process readings for a line, all or nothing (units checked, runs and windows checked).

    Example: lichain process ingest readings.csv --line PCAM-L1
    """
    from lichain.entrypoints.console import emit, err, out, store_for
    from lichain.services.process import ingest_readings

    r = ingest_readings(store_for(db), file, line)
    if json_:
        emit(r)
    elif r.ok:
        what = "already on record" if r.already_recorded else "recorded"
        out.print(f"{r.rows:,} readings of line {r.line} {what} (batch {r.batch}, {len(r.files)} partition files, "
                  f"{r.time_from} .. {r.time_to}, runs: {len(r.runs)})", highlight=False, markup=False,
                  soft_wrap=True)
    else:
        for p in r.problems:
            err.print(str(p), highlight=False, markup=False)
    if not r.ok:
        raise typer.Exit(1)


@process_app.command("show")
def process_show(
    run: Annotated[str, typer.Option("--run", help="The run whose readings to show.")],
    param: Annotated[str, typer.Option("--param", help="The parameter, e.g. pH, temperature, o2_flow.")],
    limit: Annotated[int, typer.Option("--limit", help="Readings listed (0: all); all are summarised.")] = 20,
    db: Db = None, json_: Json = False,
) -> None:
    """One run's readings of one parameter, with count, min, max and mean.

    Example: lichain process show --run RUN-PC-0001 --param pH
    """
    from lichain.core.errors import NotFoundError
    from lichain.entrypoints.console import emit, fail, out, store_for
    from lichain.entrypoints.tables import Col, print_table
    from lichain.services.process import run_readings

    try:
        r = run_readings(store_for(db), run, param, limit=limit)
    except NotFoundError as exc:
        fail(str(exc), 1)
    if json_:
        emit(r)
        return
    stats = (f"min {r.minimum:g}, max {r.maximum:g}, mean {r.mean:.4g}" if r.count else "no readings")
    out.print(f"{r.parameter} [{r.unit}] of run {r.run} on line {r.line}: {r.count:,} readings, {stats}",
              highlight=False, markup=False, soft_wrap=True)
    print_table(out, [Col("time"), Col(r.unit, "num")], [[x.time, f"{x.value:g}"] for x in r.readings])
    if r.shown < r.count:
        out.print(f"showing {r.shown} of {r.count:,}; --limit 0 for all", highlight=False, markup=False)


def quality(
    lot: Annotated[str, typer.Argument(metavar="LOT_ID", help="The lot (its id or GS1 Digital Link).")],
    db: Db = None, json_: Json = False,
) -> None:
    """A lot's certificates of analysis against its material's specification, and its deviations.

    Example: lichain quality https://id.gs1.org/01/09520001000904/10/L00000001 --json
    """
    from lichain.core.errors import NotFoundError
    from lichain.entrypoints.console import emit, fail, out, store_for
    from lichain.entrypoints.tables import Col, print_table
    from lichain.services.quality import lot_quality

    try:
        r = lot_quality(store_for(db), lot)
    except NotFoundError as exc:
        fail(str(exc), 1)
    if json_:
        emit(r)
        return
    out.print(f"quality of {r.lot} ({r.material}): {r.status}", highlight=False, markup=False, soft_wrap=True)
    for c in r.certificates:
        out.print(f"certificate {c.id} by {c.lab}, {c.issued_at}, against specification {c.spec_version}"
                  f"{' (latest)' if c.latest else ''}", highlight=False, markup=False, soft_wrap=True)
        print_table(out, [Col("property"), Col("value", "num"), Col("unit"), Col("low", "num"), Col("high", "num"),
                          Col("ok")],
                    [[v.property, v.value, v.unit, v.low or "", v.high or "", "yes" if v.ok else "NO"]
                     for v in c.values])
    for d in r.deviations:
        out.print(f"deviation {d.id} approved by {d.approved_by} ({d.declared_at}): {d.reason}"
                  f"{f' for run {d.run}' if d.run else ''}", highlight=False, markup=False, soft_wrap=True)
    if not r.certificates:
        out.print("no certificate of analysis on record", markup=False)


def spc(
    line: Annotated[str, typer.Option("--line", help="The production line.")],
    param: Annotated[str, typer.Option("--param", help="The process parameter, e.g. pH.")],
    period: Annotated[str, typer.Option("--period", help="Period: a year (2026), month (2026-01) or quarter.")],
    chart: Annotated[str, typer.Option("--chart", help="xbar-r (subgroups) or i-mr (individuals).")] = "xbar-r",
    rules: Annotated[str, typer.Option("--rules", help="nelson or western_electric.")] = "nelson",
    every: Annotated[str, typer.Option("--every", help="Subgroup interval: 1h, 30min, 8h, 1d.")] = "1h",
    size: Annotated[int, typer.Option("--size", help="Readings per subgroup (2..10), the first of each interval.")] = 5,
    svg: Annotated[Path | None, typer.Option("--svg", help="Also write the chart as an SVG file.")] = None,
    record_alarms: Annotated[bool, typer.Option("--record-alarms", help="Record each signal as an spc_alarm "
                                                                         "event on the ledger.")] = False,
    db: Db = None, json_: Json = False,
) -> None:
    """Control chart of a line's parameter over a period: limits, rule signals, Cp/Cpk, and downstream lots.

    Example: lichain spc --line PCAM-L1 --param pH --period 2026-01 --json
    """
    from lichain.core.errors import LichainError
    from lichain.entrypoints.console import emit, fail, store_for
    from lichain.entrypoints.outpath import check_out
    from lichain.services.spc import spc_chart

    if svg is not None:
        check_out(svg)
    try:
        r = spc_chart(store_for(db), line, param, period, chart=chart, rules=rules, every=every, size=size,
                      record=record_alarms)
    except LichainError as exc:
        fail(str(exc), 1)
    if svg is not None:
        from lichain.io.process_chart import chart_svg

        svg.write_text(chart_svg(r), encoding="utf-8")
    if json_:
        emit(r)
        return
    _print_spc(r)


def _print_spc(r: object) -> None:
    """The chart's limits, signals, capability and affected lots as text."""
    from lichain.entrypoints.console import out
    from lichain.entrypoints.tables import Col, print_table

    s: Any = r
    names = ("X̄", "R") if s.chart == "xbar-r" else ("I", "MR")
    c, d = s.center_limits, s.spread_limits
    out.print(f"{s.parameter} [{s.unit}] on line {s.line}, {s.period}: {len(s.points)} points from {s.readings:,} "
              f"readings ({s.chart}, {s.every}, {s.rules}): {'in control' if s.in_control else 'OUT OF CONTROL'}",
              highlight=False, markup=False, soft_wrap=True)
    out.print(f"  {names[0]}: CL {c.center:.4g}, LCL {c.lcl:.4g}, UCL {c.ucl:.4g}; {names[1]}: CL {d.center:.4g}, "
              f"LCL {d.lcl:.4g}, UCL {d.ucl:.4g}", highlight=False, markup=False, soft_wrap=True)
    if s.capability is not None:
        k = s.capability

        def f(v: float | None) -> str:
            return "n/a" if v is None else f"{v:.2f}"

        out.print(f"  capability against specification {k.spec_version} ({k.lsl} .. {k.usl}): Cp {f(k.cp)}, "
                  f"Cpk {f(k.cpk)}, Pp {f(k.pp)}, Ppk {f(k.ppk)}", highlight=False, markup=False, soft_wrap=True)
    if s.alarms:
        episodes = _episodes(s.alarms)
        print_table(out, [Col("from"), Col("to"), Col("points", "num"), Col("charts"), Col("rules")],
                    [[e[0], e[1], str(e[2]), e[3], e[4]] for e in episodes[:15]])
        if len(episodes) > 15:
            out.print(f"showing 15 of {len(episodes)} signalled intervals; --json for all", highlight=False,
                      markup=False)
        out.print(f"  runs in the signalled intervals: {', '.join(s.runs_in_alarm) or 'none'}", highlight=False,
                  markup=False, soft_wrap=True)
        out.print(f"  lots they made: {len(s.lots_made)}; lots made from those downstream: {len(s.downstream_lots)} "
                  "(--json lists them)", highlight=False, markup=False, soft_wrap=True)
    if s.alarms_recorded:
        out.print(f"  {s.alarms_recorded} alarms recorded on the ledger", highlight=False, markup=False)


def _episodes(alarms: Any) -> list[tuple[str, str, int, str, str]]:
    """Signals grouped into intervals of consecutive chart points: (from, to, points, charts, rules)."""
    out: list[tuple[str, str, int, str, str]] = []
    group: list[Any] = []
    for a in sorted(alarms, key=lambda a: a.index):
        if group and a.index > group[-1].index + 1:
            out.append(_episode(group))
            group = []
        group.append(a)
    if group:
        out.append(_episode(group))
    return out


def _episode(group: list[Any]) -> tuple[str, str, int, str, str]:
    rules = sorted({a.rule for a in group}, key=lambda r: (r[0], int(r.lstrip("WEN"))))
    return (group[0].window_start, group[-1].window_end, len({a.index for a in group}),
            ", ".join(sorted({a.chart for a in group})), ", ".join(rules))


def register(app: typer.Typer) -> None:
    """Add ``process``, ``quality`` and ``spc`` to ``app``."""
    app.add_typer(process_app, name="process")
    app.command("quality")(quality)
    app.command("spc")(spc)
