"""Manufacturing and quality events in the tabular format (workbook or CSV folder): the ``specifications``,
``certificates``, ``deviations``, ``spc_alarms`` and ``process_batches`` sheets.

Why this exists: laboratories keep certificates of analysis in spreadsheets, one row per measured property; a
workbook is read and written with them like any record (sheets declared in :mod:`lichain.io.tabular_schema`,
documented in docs/tabular.md). Rows with the same key form one record (a specification: subject, scope and
version; a certificate: its id; a process batch: its id), and their shared cells must agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from lichain.core.codec import format_time
from lichain.core.model import Event, EventBody
from lichain.core.quality_model import (
    Certificate,
    Deviation,
    Limit,
    Measured,
    ProcessBatch,
    ProcessFile,
    SpcAlarm,
    Specification,
)

__all__ = ["SHEET_NAMES", "quality_cells", "read_quality"]

SHEET_NAMES = ("specifications", "certificates", "deviations", "spc_alarms", "process_batches")
_EARLY = datetime(1, 1, 1, tzinfo=UTC)
Cells = dict[str, Any]


def _dec(d: Decimal | None) -> str | None:
    return None if d is None else format(d.normalize(), "f")


def quality_cells(b: EventBody, ev: Event) -> tuple[str, list[Cells]] | None:
    """The sheet and rows of a manufacturing or quality event (None for other bodies)."""
    t = format_time
    if isinstance(b, Specification):
        head = {"subject": b.subject, "version": b.version, "scope": b.scope, "issued_at": t(b.issued_at),
                "source": b.source}
        return "specifications", [{**head, "property": lim.prop, "unit": lim.unit, "low": _dec(lim.low),
                                   "high": _dec(lim.high)} for lim in b.limits]
    if isinstance(b, Certificate):
        head = {"id": b.id, "lot": b.lot, "spec_version": b.spec_version, "issued_at": t(b.issued_at),
                "lab": b.lab, "method": b.method}
        return "certificates", [{**head, "property": m.prop, "value": _dec(m.value), "unit": m.unit}
                                for m in b.values]
    if isinstance(b, Deviation):
        return "deviations", [{"id": b.id, "lot": b.lot, "approved_by": b.approved_by, "reason": b.reason,
                               "declared_at": t(b.declared_at), "properties": "; ".join(b.properties) or None,
                               "run": b.run}]
    if isinstance(b, SpcAlarm):
        return "spc_alarms", [{"id": b.id, "line": b.line, "parameter": b.parameter, "chart": b.chart,
                               "rule": b.rule, "window_start": t(b.window_start), "window_end": t(b.window_end),
                               "value": _dec(b.value), "center": _dec(b.center), "lcl": _dec(b.lcl),
                               "ucl": _dec(b.ucl), "unit": b.unit, "declared_at": t(b.declared_at)}]
    if isinstance(b, ProcessBatch):
        head = {"id": b.id, "line": b.line, "site": b.site, "source": b.source, "digest": b.digest,
                "rows": str(b.rows), "time_from": t(b.time_from), "time_to": t(b.time_to),
                "units": "; ".join(f"{p}={u}" for p, u in b.units), "runs": "; ".join(b.runs) or None,
                "declared_at": t(ev.time)}
        return "process_batches", [{**head, "file": f.path, "sha256": f.sha256, "file_rows": str(f.rows)}
                                   for f in b.files]
    return None


def _num(r: Any, col: str) -> Decimal | None:
    """A required decimal (negative allowed: limits and chart values may be below zero)."""
    text = r.text(col, required=True)
    if text is None:
        return None
    try:
        d = Decimal(text)
    except InvalidOperation:
        r.bad(col, f"{col} must be a number, got {text!r}")
        return None
    if not d.is_finite():
        r.bad(col, f"{col} must be a finite number, got {text!r}")
        return None
    return d


def _opt_num(r: Any, col: str) -> Decimal | None:
    return _num(r, col) if r.text(col) is not None else None


def _list(text: str | None) -> tuple[str, ...]:
    return tuple(x.strip() for x in (text or "").split(";") if x.strip())


def _grouped(rows: Iterable[Any], key: Callable[[Any], tuple[str | None, ...]], shared: tuple[str, ...]
             ) -> list[tuple[Any, list[Any]]]:
    """Rows grouped by ``key`` (first row, all rows); a shared cell that differs from the first row is a problem."""
    groups: dict[tuple[str | None, ...], tuple[Any, list[Any]]] = {}
    for r in rows:
        k = key(r)
        if any(x is None for x in k):
            for c, x in zip(shared, k, strict=False):
                if x is None:
                    r.text(c, required=True)
            continue
        if k not in groups:
            groups[k] = (r, [r])
            continue
        first, members = groups[k]
        for c in shared:
            if r.text(c) != first.text(c):
                r.bad(c, f"{c} differs from the first row of the same record ({first.loc(c)}): "
                         f"{r.text(c)!r} vs {first.text(c)!r}")
        members.append(r)
    return list(groups.values())


def read_quality(rows: Callable[[str], list[Any]]) -> list[tuple[datetime, str, EventBody, datetime]]:
    """Records of the five sheets as (sort time, location, body, event time); specifications sort first."""
    out: list[tuple[datetime, str, EventBody, datetime]] = []
    spec_shared = ("subject", "version", "scope", "issued_at", "source")
    for first, members in _grouped(rows("specifications"), lambda r: (r.text("subject"), r.text("version"),
                                                                       r.text("scope") or "material"),
                                   spec_shared):
        at = first.time("issued_at", required=True)
        limits = [(m.text("property", required=True), m.text("unit", required=True), _opt_num(m, "low"),
                   _opt_num(m, "high")) for m in members]
        if at is None or not all(m.ok for m in members) or any(p is None or u is None for p, u, _, _ in limits):
            continue
        out.append((_EARLY, first.loc("subject"), Specification(
            first.text("subject"), first.text("version"), at,
            tuple(Limit(p, u, lo, hi) for p, u, lo, hi in limits),
            first.text("scope") or "material", first.text("source")), at))
    coa_shared = ("id", "lot", "spec_version", "issued_at", "lab", "method")
    for first, members in _grouped(rows("certificates"), lambda r: (r.text("id"),), coa_shared):
        at = first.time("issued_at", required=True)
        head = [first.text(c, required=True) for c in ("lot", "spec_version", "lab")]
        values = [(m.text("property", required=True), _num(m, "value"), m.text("unit", required=True))
                  for m in members]
        if at is None or None in head or not all(m.ok for m in members) or any(
                None in v for v in values):
            continue
        out.append((at, first.loc("id"), Certificate(
            first.text("id"), head[0], head[1], at, head[2],
            tuple(Measured(p, v, u) for p, v, u in values if v is not None), first.text("method")), at))
    for r in rows("deviations"):
        cells = [r.text(c, required=True) for c in ("id", "lot", "approved_by", "reason")]
        at = r.time("declared_at", required=True)
        if at is None or None in cells or not r.ok:
            continue
        out.append((at, r.loc("id"), Deviation(cells[0], cells[1], cells[2], cells[3], at,
                                                 _list(r.text("properties")), r.text("run")),
                    at))
    for r in rows("spc_alarms"):
        cells = [r.text(c, required=True) for c in ("id", "line", "parameter", "chart", "rule", "unit")]
        times = [r.time(c, required=True) for c in ("window_start", "window_end", "declared_at")]
        maybe = [_num(r, c) for c in ("value", "center", "lcl", "ucl")]
        nums = [x for x in maybe if x is not None]
        if None in cells or None in times or len(nums) != 4 or not r.ok:
            continue
        i, line, p, chart, rule, unit = cells
        out.append((times[2], r.loc("id"), SpcAlarm(i, line, p, chart, rule, times[0], times[1],
                                                    nums[0], nums[1], nums[2], nums[3], unit, times[2]), times[2]))
    batch_shared = ("id", "line", "site", "source", "digest", "rows", "time_from", "time_to", "units", "runs",
                    "declared_at")
    for first, members in _grouped(rows("process_batches"), lambda r: (r.text("id"),), batch_shared):
        cells = [first.text(c, required=True) for c in ("line", "source", "digest", "rows", "units")]
        tf, tt = first.time("time_from", required=True), first.time("time_to", required=True)
        at = first.time("declared_at") or tt
        files = [(m.text("file", required=True), m.text("sha256", required=True), m.text("file_rows",
                                                                                          required=True))
                 for m in members]
        if None in cells or tf is None or tt is None or at is None or not all(m.ok for m in members) or any(
                None in f for f in files):
            continue
        try:
            n = int(cells[3])
            parsed = tuple(ProcessFile(p, h, int(k)) for p, h, k in files)
            pairs = [u.split("=", 1) for u in _list(cells[4])]
            if any(len(x) != 2 for x in pairs):
                raise ValueError("units are parameter=unit pairs separated by ';'")
            units = tuple(sorted((x[0].strip(), x[1].strip()) for x in pairs))
        except ValueError as exc:
            first.bad("rows", f"rows, file_rows and units (parameter=unit; …) must be well formed: {exc}")
            continue
        out.append((at, first.loc("id"), ProcessBatch(first.text("id"), cells[0], first.text("site"),
                                                       cells[1], cells[2], n, tf, tt, units, parsed,
                                                       _list(first.text("runs"))), at))
    return out
