"""Use cases of process data: ingest a file of readings for a line, show one run's readings, check the files.

Why this exists: readings live in Parquet partitions (:mod:`lichain.storage.process_store`) and their manifest
on the ledger (a ``process_batch`` event per ingested file). Ingest is all or nothing per file: every chunk is
checked (parameter, unit, value, time: :mod:`lichain.io.process_read`) and every run it names must be a live run
at the line's site whose window holds each of its readings; the partition files are written, then the batch
event goes through the ledger's check like any document; a refusal removes the files.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from lichain.core.codec import format_time
from lichain.core.errors import NotFoundError, Problem
from lichain.core.model import Event, EventKind, LocatedEvent
from lichain.core.quality_check import batch_digest
from lichain.core.quality_model import ProcessBatch, ProcessFile
from lichain.core.quality_vocab import PROCESS_PARAMETERS
from lichain.core.validate import BalancePolicy
from lichain.io.process_read import ReadingsRefused, read_readings
from lichain.services.ingest import ingest_events
from lichain.services.record import assign_ids
from lichain.services.verify import Verification
from lichain.storage.process_sql import RunWindow, process_batches, run_windows
from lichain.storage.process_store import (
    LINE_ID,
    PartitionWriter,
    file_problems,
    process_root,
    read_files,
    sha256_of,
)

__all__ = ["ProcessCheck", "ProcessIngest", "Reading", "ReadingSeries", "check_process_files", "ingest_readings",
           "root_of", "run_readings",
           "with_process_check"]


@dataclass(frozen=True, slots=True)
class ProcessIngest:
    """Outcome of ``lichain process ingest``: the batch recorded (or refused) and where its files are."""

    ok: bool
    line: str
    source: str
    rows: int
    batch: str | None
    digest: str | None
    files: tuple[ProcessFile, ...]
    time_from: str | None
    time_to: str | None
    runs: tuple[str, ...]
    units: dict[str, str]
    already_recorded: bool
    store: str
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class Reading:
    """One reading: UTC time and value [unit of the series]."""

    time: str
    value: float


@dataclass(frozen=True, slots=True)
class ReadingSeries:
    """One run's readings of one parameter (``lichain process show``), with summary statistics [unit]."""

    run: str
    line: str
    parameter: str
    unit: str
    count: int
    minimum: float | None
    maximum: float | None
    mean: float | None
    readings: tuple[Reading, ...]
    shown: int


@dataclass(frozen=True, slots=True)
class ProcessCheck:
    """The process files every recorded batch names, checked against their SHA-256 (part of ``verify``)."""

    ok: bool
    batches: int
    files: int
    problems: tuple[str, ...] = ()


def _refused(line: str, src: str, root: Path | None, problems: list[Problem]) -> ProcessIngest:
    return ProcessIngest(False, line, src, 0, None, None, (), None, None, (), {}, False, str(root or ""),
                         tuple(problems))


_NO_ROOT = ("LICHAIN_PROCESS_DIR", "readings are kept in a folder beside the ledger; a server database has none: "
                                   "set LICHAIN_PROCESS_DIR to the folder for this ledger's readings")


def root_of(store: Any, root: Path | None = None) -> Path:
    """The readings folder of ``store`` (NotFoundError naming LICHAIN_PROCESS_DIR when there is none)."""
    found = root or process_root(store.url)
    if found is None:
        raise NotFoundError(_NO_ROOT[1])
    return found


class _RunCheck:
    """Runs named by the readings: on record, at one site (the line's), every reading inside its window."""

    def __init__(self, store: Any, line_site: str | None, src: str, csv: bool) -> None:
        self.store, self.site, self.src, self.csv = store, line_site, src, csv
        self.windows: dict[str, RunWindow] = {}

    def check(self, t: pa.Table, offset: int) -> list[Problem]:
        runs, times = t.column("run"), t.column("time")
        g = t.select(["run", "time"]).group_by("run", use_threads=False).aggregate([("time", "min"),
                                                                                     ("time", "max")])
        names = [r for r in g.column("run").to_pylist() if r is not None]
        new = [r for r in names if r not in self.windows]
        if new:
            self.windows.update(run_windows(self.store, new))
        out: list[Problem] = []
        for r, lo, hi in zip(g.column("run").to_pylist(), g.column("time_min").to_pylist(),
                             g.column("time_max").to_pylist(), strict=True):
            if r is None:
                continue
            w = self.windows.get(r)
            if w is None:
                out.append(Problem(f"{self._first_row(pc.equal(runs, r), offset)}/run",
                                   f"unknown run {r!r}: readings link to runs on record"))
                continue
            if self.site is None:
                self.site = w[0]
            elif w[0] != self.site:
                out.append(Problem(f"{self._first_row(pc.equal(runs, r), offset)}/run",
                                   f"run {r} is at site {w[0]}, but the line's readings are at site {self.site}"))
            if lo < w[1] or hi > w[2]:
                kind = times.type
                mask = pc.and_(pc.equal(runs, r), pc.or_(pc.less(times, pa.scalar(w[1], kind)),
                                                         pc.greater(times, pa.scalar(w[2], kind))))
                out.append(Problem(f"{self._first_row(mask, offset)}/time",
                                   f"reading of run {r} outside the run's window {format_time(w[1])} .. "
                                   f"{format_time(w[2])}"))
        return out[:20]

    def _first_row(self, mask: pa.Array, offset: int) -> str:
        i = int(pc.indices_nonzero(mask)[0].as_py()) + offset
        return f"{self.src}:{i + 2}" if self.csv else f"{self.src}#row{i + 1}"


def ingest_readings(store: Any, path: Path, line: str, *, root: Path | None = None,
                    policy: BalancePolicy | None = None) -> ProcessIngest:
    """Ingest one CSV or Parquet file of readings for ``line``; all or nothing (see the module doc)."""
    root = root or process_root(store.url)
    src = path.name
    if root is None:
        return _refused(line, src, root, [Problem(*_NO_ROOT)])
    if not LINE_ID.match(line):
        return _refused(line, src, root, [Problem("--line", f"a line id is letters, digits, '.', '_' and '-' "
                                                            f"(it names a folder), got {line!r}")])
    if not path.is_file():
        return _refused(line, src, root, [Problem(src, "no such file")])
    batch = sha256_of(path)[:24]
    earlier = process_batches(store, line)
    for _, b in earlier:
        if b.id == batch:
            return ProcessIngest(True, line, src, b.rows, b.id, b.digest, b.files, format_time(b.time_from),
                                 format_time(b.time_to), b.runs, dict(b.units), True, str(root))
    line_site = next((b.site for _, b in earlier if b.site), None)
    chunks, problems = read_readings(path)
    if problems:
        return _refused(line, src, root, problems)
    writer = PartitionWriter(root, line, batch)
    runs = _RunCheck(store, line_site, src, path.suffix.lower() != ".parquet")
    rows, lo, hi, params = 0, None, None, set()
    try:
        for chunk in chunks:
            found = runs.check(chunk.table, chunk.first)
            if found:
                raise ReadingsRefused(found)
            writer.write(chunk.table)
            rows += chunk.table.num_rows
            mm = pc.min_max(chunk.table.column("time")).as_py()
            lo = mm["min"] if lo is None or (mm["min"] is not None and mm["min"] < lo) else lo
            hi = mm["max"] if hi is None or (mm["max"] is not None and mm["max"] > hi) else hi
            params.update(pc.unique(chunk.table.column("parameter")).to_pylist())
    except ReadingsRefused as exc:
        writer.abort()
        return _refused(line, src, root, exc.problems)
    if rows == 0 or lo is None or hi is None:
        writer.abort()
        return _refused(line, src, root, [Problem(src, "the file holds no readings")])
    files = writer.finish()
    body = ProcessBatch(batch, line, runs.site, src, batch_digest((f.path, f.sha256) for f in files), rows,
                        lo.astimezone(UTC), hi.astimezone(UTC),
                        tuple(sorted((p, PROCESS_PARAMETERS[p]) for p in params)), tuple(files),
                        tuple(sorted(runs.windows)))
    ev = assign_ids([Event("", EventKind.PROCESS_BATCH, datetime.now(UTC).replace(microsecond=0), body)])[0]
    result = ingest_events([LocatedEvent(src, ev)], store, source=src, policy=policy)
    if not result.ok:
        writer.abort(files)
        return _refused(line, src, root, list(result.problems))
    return ProcessIngest(True, line, src, rows, batch, body.digest, body.files, format_time(body.time_from),
                         format_time(body.time_to), body.runs, dict(body.units), False, str(root))


def run_readings(store: Any, run: str, parameter: str, *, limit: int = 50, root: Path | None = None) -> ReadingSeries:
    """One run's readings of ``parameter`` (all counted and summarised; the first ``limit`` listed, 0: all)."""
    root = root_of(store, root)
    if parameter not in PROCESS_PARAMETERS:
        raise NotFoundError(f"unknown parameter {parameter!r} (known: {', '.join(PROCESS_PARAMETERS)})")
    batches = [b for _, b in process_batches(store) if run in b.runs]
    if not batches:
        raise NotFoundError(f"no readings of run {run!r} are on record")
    window = run_windows(store, [run]).get(run)
    files = [f.path for b in batches for f in b.files if window is None or _month_overlaps(f.path, window)]
    t = read_files(root, files, run=run, parameter=parameter)
    values = t.column("value")
    n = t.num_rows
    shown = t if limit == 0 else t.slice(0, limit)
    readings = tuple(Reading(format_time(a), float(v)) for a, v in
                     zip(shown.column("time").to_pylist(), shown.column("value").to_pylist(), strict=True))
    mm = pc.min_max(values).as_py() if n else {"min": None, "max": None}
    mean = pc.mean(values).as_py() if n else None
    return ReadingSeries(run, batches[0].line, parameter, PROCESS_PARAMETERS[parameter], n, mm["min"], mm["max"],
                         mean, readings, len(readings))


def with_process_check(store: Any, v: Verification) -> Verification:
    """``v`` with the process files checked (unchanged when no batch is on record)."""
    c = check_process_files(store)
    if c.batches == 0:
        return v
    return replace(v, ok=v.ok and c.ok, process_ok=c.ok, process_problems=c.problems)


def _month_overlaps(path: str, window: RunWindow) -> bool:
    """True when the month partition of ``path`` (``…/month=YYYY-MM/…``) can hold readings of the run's window."""
    part = next((p for p in path.split("/") if p.startswith("month=")), None)
    if part is None:
        return True
    y, m = (int(x) for x in part.removeprefix("month=").split("-"))
    start = datetime(y, m, 1, tzinfo=UTC)
    end = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=UTC)
    return window[1] < end and window[2] >= start


def check_process_files(store: Any, root: Path | None = None) -> ProcessCheck:
    """Every file of every live batch exists and has the SHA-256 recorded at ingest."""
    batches = process_batches(store)
    root = root or process_root(store.url)
    if root is None:
        return ProcessCheck(not batches, len(batches), 0, (f"{_NO_ROOT[0]}: {_NO_ROOT[1]}",) if batches else ())
    files = [f for _, b in batches for f in b.files]
    problems = [f"process file {p}: {why}" for p, why in file_problems(root, files)]
    for eid, b in batches:
        if b.digest != batch_digest((f.path, f.sha256) for f in b.files):
            problems.append(f"process batch {eid}: digest does not match its file list")
    return ProcessCheck(not problems, len(batches), len(files), tuple(problems))
