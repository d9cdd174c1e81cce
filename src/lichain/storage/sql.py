"""SQL ledger adapter: SQLite (embedded default, WAL, one writer) and PostgreSQL (production), one code path.

``SqlStore`` implements the ledger view the validator reads (bulk lookups, chunked ``IN`` lists) and the
append path: one transaction per document, holding the write lock (``BEGIN IMMEDIATE`` on SQLite, an advisory
transaction lock on PostgreSQL), extending the hash chain and writing the projections with ``executemany``.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from lichain.core.codec import GENESIS, chain_hash, format_time
from lichain.core.errors import ConflictError, StorageError
from lichain.core.model import Event, EventKind, Retraction, Run, Shipment, SiteRisk
from lichain.core.ports import (
    BoundaryRun,
    ClaimLot,
    ClaimRecord,
    LotState,
    Movement,
    ProjectionReport,
    Settled,
    StoredEvent,
)
from lichain.storage import schema as s
from lichain.storage.fastrows import COLUMNS, event_tuples, to_us
from lichain.storage.inlist import CHUNK, in_rows
from lichain.storage.location import DEFAULT_URL, SCHEMA_REVISION, resolve_url
from lichain.storage.writer_memory import WriterMemory, chain_head, max_index

__all__ = ["DEFAULT_URL", "SCHEMA_REVISION", "SqlStore", "chunks", "open_store", "resolve_url", "to_us"]

_CHUNK = 500
_READ_CACHE_KIB = -200_000  # SQLite page cache of a reader [KiB, negative = size]: bulk snapshot reads
_WRITE_CACHE_KIB = -32_000  # of a writer: inserts are appends, a big cache only holds dirty pages
#: SQLite reads the database file through a memory map up to this size (its usual build caps it at 2 GB): a
#: writer's look-ups of stored lots, their movements and ids touch pages all over a ledger far larger than its
#: page cache, and each page read is then a memory access instead of a system call. Demo chain at 300 k lots, bulk
#: documents, check without / with the map: 6.3 and 6.1 s / 5.8 and 5.6 s.
_MMAP_BYTES = 1 << 31
_PG_OPTIONS = "-c max_parallel_workers_per_gather=0"  # see _make_engine
_PG_LOCK = 0x6C6963686169  # "lichai": advisory lock key serialising writers
#: One expanding parameter for every ``IN`` list: the statement compiles once and is cached; the values are bound
#: at execution (500 literal parameters compiled per query cost more than the query in bulk prefetches).
_IDS: Any = bindparam("ids", expanding=True)


def chunks(items: Sequence[Any], n: int = _CHUNK) -> Iterator[Sequence[Any]]:
    """Consecutive slices of at most ``n`` items."""
    for i in range(0, len(items), n):
        yield items[i : i + n]


def _make_engine(url: str, pool: dict[str, Any] | None = None) -> Engine:
    """The engine for ``url``; ``pool`` overrides the connection pool's settings (size, overflow, timeout)."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        # Room for every thread of a worker's pool (40) to hold a connection through a reading block while
        # background refreshes take their own (a file handle each).
        sized = {"pool_size": 5, "max_overflow": 64} if u.database not in (None, "", ":memory:") else {}
        engine = create_engine(url, connect_args={"timeout": 30}, **{**sized, **(pool or {})})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _rec: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            if u.database not in (None, "", ":memory:"):
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA cache_size={_READ_CACHE_KIB}")
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.execute(f"PRAGMA mmap_size={_MMAP_BYTES}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")

        return engine
    if u.get_backend_name() == "postgresql" and u.get_driver_name() in ("", "psycopg2"):
        u = u.set(drivername="postgresql+psycopg")
    # Reads run without a transaction (each statement sees the latest commit, as in one READ COMMITTED
    # transaction): no BEGIN and ROLLBACK round trips per check-out, and the driver keeps its prepared statements
    # (it drops them at every ROLLBACK) so a repeated read is not planned again. Writes open a transaction
    # explicitly (:meth:`SqlStore.transaction`).
    #
    # No parallel workers for a query: the ledger's reads are index lookups answered in well under a millisecond,
    # but the planner, costing them over tables it has not analysed yet (an empty retractions table counts as
    # 1,850 rows), planned a lot's movements over 40 lots with 2 parallel workers: 10.2 ms to start them for
    # 0.8 ms of work. The setting goes with the connection's start-up options, after any the URL names.
    given = u.query.get("options", ())
    options = " ".join([*((given,) if isinstance(given, str) else given), _PG_OPTIONS])
    args = {"options": options}
    return create_engine(u, pool_pre_ping=True, isolation_level="AUTOCOMMIT", connect_args=args, **(pool or {}))


class SqlStore:
    """The ledger on a SQL database."""

    def __init__(self, url: str | None = None) -> None:
        self.url = resolve_url(url)
        self.engine = _make_engine(self.url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._conn: Connection | None = None  # set on the view :meth:`writing` yields
        self._pinned = threading.local()  # this thread's :meth:`reading` block: active, its head, its connection
        self._discard = False
        # shared by the views :meth:`writing` yields (storage/writer_memory.py)
        self._memory = WriterMemory()
        self._read_moves: dict[str, list[Movement]] = {}  # a writer view's lots' movements, read with the lots
        self._unit: object = None  # the unit of work a view of :meth:`writing` belongs to

    # --- lifecycle ------------------------------------------------------------------------------------------
    def migrate(self) -> None:
        """Create or upgrade the schema to the newest Alembic revision."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
        with self.transaction() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def schema_revision(self) -> str | None:
        """The Alembic revision the database is at (None: no ledger schema yet), read without loading Alembic."""
        try:
            with self.engine.connect() as conn:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:  # no such table (a new database): the caller migrates or reports it
            return None

    def is_initialised(self) -> bool:
        """True when the schema exists."""
        from sqlalchemy import inspect

        return inspect(self.engine).has_table("events")

    def close(self) -> None:
        """Release connections."""
        self.engine.dispose()

    def read(self) -> Any:
        """A read connection (context manager); inside :meth:`writing`, the locked write transaction itself."""
        if self._conn is not None:
            return nullcontext(self._conn)
        pinned = getattr(self._pinned, "conn", None)
        if pinned is not None:
            return nullcontext(pinned)
        return self.engine.connect()

    @contextmanager
    def reading(self) -> Iterator[None]:
        """A block of reads that answers for one chain head: :meth:`head` is read once per block, and every
        :meth:`read` of this thread within the block uses one connection (on SQLite one read transaction, one
        snapshot; on PostgreSQL, whose statements each see the latest commit, one connection check-out instead
        of one per read). Nested blocks join the outer one.

        The connection is taken when the block starts. Code that takes a process-wide lock and then reads (a
        snapshot or footprint load) opens its block *before* taking the lock: a thread never waits for the pool
        while it holds a lock that block holders wait for, so a pool run dry only queues readers."""
        if self._conn is not None or getattr(self._pinned, "active", False):
            yield
            return
        self._pinned.active, self._pinned.head = True, None
        try:
            with self.engine.connect() as conn:
                self._pinned.conn = conn
                try:
                    yield
                finally:
                    self._pinned.conn = None
        finally:
            self._pinned.active, self._pinned.head = False, None

    @contextmanager
    def writing(self) -> Iterator[SqlStore]:
        """A unit of work holding the ledger's write lock: check and append in one transaction.

        Yields a view of this store bound to one connection that holds the write lock for the whole block
        (``BEGIN IMMEDIATE`` on SQLite; a transaction-scoped advisory lock on PostgreSQL, taken before anything is
        read). Every read of the view (the validator's ``LedgerView`` and ``CustodyView``) and :meth:`append` go
        through that transaction, so no other writer can change what was checked before it is written. The
        block commits when it ends normally, unless :meth:`discard` was called; an exception rolls it back.
        """
        if self._conn is not None:  # already inside a unit of work: join it
            yield self
            return
        conn = self._write()
        if self.is_sqlite:  # a writer's page cache stays small: a long streamed document must not fill 200 MB
            conn.connection.driver_connection.execute(f"PRAGMA cache_size={_WRITE_CACHE_KIB}")
        try:
            with conn.begin() as tx:
                if not self.is_sqlite:
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
                    # A writer's statements are planned for the values they carry: its bulk look-ups (IN lists of
                    # hundreds of ids) are prepared, and a generic plan PostgreSQL settles on while a table is
                    # small stays in use once it is large (a 6,238-event document's prefetch: 6.5 s against
                    # 0.3 s). Readers keep their prepared plans (short look-ups on stable tables).
                    conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
                bound = copy.copy(self)
                bound._conn, bound._discard, bound._unit = conn, False, object()
                bound._read_moves = {}
                yield bound
                if bound._discard:
                    tx.rollback()
        finally:
            conn.info.pop("write", None)  # the pooled connection's next user reads with a plain BEGIN
            if self.is_sqlite and not conn.invalidated:
                conn.connection.driver_connection.execute(f"PRAGMA cache_size={_READ_CACHE_KIB}")
            conn.close()

    def discard(self) -> None:
        """Inside :meth:`writing`: roll the unit of work back when it ends (a refused or dry-run document)."""
        self._discard = True

    def _recall(self, keys: int) -> WriterMemory | None:
        """The writer's memory of the ledger, when this view holds the write lock and the memory describes what it
        sees (:mod:`lichain.storage.writer_memory`); ``keys``: how many ids are about to be looked up."""
        if self._conn is None or not self._memory.use(self._conn, self._unit, keys):
            return None
        return self._memory

    def _maybe_stored(self, kind: str, ids: Iterable[str]) -> list[str]:
        """``ids`` less those the writer's memory knows are not on record (all of them when it has no memory)."""
        ids = list(ids)
        mem = self._recall(len(ids))
        return ids if mem is None else mem.unknown(kind, ids)

    # --- LedgerView (bulk) ----------------------------------------------------------------------------------
    def lots(self, ids: Iterable[str]) -> dict[str, LotState]:
        """Stored lots among ``ids`` with their use so far."""
        wanted = set(ids)
        out: dict[str, LotState] = {}
        mem = self._recall(len(wanted))
        if mem is not None:
            out, moves, rest = mem.states(mem.unknown("lot", wanted))
            self._read_moves.update(moves)  # the check asks for their movements next
            wanted = set(rest)
        if not wanted:
            return out
        from lichain.storage.custody_sql import lots_and_movements

        with self.read() as conn:
            for part in chunks(sorted(wanted), CHUNK * 10):
                lots, moves = lots_and_movements(conn, part)
                out.update(lots)
                if self._conn is not None:  # a writer's check asks for their movements next
                    self._read_moves.update(moves)
        return out

    def sites(self, ids: Iterable[str]) -> set[str]:
        """Stored site ids among ``ids``."""
        return self._present(s.sites.c.id, ids)

    def materials(self, codes: Iterable[str]) -> set[str]:
        """Stored material codes among ``codes``."""
        return self._present(s.materials.c.code, codes)

    def owner_organisations(self) -> set[str]:
        """Organisations declared ledger owner by a live site (normally one)."""
        from lichain.storage.esg_sql import ledger_owners

        return set(ledger_owners(self))

    def declared_payloads(self, kind: str, ids: Iterable[str]) -> dict[str, str]:
        """Canonical payloads of the stored site (``kind`` "site") or material declarations among ``ids``."""
        from lichain.storage.lists_sql import declared_payloads

        return declared_payloads(self, kind, ids)

    def battery_lots(self, ids: Iterable[str]) -> dict[str, str]:
        """Registered battery ids among ``ids`` → their lot (the ledger's one-id-one-battery rule)."""
        from lichain.storage.passport_sql import battery_lots

        return battery_lots(self, ids)

    def _present(self, col: Any, ids: Iterable[str]) -> set[str]:
        ids = sorted(set(ids))
        found: set[str] = set()
        with self.read() as conn:
            for part in chunks(ids):
                found.update(conn.execute(select(col).where(col.in_(_IDS)), {"ids": list(part)}).scalars())
        return found

    def event_payloads(self, ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """Stored events among ``ids``: id → (kind, payload)."""
        ids = self._maybe_stored("event", ids)
        with self.read() as conn:
            return {eid: (kind, payload) for eid, kind, payload in in_rows(
                conn, "SELECT event_id, kind, payload FROM events WHERE event_id IN ({keys})", ids)}

    def retracted(self, ids: Iterable[str]) -> set[str]:
        """Event ids among ``ids`` retracted by an error declaration."""
        ids = self._maybe_stored("retracted", ids)
        with self.read() as conn:
            return {r[0] for r in in_rows(conn, "SELECT e.event_id FROM events e JOIN retractions r ON "
                                                "r.target_seq = e.seq WHERE e.event_id IN ({keys})", ids)}

    def record_ids(self, kind: str, ids: Iterable[str]) -> dict[str, str]:
        """Stored runs or shipments among ``ids``: record id → event id."""
        table = "runs" if kind == "run" else "shipments"
        ids = self._maybe_stored(kind, ids)
        with self.read() as conn:
            return dict(in_rows(conn, f"SELECT t.id, e.event_id FROM {table} t JOIN events e ON e.seq = t.event_seq "
                                      "WHERE t.id IN ({keys})", ids))

    def lots_of_event(self, event_id: str) -> list[LotState]:
        """Lots created by one stored event."""
        from lichain.storage.custody_sql import lots_and_movements

        with self.read() as conn:
            ids = list(conn.execute(select(s.lots.c.id).join(s.events, s.events.c.seq == s.lots.c.event_seq)
                                    .where(s.events.c.event_id == event_id).order_by(s.lots.c.idx)).scalars())
            lots = lots_and_movements(conn, ids)[0]
        return [lots[i] for i in ids]

    def movements(self, ids: Iterable[str]) -> dict[str, list[Movement]]:
        """Live movements of stored lots per site (SQL in :mod:`lichain.storage.custody_sql`)."""
        from lichain.storage import custody_sql

        out: dict[str, list[Movement]] = {}
        ids = list(ids)
        if ids and self._read_moves:  # read with the lots in this unit of work, nothing appended since: handed over
            read, rest = self._read_moves, []
            for i in ids:
                m = read.pop(i, None)
                if m is None:
                    rest.append(i)
                else:
                    out[i] = m
            ids = rest
        mem = self._recall(len(ids)) if ids else None
        if mem is not None:
            moves, ids = mem.states(mem.unknown("lot", ids))[1:]
            out.update(moves)
        if ids:
            with self.read() as conn:
                out.update(custody_sql.movements(conn, ids))
        return out

    # --- CustodyView (claims; SQL in lichain.storage.claims_sql) ---------------------------------------------
    def boundary_runs(self, site: str, start: datetime, end: datetime) -> list[BoundaryRun]:
        """Live runs at ``site`` started in [start, end), with inputs and outputs."""
        from lichain.storage import claims_sql

        with self.read() as conn:
            return claims_sql.boundary_runs(conn, site, start, end)

    def claim_lots(self, ids: Iterable[str]) -> dict[str, ClaimLot]:
        """Stored lots among ``ids`` with origin, producing run site and live allocations."""
        from lichain.storage import claims_sql

        with self.read() as conn:
            return claims_sql.claim_lots(conn, ids)

    def site_claims(self, site: str) -> list[ClaimRecord]:
        """Live custody claims of ``site``."""
        from lichain.storage import claims_sql

        with self.read() as conn:
            return claims_sql.site_claims(conn, site)

    def claim_ids(self, ids: Iterable[str]) -> set[str]:
        """Claim ids among ``ids`` already recorded."""
        from lichain.storage import claims_sql

        with self.read() as conn:
            return claims_sql.claim_ids(conn, ids)

    def claim_dependents(self, event_id: str) -> list[str]:
        """Why retracting ``event_id`` would break a live claim."""
        from lichain.storage import claims_sql

        with self.read() as conn:
            return claims_sql.claim_dependents(conn, event_id)

    # --- append ---------------------------------------------------------------------------------------------
    def _write(self) -> Any:
        conn = self._transactional()
        conn.info["write"] = True
        return conn

    def _transactional(self) -> Connection:
        """A connection whose ``begin()`` opens a real transaction (PostgreSQL connections read without one)."""
        conn = self.engine.connect()
        if not self.is_sqlite:
            conn = conn.execution_options(isolation_level="READ COMMITTED")
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection in one transaction, committed when the block ends normally, rolled back on an error:
        for writes outside the event chain (users and keys) and for migrations."""
        with self._transactional() as conn, conn.begin():
            yield conn

    def head(self, conn: Connection | None = None) -> tuple[int, str]:
        """(last seq, chain hash) of the event chain; (0, GENESIS) when empty."""
        pinned = self._pinned if conn is None and self._conn is None else None
        if pinned is not None and getattr(pinned, "active", False):
            if pinned.head is None:  # within :meth:`reading`: the block's head, read once (one state per block)
                with self.read() as c:
                    pinned.head = chain_head(c)
            got: tuple[int, str] = pinned.head
            return got
        if conn is None:
            with self.read() as c:
                return chain_head(c)
        return chain_head(conn)

    def site_risks(self, sites: Iterable[str] | None) -> list[SiteRisk]:
        """Live site risk statements about ``sites`` (None: every site), in recorded order (read from the
        hash-chained events)."""
        from lichain.core.codec import body_from_json

        wanted = None if sites is None else set(sites)
        retracted = select(s.retractions.c.target_seq)
        q = (select(s.events.c.payload).where(s.events.c.kind == EventKind.SITE_RISK.value)
             .where(s.events.c.seq.not_in(retracted)).order_by(s.events.c.seq))
        with self.read() as conn:
            rows = conn.execute(q).scalars().all()
        out = []
        for payload in rows:
            body = body_from_json(EventKind.SITE_RISK, json.loads(payload))
            if isinstance(body, SiteRisk) and (wanted is None or body.site in wanted):
                out.append(body)
        return out

    def quality_records(self, lots: Iterable[str], named: Iterable[str] = ()) -> Any:
        """Specifications, and the certificates and deviations of ``lots`` (the quality rule's stored state)."""
        from lichain.storage.quality_sql import quality_records

        lots = self._maybe_stored("quality", lots)  # lots no certificate or deviation names have none to read
        with self.read() as conn:
            return quality_records(conn, lots, named)

    def chain_hash_at(self, seq: int) -> str | None:
        """The content chain's hash after event ``seq`` (None when there is no such event)."""
        with self.read() as conn:
            h = conn.execute(select(s.events.c.chain_hash).where(s.events.c.seq == seq)).scalar()
        return None if h is None else str(h)

    def record_head(self, conn: Connection | None = None) -> str:
        """The record chain's last hash (over recorded_at and source; GENESIS when empty)."""
        q = select(s.events.c.record_hash).order_by(s.events.c.seq.desc()).limit(1)
        with (nullcontext(conn) if conn is not None else self.read()) as c:
            h = c.execute(q).scalar()
        return h or GENESIS

    def append(self, events: Sequence[Event], payloads: Sequence[str], source: str | None = None, *,
               settled: Settled | None = None) -> int:
        """Write validated events and their projections; return how many.

        Inside :meth:`writing` the rows join its locked transaction; alone, the append takes the lock itself.
        ``settled``: the lots of the check that accepted the events, as they stand once written (the writer's
        memory keeps them; :mod:`lichain.storage.writer_memory`).

        Raises
        ------
        ConflictError
            When a uniqueness constraint refuses a row (another writer stored it first); nothing is written.
        """
        if not events:
            return 0
        with self.writing() as w:
            assert w._conn is not None
            conn = w._conn
            try:
                with conn.begin_nested():
                    w._append_rows(conn, events, payloads, source, settled)
            except IntegrityError as exc:
                w.discard()
                raise ConflictError(f"another writer stored a clashing record first: {exc.orig}") from None
        return len(events)

    def _append_rows(self, conn: Connection, events: Sequence[Event], payloads: Sequence[str],
                     source: str | None, settled: Settled | None = None) -> None:
        mem = self._memory if self._memory.use(conn, self._unit, 0) else None  # brought up to date before writing
        self._read_moves.clear()  # movements read with their lots are stale once anything is appended
        if mem is not None:  # it describes the ledger as this unit sees it: the head and the largest indexes
            (seq, prev), last = mem.tip()
        else:
            seq, prev = self.head(conn)
            last = {t: max_index(conn, t) for t in ("lots", "runs", "shipments")}
        nxt = {"lot": last["lots"] + 1, "run": last["runs"] + 1, "shipment": last["shipments"] + 1}
        lot_idx = self._lot_index(conn, events, mem)
        target_seq = self._target_seqs(conn, events)
        recorded = format_time(datetime.now(UTC))
        rows = event_tuples(events, payloads, seq, prev, nxt, lot_idx, target_seq, recorded, source, chain_hash, to_us,
                            self.record_head(conn))
        mark = "?" if self.is_sqlite else "%s"
        for table, data in rows.items():
            if data:  # positional rows in the table's column order (storage/fastrows.py)
                cols = COLUMNS[table]
                conn.exec_driver_sql(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join([mark] * len(cols))})",
                                     data)
        if mem is not None:
            mem.wrote(events, rows, settled)

    def _lot_index(self, conn: Connection, events: Sequence[Event], mem: WriterMemory | None) -> dict[str, int]:
        refs: set[str] = set()
        for ev in events:
            b = ev.body
            if isinstance(b, Run):
                refs.update(c.lot for c in b.inputs)
            elif isinstance(b, Shipment):
                refs.add(b.lot)
        out: dict[str, int] = {}
        if mem is not None:
            out, rest = mem.lot_index(refs)
            refs = set(rest)
        out.update(in_rows(conn, "SELECT id, idx FROM lots WHERE id IN ({keys})", refs))
        return out

    def _target_seqs(self, conn: Connection, events: Sequence[Event]) -> dict[str, int]:
        ids = [ev.body.target_event_id for ev in events if isinstance(ev.body, Retraction)]
        out: dict[str, int] = {}
        for part in chunks(ids):
            out.update(conn.execute(select(s.events.c.event_id, s.events.c.seq)
                                    .where(s.events.c.event_id.in_(_IDS)), {"ids": list(part)}).all())
        return out

    # --- reads for services ---------------------------------------------------------------------------------
    def iter_events(self, batch: int = 20_000) -> Iterator[StoredEvent]:
        """All events in chain order, streamed."""
        last = 0
        with self.read() as conn:
            while True:
                rows = conn.execute(select(s.events).where(s.events.c.seq > last)
                                    .order_by(s.events.c.seq).limit(batch)).all()
                if not rows:
                    return
                for r in rows:
                    yield StoredEvent(r.seq, r.event_id, r.kind, r.time, r.payload, r.prev_hash, r.chain_hash,
                                      r.recorded_at, r.source, r.record_hash)
                last = rows[-1].seq

    def stored_event(self, event_id: str) -> StoredEvent | None:
        """One recorded event by id, or None."""
        with self.read() as conn:
            r = conn.execute(select(s.events).where(s.events.c.event_id == event_id)).first()
        return None if r is None else StoredEvent(r.seq, r.event_id, r.kind, r.time, r.payload, r.prev_hash,
                                                  r.chain_hash, r.recorded_at, r.source, r.record_hash)

    def deep_verify(self, *, limit: int = 20, batch: int = 20_000) -> ProjectionReport:
        """Rebuild every projection table from the events and compare it row by row (``verify --deep``)."""
        from lichain.storage.deep_verify import deep_verify

        with self.read() as conn:
            rep = deep_verify(conn, self.iter_events(), batch=batch, limit=limit)
        return ProjectionReport(dict(rep.rows_compared), tuple(rep.mismatches), rep.mismatch_count)

    def counts(self) -> dict[str, int]:
        """Row counts of every table (for reports and for 'nothing was written' checks)."""
        with self.read() as conn:
            return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                    for t in s.metadata.sorted_tables}


def open_store(url: str | None = None, *, create: bool = True) -> SqlStore:
    """Open a store and bring its schema to the newest revision."""
    from lichain.storage.urls import redact_url, scrub

    url = resolve_url(url)
    try:
        store = SqlStore(url)
        if store.schema_revision() == SCHEMA_REVISION:
            pass  # up to date: no need to load Alembic (about 0.3 s of every command)
        elif create or store.is_initialised():
            store.migrate()
        else:
            raise StorageError(f"no lichain ledger at {redact_url(url)}; run `lichain init` first")
    except StorageError:
        raise
    except Exception as exc:  # driver errors: unreachable server, bad URL, permissions (never the password)
        raise StorageError(scrub(f"cannot open {url}: {exc}", url)) from None
    return store
