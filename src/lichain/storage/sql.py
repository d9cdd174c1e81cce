"""SQL ledger adapter: SQLite (embedded default, WAL, one writer) and PostgreSQL (production), one code path.

``SqlStore`` implements the ledger view the validator reads (bulk lookups, chunked ``IN`` lists) and the
append path. Writing is a unit of work: ``with store.writing() as w:`` takes the write lock first
(``BEGIN IMMEDIATE`` on SQLite, a transaction-scoped advisory lock on PostgreSQL) and yields a
:class:`LedgerWriter`, the same view bound to that one locked connection, so the rules read exactly the state
the document is appended to and no other writer can change it in between (docs/ledger.md, "Concurrent
writers"). The transaction commits when the block ends normally, and rolls back on an exception or
:meth:`LedgerWriter.discard`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from lichain.core.codec import GENESIS, chain_hash, format_time
from lichain.core.errors import StorageError, WriteConflict
from lichain.core.model import Event, Retraction, Run, Shipment
from lichain.core.ports import BoundaryRun, ClaimLot, ClaimRecord, LotState, StoredEvent
from lichain.storage import schema as s
from lichain.storage.rows import as_tuples, event_rows

__all__ = ["DEFAULT_URL", "LedgerWriter", "SqlStore", "chunks", "open_store", "resolve_url", "to_us"]

DEFAULT_URL = "sqlite:///lichain.db"
_CHUNK = 500
_PG_LOCK = 0x6C6963686169  # "lichai": advisory lock key serialising writers


def resolve_url(url: str | None = None) -> str:
    """``--db`` value, else ``LICHAIN_DB``, else ``./lichain.db``; a bare path means a SQLite file."""
    url = url or os.environ.get("LICHAIN_DB") or DEFAULT_URL
    if "://" not in url:
        url = f"sqlite:///{url}"
    return url


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=65536)
def to_us(t: datetime) -> int:
    """Aware datetime → integer microseconds since the Unix epoch (UTC)."""
    d = t - _EPOCH
    return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds


def chunks(items: Sequence[Any], n: int = _CHUNK) -> Iterator[Sequence[Any]]:
    """Consecutive slices of at most ``n`` items."""
    for i in range(0, len(items), n):
        yield items[i : i + n]


def _make_engine(url: str) -> Engine:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _rec: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            if u.database not in (None, "", ":memory:"):
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA cache_size=-200000")
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")

        return engine
    if u.get_backend_name() == "postgresql" and u.get_driver_name() in ("", "psycopg2"):
        u = u.set(drivername="postgresql+psycopg")
    return create_engine(u, pool_pre_ping=True)


class SqlStore:
    """The ledger on a SQL database."""

    def __init__(self, url: str | None = None) -> None:
        self.url = resolve_url(url)
        self.engine = _make_engine(self.url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"

    # --- lifecycle ------------------------------------------------------------------------------------------
    def migrate(self) -> None:
        """Create or upgrade the schema to the newest Alembic revision."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def is_initialised(self) -> bool:
        """True when the schema exists."""
        from sqlalchemy import inspect

        return inspect(self.engine).has_table("events")

    def close(self) -> None:
        """Release connections."""
        self.engine.dispose()

    def read(self) -> AbstractContextManager[Connection]:
        """A read connection (context manager); inside :meth:`writing`, the locked write connection."""
        return self.engine.connect()

    # --- LedgerView (bulk) ----------------------------------------------------------------------------------
    def lots(self, ids: Iterable[str]) -> dict[str, LotState]:
        """Stored lots among ``ids`` with their use so far."""
        ids = sorted(set(ids))
        out: dict[str, LotState] = {}
        if not ids:
            return out
        with self.read() as conn:
            for part in chunks(ids):
                rows = conn.execute(
                    select(s.lots.c.idx, s.lots.c.id, s.lots.c.mass_mg, s.lots.c.produced_us, s.lots.c.site,
                           s.events.c.event_id)
                    .join(s.events, s.events.c.seq == s.lots.c.event_seq)
                    .where(s.lots.c.id.in_(part))
                ).all()
                out.update(self._lot_states(conn, rows))
        return out

    def _lot_states(self, conn: Connection, rows: Sequence[Any]) -> dict[str, LotState]:
        if not rows:
            return {}
        idxs = [r.idx for r in rows]
        assay: dict[int, dict[str, int]] = {i: {} for i in idxs}
        for r in conn.execute(select(s.assays).where(s.assays.c.lot_idx.in_(idxs))):
            assay[r.lot_idx][r.element] = r.ppb
        live_runs = ~s.runs.c.event_seq.in_(select(s.retractions.c.target_seq))
        consumed = dict(conn.execute(
            select(s.consumptions.c.lot_idx, func.sum(s.consumptions.c.mass_mg))
            .join(s.runs, s.runs.c.idx == s.consumptions.c.run_idx)
            .where(s.consumptions.c.lot_idx.in_(idxs), live_runs)
            .group_by(s.consumptions.c.lot_idx)
        ).all())
        live_ships = ~s.shipments.c.event_seq.in_(select(s.retractions.c.target_seq))
        shipped = dict(conn.execute(
            select(s.shipments.c.lot_idx, func.sum(s.shipments.c.mass_mg))
            .where(s.shipments.c.lot_idx.in_(idxs), live_ships)
            .group_by(s.shipments.c.lot_idx)
        ).all())
        return {
            r.id: LotState(
                r.id, r.mass_mg, int(consumed.get(r.idx, 0)), int(shipped.get(r.idx, 0)), assay[r.idx],
                datetime.fromtimestamp(r.produced_us / 1e6, UTC).replace(microsecond=r.produced_us % 1_000_000),
                r.site, r.event_id,
            )
            for r in rows
        }

    def sites(self, ids: Iterable[str]) -> set[str]:
        """Stored site ids among ``ids``."""
        return self._present(s.sites.c.id, ids)

    def materials(self, codes: Iterable[str]) -> set[str]:
        """Stored material codes among ``codes``."""
        return self._present(s.materials.c.code, codes)

    def _present(self, col: Any, ids: Iterable[str]) -> set[str]:
        ids = sorted(set(ids))
        found: set[str] = set()
        with self.read() as conn:
            for part in chunks(ids):
                found.update(conn.execute(select(col).where(col.in_(part))).scalars())
        return found

    def event_payloads(self, ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """Stored events among ``ids``: id → (kind, payload)."""
        ids = sorted(set(ids))
        out: dict[str, tuple[str, str]] = {}
        with self.read() as conn:
            for part in chunks(ids):
                for r in conn.execute(select(s.events.c.event_id, s.events.c.kind, s.events.c.payload)
                                      .where(s.events.c.event_id.in_(part))):
                    out[r.event_id] = (r.kind, r.payload)
        return out

    def retracted(self, ids: Iterable[str]) -> set[str]:
        """Event ids among ``ids`` retracted by an error declaration."""
        ids = sorted(set(ids))
        found: set[str] = set()
        with self.read() as conn:
            for part in chunks(ids):
                found.update(conn.execute(
                    select(s.events.c.event_id)
                    .join(s.retractions, s.retractions.c.target_seq == s.events.c.seq)
                    .where(s.events.c.event_id.in_(part))
                ).scalars())
        return found

    def record_ids(self, kind: str, ids: Iterable[str]) -> dict[str, str]:
        """Stored runs or shipments among ``ids``: record id → event id."""
        t = s.runs if kind == "run" else s.shipments
        ids = sorted(set(ids))
        out: dict[str, str] = {}
        with self.read() as conn:
            for part in chunks(ids):
                out.update(conn.execute(
                    select(t.c.id, s.events.c.event_id).join(s.events, s.events.c.seq == t.c.event_seq)
                    .where(t.c.id.in_(part))
                ).all())
        return out

    def lots_of_event(self, event_id: str) -> list[LotState]:
        """Lots created by one stored event."""
        with self.read() as conn:
            rows = conn.execute(
                select(s.lots.c.idx, s.lots.c.id, s.lots.c.mass_mg, s.lots.c.produced_us, s.lots.c.site,
                       s.events.c.event_id)
                .join(s.events, s.events.c.seq == s.lots.c.event_seq)
                .where(s.events.c.event_id == event_id)
            ).all()
            return list(self._lot_states(conn, rows).values())

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
        conn = self.engine.connect()
        conn.info["write"] = True
        return conn

    def _lock(self, conn: Connection) -> None:
        """Serialise writers (SQLite: ``BEGIN IMMEDIATE`` already holds the file's write lock)."""
        if not self.is_sqlite:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})

    @contextmanager
    def writing(self) -> Iterator[LedgerWriter]:
        """One locked transaction: read the ledger, append to it, commit at the end (roll back on error/discard).

        Every read of the yielded :class:`LedgerWriter` goes through the locked connection, so what the rules
        check is what the document is appended to. A uniqueness clash raises :class:`WriteConflict`.
        """
        conn = self._write()
        try:
            trans = conn.begin()
            try:
                self._lock(conn)
                w = LedgerWriter(self, conn)
                yield w
            except IntegrityError as exc:
                trans.rollback()
                raise WriteConflict(f"the ledger already holds a record this document would create again "
                                    f"({type(exc.orig).__name__}: {str(exc.orig).splitlines()[0]})") from exc
            except BaseException:
                trans.rollback()
                raise
            if w.discarded:
                trans.rollback()
            else:
                try:
                    trans.commit()
                except IntegrityError as exc:
                    raise WriteConflict(f"the ledger already holds a record this document would create again "
                                        f"({type(exc.orig).__name__})") from exc
        finally:
            conn.close()

    def head(self, conn: Connection | None = None) -> tuple[int, str]:
        """(last seq, chain hash) of the event chain; (0, GENESIS) when empty."""
        q = select(s.events.c.seq, s.events.c.chain_hash).order_by(s.events.c.seq.desc()).limit(1)
        if conn is None:
            with self.read() as c:
                row = c.execute(q).first()
        else:
            row = conn.execute(q).first()
        return (row.seq, row.chain_hash) if row else (0, GENESIS)

    def append(self, events: Sequence[Event], payloads: Sequence[str], source: str | None = None) -> int:
        """Write validated events and their projections in one locked transaction; return how many.

        Validation must happen in the same transaction to be safe against other writers: prefer
        ``with store.writing() as w: check_document(..., w); w.append(...)``.
        """
        if not events:
            return 0
        with self.writing() as w:
            return w.append(events, payloads, source)

    def _append_on(self, conn: Connection, events: Sequence[Event], payloads: Sequence[str],
                   source: str | None) -> int:
        """Extend the chain and write the projections on ``conn`` (inside a locked transaction)."""
        if not events:
            return 0
        seq, prev = self.head(conn)
        nxt = {
            "lot": conn.execute(select(func.coalesce(func.max(s.lots.c.idx), -1))).scalar_one() + 1,
            "run": conn.execute(select(func.coalesce(func.max(s.runs.c.idx), -1))).scalar_one() + 1,
            "shipment": conn.execute(select(func.coalesce(func.max(s.shipments.c.idx), -1))).scalar_one() + 1,
        }
        lot_idx = self._lot_index(conn, events)
        target_seq = self._target_seqs(conn, events)
        recorded = format_time(datetime.now(UTC))
        rows = event_rows(events, payloads, seq, prev, nxt, lot_idx, target_seq, recorded, source, chain_hash,
                          to_us)
        for table, data in rows.items():
            if data:
                self._insert_many(conn, getattr(s, table), data)
        return len(events)

    def _insert_many(self, conn: Connection, table: Any, data: list[dict[str, Any]]) -> None:
        """One driver-level ``executemany`` with positional rows (no per-row statement compilation)."""
        cols = [c.name for c in table.columns]
        mark = "?" if self.is_sqlite else "%s"
        sql = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join([mark] * len(cols))})"
        conn.exec_driver_sql(sql, as_tuples(cols, data))

    def _lot_index(self, conn: Connection, events: Sequence[Event]) -> dict[str, int]:
        refs: set[str] = set()
        for ev in events:
            b = ev.body
            if isinstance(b, Run):
                refs.update(c.lot for c in b.inputs)
            elif isinstance(b, Shipment):
                refs.add(b.lot)
        out: dict[str, int] = {}
        for part in chunks(sorted(refs)):
            out.update(conn.execute(select(s.lots.c.id, s.lots.c.idx).where(s.lots.c.id.in_(part))).all())
        return out

    def _target_seqs(self, conn: Connection, events: Sequence[Event]) -> dict[str, int]:
        ids = [ev.body.target_event_id for ev in events if isinstance(ev.body, Retraction)]
        out: dict[str, int] = {}
        for part in chunks(ids):
            out.update(conn.execute(select(s.events.c.event_id, s.events.c.seq)
                                    .where(s.events.c.event_id.in_(part))).all())
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
                    yield StoredEvent(r.seq, r.event_id, r.kind, r.time, r.payload, r.prev_hash, r.chain_hash)
                last = rows[-1].seq

    def stored_event(self, event_id: str) -> StoredEvent | None:
        """One recorded event by id, or None."""
        with self.read() as conn:
            r = conn.execute(select(s.events).where(s.events.c.event_id == event_id)).first()
        return None if r is None else StoredEvent(r.seq, r.event_id, r.kind, r.time, r.payload, r.prev_hash,
                                                  r.chain_hash)

    def counts(self) -> dict[str, int]:
        """Row counts of every table (for reports and for 'nothing was written' checks)."""
        with self.read() as conn:
            return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                    for t in s.metadata.sorted_tables}


class LedgerWriter(SqlStore):
    """The ledger view bound to one locked, uncommitted write transaction (from :meth:`SqlStore.writing`).

    It is a :class:`SqlStore` whose :meth:`read` yields the locked connection, so every ``LedgerView`` and
    ``CustodyView`` method reads the state this transaction sees, including its own uncommitted appends.
    """

    def __init__(self, store: SqlStore, conn: Connection) -> None:
        self.url, self.engine, self.is_sqlite = store.url, store.engine, store.is_sqlite
        self.conn = conn
        self.discarded = False
        self.written = 0

    def read(self) -> AbstractContextManager[Connection]:
        """The locked write connection (not closed on exit)."""
        return nullcontext(self.conn)

    @contextmanager
    def writing(self) -> Iterator[LedgerWriter]:
        """Already writing: nested units of work share this transaction."""
        yield self

    def append(self, events: Sequence[Event], payloads: Sequence[str], source: str | None = None) -> int:
        """Append validated events in this transaction (visible to this writer's reads, committed at the end)."""
        n = self._append_on(self.conn, events, payloads, source)
        self.written += n
        return n

    def discard(self) -> None:
        """Roll back instead of committing when the unit of work ends (a refused document, a dry run)."""
        self.discarded = True

    def close(self) -> None:
        """The store owns the engine; nothing to release here."""


def open_store(url: str | None = None, *, create: bool = True) -> SqlStore:
    """Open a store and bring its schema to the newest revision."""
    store = SqlStore(url)
    try:
        if create or store.is_initialised():
            store.migrate()
        else:
            raise StorageError(f"no lichain ledger at {store.url}; run `lichain init` first")
    except StorageError:
        raise
    except Exception as exc:  # driver errors: unreachable server, bad URL, permissions
        raise StorageError(f"cannot open {store.url}: {exc}") from exc
    return store
