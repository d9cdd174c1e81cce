"""Use case: ``lichain spc``: a control chart of one line's parameter over a period, its rule signals, process
capability against the line's specification, the lots made while the process was out of control and the lots
made from them downstream; optionally the signals recorded as ``spc_alarm`` events.

Why this exists: a signal on a chart matters because of the lots made meanwhile; the runs of the line whose
window overlaps a signalled interval made lots that quality must review, and the trace engine follows them to
every lot and customer downstream (the recall question, asked of a process excursion instead of a lot).

Subgrouping: readings are cut into intervals of ``every`` (1 h by default); an X̄–R subgroup is the first
``size`` readings of an interval (the "snapshot" rational subgroup, Montgomery §5.3.4), intervals with fewer are
skipped; an I-MR chart takes the first reading of each interval. Limits are phase I, from the period's own
subgroups, revised by leaving out the points beyond the trial limits until none is (Montgomery §6.2.1; the
excluded points are listed, and every rule is then applied to every point with the revised limits).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np

from lichain.core.codec import format_time
from lichain.core.errors import ChoiceError, NotFoundError
from lichain.core.model import Event, EventKind, LocatedEvent
from lichain.core.period import parse_period
from lichain.core.quality_model import SpcAlarm, Specification
from lichain.core.quality_vocab import PROCESS_PARAMETERS
from lichain.core.spc import Limits, capability, revised_limits, rule_hits
from lichain.services.ingest import ingest_events
from lichain.services.process import root_of
from lichain.services.record import assign_ids
from lichain.storage.process_sql import lots_of_runs, process_batches, recorded_alarm_ids, run_windows
from lichain.storage.process_store import read_files

__all__ = ["AlarmView", "CapabilityView", "ChartLimits", "ChartPoint", "SpcResult", "spc_chart"]

_EVERY = re.compile(r"^(\d+)(min|h|d)$")
_US = {"min": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000}


@dataclass(frozen=True, slots=True)
class ChartPoint:
    """One chart point: its interval [start, end), the centre statistic (X̄ or I) and the spread (R or MR)."""

    index: int
    start: str
    end: str
    value: float
    spread: float | None


@dataclass(frozen=True, slots=True)
class ChartLimits:
    """Centre line and 3-sigma limits [unit of the parameter]."""

    center: float
    lcl: float
    ucl: float


@dataclass(frozen=True, slots=True)
class AlarmView:
    """A rule signal: chart (xbar, r, i, mr), rule (WE1..4, N1..8), point and interval."""

    id: str
    chart: str
    rule: str
    index: int
    window_start: str
    window_end: str
    value: float


@dataclass(frozen=True, slots=True)
class CapabilityView:
    """Cp, Cpk (σ̂ within) and Pp, Ppk (overall s) against the line's specification of the parameter."""

    spec_version: str
    lsl: float | None
    usl: float | None
    cp: float | None
    cpk: float | None
    pp: float | None
    ppk: float | None
    mean: float
    sigma_within: float
    sigma_overall: float


@dataclass(frozen=True, slots=True)
class SpcResult:
    """``lichain spc``: the chart, its signals, capability, and the lots made while out of control."""

    line: str
    parameter: str
    unit: str
    period: str
    chart: str
    rules: str
    every: str
    size: int
    readings: int
    points: tuple[ChartPoint, ...]
    excluded_from_limits: tuple[int, ...]
    center_limits: ChartLimits
    spread_limits: ChartLimits
    alarms: tuple[AlarmView, ...]
    in_control: bool
    capability: CapabilityView | None
    runs_in_alarm: tuple[str, ...]
    lots_made: tuple[str, ...]
    downstream_lots: tuple[str, ...]
    alarms_recorded: int


def _every_us(every: str) -> int:
    m = _EVERY.match(every.strip())
    if not m or int(m.group(1)) <= 0:
        raise ChoiceError(f"--every must be a positive number of min, h or d (e.g. 1h, 30min, 1d), got {every!r}")
    return int(m.group(1)) * _US[m.group(2)]


def _t(us: int) -> str:
    return format_time(datetime.fromtimestamp(us / 1e6, UTC))


def _process_spec(store: Any, line: str, parameter: str) -> tuple[Specification, float | None, float | None] | None:
    specs = [s for s in store.quality_records([]).specifications if s.scope == "process" and s.subject == line
             and any(lim.prop == parameter for lim in s.limits)]
    if not specs:
        return None
    spec = max(specs, key=lambda s: s.issued_at)
    lim = next(lim for lim in spec.limits if lim.prop == parameter)
    return spec, float(lim.low) if lim.low is not None else None, float(lim.high) if lim.high is not None else None


def _points(t_us: np.ndarray[Any, Any], v: np.ndarray[Any, Any], step: int, chart: str,
            size: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """(bucket starts [µs], values (m, size) for xbar-r or (m,) for i-mr)."""
    bucket = t_us // step
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]]) if len(bucket) else np.array([], np.int64)
    counts = np.diff(np.r_[starts, len(bucket)])
    if chart == "i-mr":
        return bucket[starts] * step, v[starts]
    keep = starts[counts >= size]
    return bucket[keep] * step, v[keep[:, None] + np.arange(size)]


def spc_chart(store: Any, line: str, parameter: str, period: str, *, chart: str = "xbar-r", rules: str = "nelson",
              every: str = "1h", size: int = 5, record: bool = False) -> SpcResult:
    """The control chart of ``parameter`` on ``line`` over ``period`` (see the module doc)."""
    if parameter not in PROCESS_PARAMETERS:
        raise ChoiceError(f"unknown parameter {parameter!r} (known: {', '.join(PROCESS_PARAMETERS)})")
    if chart not in ("xbar-r", "i-mr"):
        raise ChoiceError(f"--chart must be xbar-r or i-mr, got {chart!r}")
    if rules not in ("nelson", "western_electric"):
        raise ChoiceError(f"--rules must be nelson or western_electric, got {rules!r}")
    if chart == "xbar-r" and not 2 <= size <= 10:
        raise ChoiceError(f"--size must be 2..10 readings per subgroup, got {size}")
    step = _every_us(every)
    p = parse_period(period)
    batches = [b for _, b in process_batches(store, line) if b.time_from < p.end and b.time_to >= p.start]
    if not batches and not process_batches(store, line):
        raise NotFoundError(f"no readings of line {line!r} are on record")
    files = [f.path for b in batches for f in b.files]
    table = read_files(root_of(store), files, parameter=parameter, start=p.start, end=p.end)
    t_us = table.column("time").cast("int64").to_numpy() if table.num_rows else np.array([], np.int64)
    v = table.column("value").to_numpy() if table.num_rows else np.array([], np.float64)
    order = np.argsort(t_us, kind="stable")
    t_us, v = t_us[order], v[order]
    starts, values = _points(t_us, v, step, chart, size)
    if len(starts) < 2:
        raise NotFoundError(f"too few subgroups of {parameter} on line {line} in {p.label} for a chart "
                            f"({len(starts)}; readings: {len(v)})")
    if chart == "xbar-r":
        center = values.mean(axis=1)
        spread = values.max(axis=1) - values.min(axis=1)
        lim_c, lim_s, sigma, excluded = revised_limits(values.tolist(), "xbar-r")
        names = ("xbar", "r")
        spreads: list[float | None] = spread.tolist()
    else:
        center = values
        lim_c, lim_s, sigma, excluded = revised_limits([[x] for x in values.tolist()], "i-mr")
        spread = np.abs(np.diff(values))
        names = ("i", "mr")
        spreads = [None, *spread.tolist()]
    pts = tuple(ChartPoint(i, _t(int(s)), _t(int(s) + step), float(x), sp)
                for i, (s, x, sp) in enumerate(zip(starts, center.tolist(), spreads, strict=True)))
    hits = [(names[0], h.rule, h.index, float(center[h.index])) for h in rule_hits(center.tolist(), lim_c, rules)]
    offset = 0 if chart == "xbar-r" else 1  # a moving range belongs to the later of its two points
    hits += [(names[1], h.rule, h.index + offset, float(spread[h.index]))
             for h in rule_hits(spread.tolist(), lim_s, rules) if h.rule in ("WE1", "N1")]
    alarms = tuple(AlarmView(f"{line}/{parameter}/{c}/{rule}/{_t(int(starts[i]))}", c, rule, i, _t(int(starts[i])),
                             _t(int(starts[i]) + step), val) for c, rule, i, val in sorted(hits, key=lambda h: (h[2], h[0], h[1])))
    cap = None
    found = _process_spec(store, line, parameter)
    if found is not None:
        spec, lsl, usl = found
        if lsl is not None or usl is not None:
            c = capability(v.tolist(), sigma, lsl, usl)
            cap = CapabilityView(spec.version, lsl, usl, c.cp, c.cpk, c.pp, c.ppk, c.mean, c.sigma_within,
                                 c.sigma_overall)
    runs, made, down = _affected(store, batches, alarms)
    recorded = _record(store, line, parameter, alarms, lim_c, lim_s, names) if record and alarms else 0
    return SpcResult(line, parameter, PROCESS_PARAMETERS[parameter], p.label, chart, rules, every, size, len(v), pts,
                     excluded, ChartLimits(lim_c.center, lim_c.lcl, lim_c.ucl), ChartLimits(lim_s.center, lim_s.lcl, lim_s.ucl),
                     alarms, not alarms, cap, runs, made, down, recorded)


def _affected(store: Any, batches: list[Any], alarms: tuple[AlarmView, ...]) -> tuple[tuple[str, ...], ...]:
    """Runs of the line overlapping an alarm window, the lots they made, and every lot made from those."""
    if not alarms:
        return (), (), ()
    windows = [(datetime.fromisoformat(a.window_start.replace("Z", "+00:00")),
                datetime.fromisoformat(a.window_end.replace("Z", "+00:00"))) for a in alarms]
    runs = run_windows(store, {r for b in batches for r in b.runs})
    hit = sorted(r for r, (_site, a, b, _k) in runs.items() if any(a < end and b >= start for start, end in windows))
    made = lots_of_runs(store, hit)
    down: set[str] = set()
    if made:
        from lichain.analysis.trace import trace_down
        from lichain.services.snapshot import load_snapshot

        snap = load_snapshot(store).snapshot
        for lot in made:
            t = trace_down(snap, lot)
            down.update(snap.lot_id(int(i)) for i in t.lots if int(i) != t.root)
    return tuple(hit), tuple(made), tuple(sorted(down - set(made)))


def _record(store: Any, line: str, parameter: str, alarms: tuple[AlarmView, ...], lim_c: Limits, lim_s: Limits,
            names: tuple[str, str]) -> int:
    """Record the alarms not yet on record as ``spc_alarm`` events (one document, all or nothing)."""
    from lichain.core.limits import ledger_now

    known = recorded_alarm_ids(store, line)
    now = ledger_now().replace(microsecond=0)
    evs = []
    for a in alarms:
        if a.id in known:
            continue
        lim = lim_c if a.chart == names[0] else lim_s
        body = SpcAlarm(a.id, line, parameter, a.chart, a.rule,
                        datetime.fromisoformat(a.window_start.replace("Z", "+00:00")),
                        datetime.fromisoformat(a.window_end.replace("Z", "+00:00")), _dec(a.value),
                        _dec(lim.center), _dec(lim.lcl), _dec(lim.ucl), PROCESS_PARAMETERS[parameter], now)
        evs.append(Event("", EventKind.SPC_ALARM, now, body))
    if not evs:
        return 0
    located = [LocatedEvent(f"spc:{e.body.id}", e) for e in assign_ids(evs)]  # type: ignore[union-attr]
    r = ingest_events(located, store, source=f"lichain spc {line} {parameter}")
    if not r.ok:
        from lichain.core.errors import ValidationFailed

        raise ValidationFailed(list(r.problems))
    return r.events_written


def _dec(x: float) -> Decimal:
    return Decimal(repr(round(x, 9)))
