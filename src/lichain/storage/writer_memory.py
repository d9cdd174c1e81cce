"""What a writer process keeps between its documents: the ids on record, and the lots it used lately.

Why this exists: a document's check looks up every id it names (its events, lots, runs and shipments, nearly all
new) and reads the stored lots it consumes or ships, with their assays, use and movements. In a ledger of a million
lots those look-ups walk indexes far larger than the writer's page cache. Measured on a kept 1 M-lot ledger for its
next 20,000-event document: looking up its 20,000 event ids, none on record, took 539 ms on the document's first
read (98 ms again), and reading the 7,190 stored lots it uses with their movements ≈ 400 ms, against ≈ 20 µs per
event for the rest of its check. A writer that ingests document after document (the service's writer process, a
streamed file, ``demo``) keeps instead:

* **the ids on record** as sorted 64-bit digests per kind (events, lots, runs, shipments, retracted events, and the
  lots a certificate or deviation names; 8 bytes per id): an id whose digest is absent is certainly not on record
  and is not looked up; one whose digest is present is looked up as before, so a digest clash costs one look-up,
  never a wrong answer;
* **the lots it used lately** (mass, assay, site, time and every live movement, from which use follows), as the
  check that accepted the document settled them (:class:`lichain.core.ports.Settled`: the lots it made or used,
  their stored movements and its own), so that the next documents' inputs are not read back; the least lately used
  are dropped past :data:`LOT_CAPACITY`. An append without a check's settled lots drops them all. Kept from the
  ledger's first event on: kept and read back in compiled code, they cost less than reading the lots from the
  database even while its pages are cached (measured below, at :data:`LOT_CAPACITY`).

Correctness rests on one rule: the memory describes the ledger up to one chain position (seq and chain hash).
Each unit of work, holding the write lock, compares that position with the ledger's head before its first
look-up: the head is that position (nothing new), or extends it (another writer appended: its ids are read by
seq and index, and the lots are forgotten, since it may have used them), or does not (a rolled-back append or a
rewritten chain: everything is forgotten). Digests of ids whose append was rolled back stay; they only cost a
look-up. The memory is read and changed only by a unit of work holding the write lock, one at a time.

It is built (one read of every id) once the ids a process has looked up in bulk reach 1/:data:`BUILD_SHARE` of
the events on record, so a one-off document against a large ledger does not pay for it. ``LICHAIN_WRITER_MEMORY``
set to ``off`` never builds it, ``always`` builds it at the first look-up (tests of races and of the memory),
``auto`` as above, the default on both backends. On PostgreSQL the memory was first measured slower end to end and
was off there; with the lots kept as the check settles them it is faster (20 k-lot demo, memory on / off, three and
two runs: validated and hashed 41 641, 32 144 and 31 233 / 14 742 and 17 087 events/s, end to end 5 416, 5 115
and 4 017 / 4 139 and 4 111 events/s).
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from itertools import compress
from typing import Any

import numpy as np
from sqlalchemy import Connection, select, text

from lichain.core.codec import GENESIS
from lichain.core.fastcheck import movement
from lichain.core.model import Event, Retraction
from lichain.core.ports import LotState, Movement, Settled, use_of
from lichain.storage import schema

try:
    from lichain.storage import _hotrows
except ImportError:  # installed without a C compiler: the Python reading alone
    _hotrows = None  # type: ignore[assignment]
else:
    _hotrows.setup_kept(LotState, Movement)

__all__ = ["BUILD_SHARE", "LOT_CAPACITY", "Digests", "WriterMemory", "chain_head", "max_index", "moved_at"]

#: Lots kept with their state and movements (the least lately used are dropped; 995 bytes each on average, measured
#: with 100,000 kept of the 100 k-lot demo), from the ledger's first event on: read and written in compiled code
#: (``_hotrows.kept_states``, ``keep_lots``), keeping them costs no more than reading them back, even in a small
#: ledger. Demo chain, bulk documents, one process, lots kept from 100,000 events / from the first: at 129,725
#: events (100 k lots, two runs each) the check took 1.4 and 1.5 / 1.4 and 1.4 s and the whole ingest 7.4 and
#: 8.4 / 7.5 and 8.2 s; at 403,000 events (300 k lots) the check 5.2 / 4.7 s and the whole ingest 27.7 / 28.5 s.
#: (Kept and read back in Python, lots kept from 500,000 events had been the faster choice.)
LOT_CAPACITY = 100_000
#: The memory is built once the ids looked up in bulk reach this fraction of the events on record (building reads
#: every id once: about what looking up 1/16 of them one by one costs).
BUILD_SHARE = 16
#: No memory for a ledger with more ids than this (8 bytes each: 256 MB); its writer looks every id up.
MAX_IDS = 32_000_000

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Event kinds whose payload names a lot with a quality statement (lichain.storage.quality_sql).
_QUALITY_KINDS = frozenset({"coa", "deviation"})
_FETCH = 50_000


def moved_at(us: int) -> datetime:
    """An instant (a movement's, a lot's production) from stored microseconds since the Unix epoch (UTC)."""
    return _EPOCH + timedelta(microseconds=int(us))


#: A kept lot is one flat tuple: its stored index (None when not known), mass [mg], production instant, site,
#: creating event id, the number n of assay elements, n (element, ppb) pairs without zeros, then its live
#: movements in full, each as site, instant, signed mass [mg], event id. Strings, numbers and instants only, and
#: no nested container: the cyclic collector stops tracking it at its first look, so a writer keeping 100,000 lots
#: does not lengthen its collections (kept as nested tuples, they were still tracked and the whole ingest of 1 M
#: lots with lots kept from the first event took 147.5 s against 125.7 s).
_Kept = tuple[Any, ...]
_HEAD = 6  # the fields before the assay pairs
#: False reads kept lots in Python only (tests compare both readings).
use_compiled = True


class Digests:
    """A set of ids held as sorted 64-bit digests (Python's string hash, stable within one process), with a bit table
    in front: bit ``top bits of the digest`` is set for every id held, 8 to 16 bits per id. An id whose bit is clear
    is certainly absent (1 in 9 to 1 in 17 of the absent ids pass the table); only the others are searched for,
    sorted, in the digests. Looking up 20,000 new ids among 1.3 M: 1.6 ms against 6.1 ms by search alone; with 40 %
    of them held, 4.0 ms against 7.7 ms (the search's random reads in 10 MB of digests miss the processor's caches,
    the table's 2.6 MB mostly hit them)."""

    __slots__ = ("a", "bits", "shift")

    def __init__(self, keys: Iterable[str] = ()) -> None:
        self.a = np.fromiter(map(hash, keys), dtype=np.int64)
        self.a.sort()
        self._table()

    def __len__(self) -> int:
        return int(self.a.size)

    def _table(self) -> None:
        """A table of 16 bits per id (at least 2^16 bits), marked for every id held."""
        k = max(self.a.size * 16, 1 << 16).bit_length()
        self.shift = np.uint64(64 - k)
        self.bits = np.zeros(1 << (k - 3), dtype=np.uint8)
        self._mark(self.a)

    def _slots(self, d: np.ndarray) -> np.ndarray:
        return d.view(np.uint64) >> self.shift

    def _mark(self, d: np.ndarray) -> None:
        s = self._slots(d)
        np.bitwise_or.at(self.bits, s >> np.uint64(3), np.left_shift(1, s & np.uint64(7)).astype(np.uint8))

    def add(self, keys: Iterable[str]) -> None:
        """Add ids (already present ones too: a repeated digest changes no answer)."""
        d = np.fromiter(map(hash, keys), dtype=np.int64)
        if d.size:
            d.sort()
            self.a = np.insert(self.a, np.searchsorted(self.a, d), d)
            if self.a.size > self.bits.size:  # fewer than 8 bits (one byte) per id: a table twice as large
                self._table()
            else:
                self._mark(d)

    def maybe(self, keys: Collection[str]) -> list[str]:
        """The ids among ``keys`` that may be in the set; every one that is, and rarely one that is not."""
        a = self.a
        if not a.size or not keys:
            return []
        d = np.fromiter(map(hash, keys), dtype=np.int64, count=len(keys))
        s = self._slots(d)
        passed = np.flatnonzero((self.bits[s >> np.uint64(3)] >> (s & np.uint64(7)).astype(np.uint8)) & 1)
        if not passed.size:
            return []
        candidates = d[passed]
        order = np.argsort(candidates)
        wanted = candidates[order]  # sorted: the search walks the digests forward
        pos = np.searchsorted(a, wanted)
        np.minimum(pos, a.size - 1, out=pos)
        held = np.zeros(len(keys), dtype=bool)
        held[passed[order[a[pos] == wanted]]] = True
        return list(compress(keys, held.tolist()))


def _values(conn: Connection, sql: str, **params: Any) -> Iterator[Any]:
    """The first column of every row, fetched in slices (a build reads millions of ids)."""
    res = conn.execute(text(sql), params)
    try:
        while rows := res.fetchmany(_FETCH):
            for r in rows:
                yield r[0]
    finally:
        res.close()


#: The chain head (its text is the one PostgreSQL keeps prepared for readers too).
_CHAIN_HEAD = select(schema.events.c.seq, schema.events.c.chain_hash).order_by(schema.events.c.seq.desc()).limit(1)


def chain_head(conn: Connection) -> tuple[int, str]:
    """(last seq, chain hash) of the event chain as ``conn`` sees it; (0, GENESIS) when empty."""
    row = conn.execute(_CHAIN_HEAD).first()
    return (int(row[0]), str(row[1])) if row else (0, GENESIS)


def max_index(conn: Connection, table: str) -> int:
    """The largest stored index of a table of lots, runs or shipments (-1 when empty)."""
    return int(conn.execute(text(f"SELECT COALESCE(MAX(idx), -1) FROM {table}")).scalar_one())


class WriterMemory:
    """The ids on record and the lots written lately, as of one chain position (see the module's text)."""

    def __init__(self, lot_capacity: int = LOT_CAPACITY, mode: str | None = None) -> None:
        self.lot_capacity = lot_capacity
        self.mode = mode or os.environ.get("LICHAIN_WRITER_MEMORY") or "auto"
        if self.mode not in ("auto", "off", "always"):
            raise ValueError(f"LICHAIN_WRITER_MEMORY must be auto, off or always, got {self.mode!r}")
        self.asked = 0  # ids looked up in bulk while there was no memory
        self.unit: object = None  # the unit of work the memory was last brought up to date for
        self.current = False
        self._forget()

    def _forget(self) -> None:
        self.position: tuple[int, str] | None = None  # (seq, chain hash) described; None: no memory
        self.marks: dict[str, int] = {}  # largest stored index of lots, runs and shipments
        self.ids: dict[str, Digests] = {}
        self._drop_lots()

    def _drop_lots(self) -> None:
        self.lots: OrderedDict[str, _Kept] = OrderedDict()  # least lately used first (a dict's front, once
        # popped from, is walked past on every later pop: quadratic; measured 78 s of a 1 M-lot ingest)

    # --- keeping it true ------------------------------------------------------------------------------------
    def use(self, conn: Connection, unit: object, keys: int) -> bool:
        """Whether the memory describes the ledger as ``conn`` (holding the write lock) sees it, brought up to date
        once per unit of work; ``keys``: how many ids the caller is about to look up (counts toward building)."""
        if self.unit is not unit:
            self.unit = unit
            self.current = self._sync(conn)
        if not self.current and self.mode != "off" and keys:
            self.asked += keys
            seq = chain_head(conn)[0]
            if self.mode == "always" or self.asked * BUILD_SHARE >= seq:
                self.current = self._build(conn)
        return self.current

    def _sync(self, conn: Connection) -> bool:
        if self.position is None:
            return False
        head = chain_head(conn)
        seq = head[0]
        at, at_hash = self.position
        if head == self.position:
            return True
        if seq > at and (at == 0 or conn.execute(text("SELECT chain_hash FROM events WHERE seq = :s"),
                                                 {"s": at}).scalar() == at_hash):
            self._catch_up(conn, at, head)
            return True
        self._forget()  # a rolled-back append of ours, or a rewritten chain
        return False

    def _build(self, conn: Connection) -> bool:
        from lichain.storage.quality_sql import quality_lots_sql

        self._forget()
        head = chain_head(conn)
        marks = {t: max_index(conn, t) for t in ("lots", "runs", "shipments")}
        if head[0] + sum(marks.values()) > MAX_IDS:
            return False
        self.ids = {"event": Digests(_values(conn, "SELECT event_id FROM events")),
                    "lot": Digests(_values(conn, "SELECT id FROM lots")),
                    "run": Digests(_values(conn, "SELECT id FROM runs")),
                    "shipment": Digests(_values(conn, "SELECT id FROM shipments")),
                    "retracted": Digests(_values(conn, "SELECT e.event_id FROM retractions r JOIN events e ON "
                                                       "e.seq = r.target_seq")),
                    "quality": Digests(_values(conn, quality_lots_sql(conn.dialect.name)))}
        self.marks, self.position, self.asked = marks, head, 0
        return True

    def _catch_up(self, conn: Connection, at: int, head: tuple[int, str]) -> None:
        """Another writer appended after ``at``: add its ids; forget the lots (it may have used them)."""
        from lichain.storage.quality_sql import quality_lots_sql

        ids, marks = self.ids, self.marks
        ids["event"].add(_values(conn, "SELECT event_id FROM events WHERE seq > :v", v=at))
        for kind, table in (("lot", "lots"), ("run", "runs"), ("shipment", "shipments")):
            rows = conn.execute(text(f"SELECT idx, id FROM {table} WHERE idx > :v"), {"v": marks[table]}).all()
            ids[kind].add(r[1] for r in rows)
            marks[table] = max((int(r[0]) for r in rows), default=marks[table])
        ids["retracted"].add(_values(conn, "SELECT e.event_id FROM retractions r JOIN events e ON e.seq = "
                                           "r.target_seq WHERE r.event_seq > :v", v=at))
        ids["quality"].add(_values(conn, quality_lots_sql(conn.dialect.name, since=True), v=at))
        self._drop_lots()
        self.position = head

    def wrote(self, events: Sequence[Event], rows: Mapping[str, Sequence[tuple[Any, ...]]],
              settled: Settled | None = None) -> None:
        """Take in what this unit of work has just appended (``rows``: the tuples inserted, per table; ``settled``:
        the lots of the check that accepted the events), after :meth:`use` brought the memory up to date in the
        same unit of work."""
        if not self.current or not rows["events"]:
            return
        ids, marks = self.ids, self.marks
        ev = rows["events"]
        ids["event"].add(r[1] for r in ev)
        for kind, table in (("lot", "lots"), ("run", "runs"), ("shipment", "shipments")):
            if rows[table]:
                ids[kind].add(r[1] for r in rows[table])
                marks[table] = max(marks[table], max(r[0] for r in rows[table]))
        self.position = (ev[-1][0], ev[-1][6])
        if rows["retractions"]:
            ids["retracted"].add(e.body.target_event_id for e in events if isinstance(e.body, Retraction))
        named = [json.loads(r[4]).get("lot") for r in ev if r[2] in _QUALITY_KINDS]  # the payload the index reads
        if named:
            ids["quality"].add(n for n in named if isinstance(n, str))
        if rows["retractions"] or settled is None:  # use changed in the past, or appended unchecked: read again
            self._drop_lots()
        elif self.lot_capacity:
            self._keep(settled, rows["lots"])

    def _keep(self, settled: Settled, lot_rows: Sequence[tuple[Any, ...]]) -> None:
        """Keep the lots the check settled (the newest last), with the stored index of those written now."""
        made = {r[1]: r[0] for r in lot_rows}
        new, stored, moves = settled.new, settled.stored, settled.moves
        if (_hotrows is not None and use_compiled and type(moves) is dict and isinstance(new, dict)
                and isinstance(stored, dict)):
            _hotrows.keep_lots(self.lots, made, new, stored, moves)
        else:
            self.python_keep(made, settled)
        lots = self.lots
        while len(lots) > self.lot_capacity:  # the least lately used go first
            lots.popitem(last=False)

    def python_keep(self, made: Mapping[str, int], settled: Settled) -> None:
        """:meth:`_keep`'s kept tuples without the compiled code (its oracle in the tests)."""
        lots, new, stored = self.lots, settled.new, settled.stored
        for lot_id, moves in settled.moves.items():
            rec = new.get(lot_id) or stored.get(lot_id)
            if rec is None:
                continue
            old = lots.pop(lot_id, None)
            kept = [made.get(lot_id, old[0] if old is not None else None), rec.mass_mg, rec.produced_at, rec.site,
                    rec.event_id, 0]
            for e, v in rec.assay.items():
                if v:
                    kept += (e, v)
            kept[5] = (len(kept) - _HEAD) // 2
            for m in moves:
                kept += (m.site, m.at, m.mass_mg, m.ref)
            lots[lot_id] = tuple(kept)

    def tip(self) -> tuple[tuple[int, str], dict[str, int]]:
        """The chain position described (seq, chain hash) and the largest stored index of lots, runs and
        shipments, once :meth:`use` found the memory current in this unit of work."""
        assert self.current and self.position is not None
        return self.position, self.marks

    # --- answers --------------------------------------------------------------------------------------------
    def unknown(self, kind: str, keys: Collection[str]) -> list[str]:
        """The ids among ``keys`` that may be on record (the others certainly are not)."""
        return self.ids[kind].maybe(keys)

    def _split(self, ids: Iterable[str]) -> tuple[list[tuple[str, _Kept]], list[str]]:
        """(id, kept lot) for the kept lots among ``ids``, and the ids not kept."""
        lots = self.lots
        found, rest = [], []
        for i in ids:
            lot = lots.get(i)
            if lot is None:
                rest.append(i)
            else:
                found.append((i, lot))
        return found, rest

    def states(self, ids: Iterable[str]) -> tuple[dict[str, LotState], dict[str, list[Movement]], list[str]]:
        """States and live movements of the kept lots among ``ids``, and the ids not kept."""
        ids = list(ids)
        if _hotrows is not None and use_compiled:
            out = _hotrows.kept_states(self.lots, ids)
            if out is not None:
                return out
        return self.python_states(ids)

    def python_states(self, ids: Iterable[str]) -> tuple[dict[str, LotState], dict[str, list[Movement]], list[str]]:
        """:meth:`states` without the compiled reading (its oracle in the tests)."""
        found, rest = self._split(ids)
        states, moves = {}, {}
        for i, k in found:
            mass, moved = k[1], _HEAD + 2 * k[5]
            consumed, shipped = use_of(mass, k[moved + 2::4])
            assay = dict(zip(k[_HEAD:moved:2], k[_HEAD + 1:moved:2], strict=True))
            states[i] = LotState(i, mass, consumed, shipped, assay, k[2], k[3], k[4])
            m = iter(k[moved:])
            moves[i] = [movement(i, site, at, mass_mg, ref) for site, at, mass_mg, ref in zip(m, m, m, m, strict=True)]
        return states, moves, rest

    def lot_index(self, ids: Iterable[str]) -> tuple[dict[str, int], list[str]]:
        """Stored index of the kept lots among ``ids`` whose index is known, and the other ids."""
        found, rest = self._split(ids)
        out = {}
        for i, lot in found:
            if lot[0] is None:
                rest.append(i)
            else:
                out[i] = lot[0]
        return out, rest
