"""Read a big CSV folder into located ledger events in bounded memory: staged on disk, emitted in ledger order.

Why this exists: :func:`lichain.io.tabular_read.read_workbook` holds every row and every event of a folder in
memory, and a run's rows are spread over several files (``runs``, ``run_inputs``, ``run_outputs``), so a big folder
cannot simply be read line by line. Here each file is staged in a temporary SQLite database
(:mod:`lichain.io.tabular_stream_load`); the rows are then parsed sheet by sheet, in the order and with the row
functions of the whole reader, so every problem is the same, at the same cell, in the same order. Each parsed
record is kept on disk (pickled) with its sort key, a run's input and output rows under its id; events come out
by one ordered query, in chunks: sites, materials, source lots, then runs, shipments and quality records by time,
then supplier PCFs, risk statements, policies and measures, cell data, exactly as the whole reader orders them.
Only the quality sheets (rows grouped by record, usually few) are read one sheet at a time.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from lichain.core.codec import kind_of
from lichain.core.errors import Problem
from lichain.core.model import Consumption, Event, EventBody, Lot, Run
from lichain.core.validate import LocatedEvent
from lichain.io.passport_sheets import read_registration, read_spec
from lichain.io.tabular_cells import Row, blank
from lichain.io.tabular_read import (
    NO_TIME,
    read_lot,
    read_material,
    read_measure,
    read_pcf,
    read_policy,
    read_risk,
    read_run_head,
    read_shipment,
    read_site,
)
from lichain.io.tabular_stream_load import StagedFolder

__all__ = ["StreamReader"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FETCH = 2_000
# sections of the event order; within one, rows sort by (t, grp, idx)
_HEAD, _TIMED, _PCF, _RISK, _RECORD, _CELL = range(6)
_SCHEMA = """
CREATE TABLE ev (sec INTEGER, t INTEGER, grp INTEGER, idx INTEGER, loc TEXT, at INTEGER, ft INTEGER, body BLOB);
CREATE TABLE run_head (id TEXT PRIMARY KEY, idx INTEGER, loc TEXT, t INTEGER, head BLOB);
CREATE TABLE run_in (run TEXT, seq INTEGER, item BLOB);
CREATE TABLE run_out (run TEXT, seq INTEGER, item BLOB, value TEXT);
"""


def _us(t: datetime) -> int:
    return (t - _EPOCH) // timedelta(microseconds=1)


def _time(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _dump(x: object) -> bytes:
    return pickle.dumps(x, protocol=pickle.HIGHEST_PROTOCOL)


class StreamReader:
    """The records of a staged CSV folder: :meth:`parse` finds every problem, :meth:`chunks` yields the events."""

    def __init__(self, staged: StagedFolder) -> None:
        self.db, self.tables, self.problems = staged.db, staged.tables, staged.problems
        self.db.executescript(_SCHEMA)
        self.seq = 0
        self.batch: list[tuple[object, ...]] = []
        self.count = 0  # events staged

    # --- rows in, records out -------------------------------------------------------------------------------------

    def rows(self, sheet: str) -> Iterator[Row]:
        """The non-blank rows of a sheet, in file order, as typed-cell readers."""
        t = self.tables.get(sheet)
        if t is None:
            return
        cur = self.db.execute(f'SELECT n, cells FROM "raw_{sheet}" ORDER BY n')
        while block := cur.fetchmany(_FETCH):
            for n, cells in block:
                values = tuple(json.loads(cells))
                if any(blank(v) is not None for v in values):
                    yield Row(t, n, values, self.problems)
        self.db.execute(f'DROP TABLE "raw_{sheet}"')  # each sheet is read once: its pages hold the events next

    def put(self, sec: int, loc: str, body: EventBody, *, at: datetime | None = None, sort: datetime | None = None,
            grp: int = 0, idx: int | None = None, first: datetime | None = None) -> None:
        """Stage one event: its section and sort key, event time (None: the earliest time of the folder)."""
        if idx is None:
            idx, self.seq = self.seq, self.seq + 1
        self.batch.append((sec, 0 if sort is None else _us(sort), grp, idx, loc, None if at is None else _us(at),
                           None if first is None else _us(first), _dump(body)))
        self.count += 1
        if len(self.batch) >= _FETCH:
            self.flush()

    def flush(self) -> None:
        """Write the staged events of the current batch."""
        self.db.executemany("INSERT INTO ev VALUES (?, ?, ?, ?, ?, ?, ?, ?)", self.batch)
        self.batch = []

    # --- runs: heads, then their input and output rows, then whole runs ------------------------------------------

    def _head(self, rid: str) -> tuple[int | None, str, tuple[object, ...] | None] | None:
        row = self.db.execute("SELECT idx, loc, head FROM run_head WHERE id = ?", (rid,)).fetchone()
        return None if row is None else (row[0], row[1], None if row[2] is None else pickle.loads(row[2]))

    def read_runs(self) -> None:
        """The runs sheet: run heads by id; a repeated id, and the rows of a bad run, are problems."""
        valid = 0
        for r in self.rows("runs"):
            rid = r.text("id")
            if rid is not None and self._head(rid) is not None:
                r.bad("id", f"run {rid} appears twice in the runs sheet")
                continue
            h = read_run_head(r)
            if h is None:
                self.db.execute("INSERT OR IGNORE INTO run_head VALUES (?, NULL, NULL, NULL, NULL)", (rid or "",))
                continue
            head = (h.site, h.kind, h.started_at, h.ended_at, h.activity, h.losses_mg, h.allocation)
            self.db.execute("INSERT INTO run_head VALUES (?, ?, ?, ?, ?)",
                            (h.id, valid, r.loc("id"), _us(h.started_at), _dump(head)))
            valid += 1

    def _run_of(self, r: Row, cache: dict[str, tuple[int | None, str, tuple[object, ...] | None] | None]
                ) -> tuple[str, tuple[object, ...]] | None:
        """The run (id, head) a run_inputs / run_outputs row belongs to; a problem if the runs sheet lacks it."""
        rid = r.text("run", required=True)
        if rid is None:
            return None
        if rid not in cache:
            cache.clear()  # rows of one run are usually together: one id at a time stays in memory
            cache[rid] = self._head(rid)
        h = cache[rid]
        if h is not None and h[0] is None:  # a bad run: its rows are dropped silently
            return None
        if h is None or h[2] is None:
            r.bad("run", f"run {rid!r} is not in the runs sheet")
            return None
        return rid, h[2]

    def read_inputs(self) -> None:
        """The run_inputs sheet: consumptions under their run's id (a broken row is kept as NULL)."""
        cache: dict[str, tuple[int | None, str, tuple[object, ...] | None] | None] = {}
        rows: list[tuple[str, int, bytes | None]] = []
        for i, r in enumerate(self.rows("run_inputs")):
            head, lot_id, mass = self._run_of(r, cache), r.text("lot", required=True), r.mass_mg()
            if head is None:
                continue
            ok = r.ok and lot_id is not None and mass is not None
            rows.append((head[0], i, _dump(Consumption(lot_id, mass)) if ok and lot_id and mass is not None
                         else None))
            if len(rows) >= _FETCH:
                self.db.executemany("INSERT INTO run_in VALUES (?, ?, ?)", rows)
                rows = []
        self.db.executemany("INSERT INTO run_in VALUES (?, ?, ?)", rows)

    def read_outputs(self) -> None:
        """The run_outputs sheet: output lots under their run's id, with the economic-allocation checks."""
        cache: dict[str, tuple[int | None, str, tuple[object, ...] | None] | None] = {}
        rows: list[tuple[str, int, bytes | None, str | None]] = []
        for i, r in enumerate(self.rows("run_outputs")):
            head = self._run_of(r, cache)
            site, ended, allocation = (str(head[1][0]), head[1][3], head[1][6]) if head else ("", NO_TIME, "")
            assert isinstance(ended, datetime)
            lot = read_lot(r, "lot", site=site, produced_at=ended)
            value = r.number("value")
            if head is None:
                continue
            if value is not None and allocation != "economic":
                r.bad("value", f"run {head[0]} uses mass allocation: a value is only used with allocation economic")
            elif value is None and allocation == "economic":
                r.bad("value", f"run {head[0]} uses economic allocation: every output needs a value")
            good = lot is not None and r.ok
            rows.append((head[0], i, _dump(lot) if good else None, str(value) if good and value is not None
                         else None))
            if len(rows) >= _FETCH:
                self.db.executemany("INSERT INTO run_out VALUES (?, ?, ?, ?)", rows)
                rows = []
        self.db.executemany("INSERT INTO run_out VALUES (?, ?, ?, ?)", rows)

    def finish_runs(self) -> None:
        """Whole runs staged by start time; a run without input or output rows is a problem at its id."""
        from decimal import Decimal

        self.db.execute("CREATE INDEX ix_run_in ON run_in (run, seq)")
        self.db.execute("CREATE INDEX ix_run_out ON run_out (run, seq)")
        heads = self.db.execute("SELECT id, idx, loc, head FROM run_head WHERE idx IS NOT NULL ORDER BY idx")
        while block := heads.fetchmany(_FETCH):
            for rid, idx, loc, blob in block:
                site, kind, started, ended, activity, losses, allocation = pickle.loads(blob)
                ins = [x for (x,) in self.db.execute("SELECT item FROM run_in WHERE run = ? ORDER BY seq", (rid,))]
                outs = self.db.execute("SELECT item, value FROM run_out WHERE run = ? ORDER BY seq", (rid,)).fetchall()
                missing = [what for what, n in (("run_inputs", len(ins)), ("run_outputs", len(outs))) if n == 0]
                for what in missing:
                    self.problems.append(Problem(loc, f"run {rid} has no rows in the {what} sheet"))
                if missing or any(x is None for x in ins) or any(x is None for x, _ in outs):
                    continue
                lots: list[Lot] = [pickle.loads(x) for x, _ in outs]
                values = ({lot.id: Decimal(v) for lot, (_, v) in zip(lots, outs, strict=True) if v is not None}
                          if allocation == "economic" else {})
                run = Run(rid, site, kind, started, ended, tuple(pickle.loads(x) for x in ins), tuple(lots), losses,
                          activity, allocation, values)
                self.put(_TIMED, loc, run, at=ended, sort=started, grp=0, idx=idx, first=started)
        self.flush()
        self.db.executescript("DROP TABLE run_in; DROP TABLE run_out; DROP TABLE run_head;")

    # --- the whole folder ----------------------------------------------------------------------------------------

    def parse(self) -> list[Problem]:
        """Parse every staged sheet, in the whole reader's order; every problem found (the load's first)."""
        for sheet, parse, key in (("sites", read_site, "id"), ("materials", read_material, "code")):
            for r in self.rows(sheet):
                if (b := parse(r)) is not None:
                    self.put(_HEAD, r.loc(key), b)
        for r in self.rows("lots"):
            if (lot := read_lot(r, "id", activity=True)) is not None:
                self.put(_HEAD, r.loc("id"), lot, at=lot.produced_at, first=lot.produced_at)
        self.read_runs()
        self.read_inputs()
        self.read_outputs()
        self.finish_runs()
        for i, r in enumerate(self.rows("shipments")):
            if (s := read_shipment(r)) is not None:
                self.put(_TIMED, r.loc("id"), s, at=s.shipped_at, sort=s.shipped_at, grp=1, idx=i, first=s.shipped_at)
        from lichain.io.process_tabular import read_quality

        for i, (when, where, record, at) in enumerate(read_quality(lambda sheet: list(self.rows(sheet)))):
            self.put(_TIMED, where, record, at=at, sort=when, grp=2, idx=i)
        for r in self.rows("supplier_pcfs"):
            if (p := read_pcf(r)) is not None:
                self.put(_PCF, r.loc("lot"), p[0], at=p[1])
        for r in self.rows("site_risks"):
            if (x := read_risk(r)) is not None:
                self.put(_RISK, r.loc("id"), x[0], at=x[1])
        for r in self.rows("diligence_policies"):
            if (dp := read_policy(r)) is not None:
                self.put(_RECORD, r.loc("id"), dp, at=dp.adopted)
        for r in self.rows("risk_measures"):
            if (rm := read_measure(r)) is not None:
                self.put(_RECORD, r.loc("id"), rm, at=rm.valid_from)
        for sheet, read in (("cell_specs", read_spec), ("battery_registrations", read_registration)):
            for r in self.rows(sheet):
                if (c := read(r)) is not None:
                    self.put(_CELL, r.loc("lot"), c[0], at=c[1])
        self.flush()
        self.db.commit()
        return self.problems

    def chunks(self, size: int, progress: Callable[[int], None] | None = None) -> Iterator[list[LocatedEvent]]:
        """The events in ledger order, ``size`` at a time (ids not assigned); ``progress`` gets events so far."""
        self.db.execute("CREATE INDEX ix_ev ON ev (sec, t, grp, idx)")
        low = self.db.execute("SELECT MIN(ft) FROM ev").fetchone()[0]
        first = NO_TIME if low is None else _time(low)
        cur = self.db.execute("SELECT loc, at, body FROM ev ORDER BY sec, t, grp, idx")
        done = 0
        while block := cur.fetchmany(size):
            out = []
            for loc, at, blob in block:
                body = pickle.loads(blob)
                out.append(LocatedEvent(loc, Event("", kind_of(body), first if at is None else _time(at), body)))
            done += len(out)
            yield out
            if progress is not None:
                progress(done)
