"""One lot read from a SQLite ledger file with the standard library's ``sqlite3``, without SQLAlchemy.

``lichain show LOT`` is a one-shot process: importing SQLAlchemy costs it more than all its queries
(about 0.2 s of a 0.5 s budget, ``docs/performance.md``). On a SQLite ledger already at the newest schema
revision this reader answers the :class:`lichain.core.lot_reader.LotReader` queries with the same SQL the
SQLAlchemy statements of :mod:`lichain.storage.queries` and :mod:`lichain.storage.custody_sql` compile to;
``tests/integration/test_sqlite_read.py`` holds the two equal on every lot of a demo ledger. Anything else (a
PostgreSQL URL, a file at an older revision that must be migrated first, a missing file) gets ``None`` and the
caller opens the full store.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from lichain.core.codec import GENESIS
from lichain.core.lot_reader import LotRow
from lichain.core.ports import Movement
from lichain.storage.location import SCHEMA_REVISION, resolve_url

__all__ = ["SqliteLotReader", "open_sqlite_reader"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LIVE = "NOT IN (SELECT target_seq FROM retractions)"
_CHUNK = 500


def _at(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(us))


def _sqlite_path(url: str) -> Path | None:
    """The file of a plain ``sqlite:///path`` URL; None for other URLs, drivers, options or in-memory ones."""
    if not url.startswith("sqlite:///") or "?" in url:
        return None
    path = unquote(url[len("sqlite:///"):])
    return Path(path) if path and path != ":memory:" else None


def open_sqlite_reader(url: str | None) -> SqliteLotReader | None:
    """A reader on the SQLite ledger file of ``url`` (``--db`` rules), or None where the full store is needed."""
    url = resolve_url(url)
    path = _sqlite_path(url)
    if path is None or not path.is_file():
        return None
    try:  # mode=rw: never creates a file; the connection only reads
        conn = sqlite3.connect(f"file:{path.resolve().as_posix()}?mode=rw", uri=True, timeout=30.0)
    except sqlite3.Error:
        return None
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:  # not a ledger, or no schema yet: the full store says why
        conn.close()
        return None
    if row is None or row[0] != SCHEMA_REVISION:
        conn.close()
        return None
    return SqliteLotReader(url, conn)


class SqliteLotReader:
    """:class:`lichain.core.lot_reader.LotReader` on one ``sqlite3`` connection (reads only)."""

    is_sqlite = True

    def __init__(self, url: str, conn: sqlite3.Connection) -> None:
        self.url = url
        self._conn = conn

    def head(self) -> tuple[int, str]:
        """(last seq, chain hash); (0, GENESIS) when empty."""
        row = self._conn.execute("SELECT seq, chain_hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        return (int(row[0]), str(row[1])) if row else (0, GENESIS)

    def find_lot(self, lot_id: str) -> LotRow | None:
        """One lot by id (live or retracted), or None."""
        c = self._conn
        r = c.execute(
            "SELECT lots.idx, lots.id, lots.material, materials.stage, lots.site, lots.produced_us, lots.mass_mg, "
            "lots.origin FROM lots JOIN materials ON materials.code = lots.material WHERE lots.id = ? LIMIT 1",
            (lot_id,)).fetchone()
        if r is None:
            return None
        assay = dict(c.execute("SELECT element, ppb FROM assays WHERE lot_idx = ?", (r[0],)).fetchall())
        return LotRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], assay)

    def lot_detail(self, idx: int) -> dict[str, Any]:
        """Producing run with its inputs, live consuming runs, live shipments, and retraction status."""
        c = self._conn
        run_idx, event_seq, event_id = c.execute(
            "SELECT lots.run_idx, lots.event_seq, events.event_id FROM lots JOIN events ON events.seq = "
            "lots.event_seq WHERE lots.idx = ?", (idx,)).fetchone()
        retracted = c.execute("SELECT count(*) FROM retractions WHERE target_seq = ?", (event_seq,)).fetchone()[0] > 0
        run = None
        inputs: list[tuple[str, int]] = []
        if run_idx is not None:
            cur = c.execute("SELECT * FROM runs WHERE idx = ?", (run_idx,))
            run = dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))
            inputs = [tuple(r) for r in c.execute(
                "SELECT lots.id, consumptions.mass_mg FROM consumptions JOIN lots ON lots.idx = consumptions.lot_idx "
                "WHERE consumptions.run_idx = ? ORDER BY lots.idx", (run_idx,))]
        consumed_by = [tuple(r) for r in c.execute(
            "SELECT runs.id, consumptions.mass_mg FROM consumptions JOIN runs ON runs.idx = consumptions.run_idx "
            f"WHERE consumptions.lot_idx = ? AND runs.event_seq {_LIVE} ORDER BY runs.idx", (idx,))]
        cur = c.execute(
            "SELECT id, mass_mg, from_site, to_site, mode, distance_km, to_organisation, shipped_us FROM shipments "
            f"WHERE lot_idx = ? AND event_seq {_LIVE} ORDER BY idx", (idx,))
        names = [d[0] for d in cur.description]
        shipments = [dict(zip(names, r, strict=True)) for r in cur]
        return {"event_id": event_id, "retracted": retracted, "run": run, "inputs": inputs,
                "consumed_by": consumed_by, "shipments": shipments}

    def movements(self, ids: Iterable[str]) -> dict[str, list[Movement]]:
        """Live movements of the stored lots among ``ids``, per lot id (signed mass [mg])."""
        wanted = sorted(set(ids))
        out: dict[str, list[Movement]] = {}
        c = self._conn
        for i in range(0, len(wanted), _CHUNK):
            part = wanted[i:i + _CHUNK]
            marks = ", ".join("?" * len(part))
            lots = c.execute(
                "SELECT lots.idx, lots.id, lots.site, lots.produced_us, lots.mass_mg, events.event_id FROM lots "
                f"JOIN events ON events.seq = lots.event_seq WHERE lots.id IN ({marks}) AND lots.event_seq {_LIVE}",
                part).fetchall()
            if not lots:
                continue
            name = {r[0]: r[1] for r in lots}
            for _, lot, site, at, mass, ref in lots:
                out.setdefault(lot, []).append(Movement(lot, site, _at(at), mass, ref))
            idx_marks = ", ".join("?" * len(name))
            for lot_idx, from_site, to_site, at, mass, ref in c.execute(
                "SELECT shipments.lot_idx, shipments.from_site, shipments.to_site, shipments.shipped_us, "
                "shipments.mass_mg, events.event_id FROM shipments JOIN events ON events.seq = shipments.event_seq "
                f"WHERE shipments.lot_idx IN ({idx_marks}) AND shipments.event_seq {_LIVE}", list(name)):
                lot, when = name[lot_idx], _at(at)
                out[lot].append(Movement(lot, from_site, when, -mass, ref))
                out[lot].append(Movement(lot, to_site, when, mass, ref))
            for lot_idx, site, at, mass, ref in c.execute(
                "SELECT consumptions.lot_idx, runs.site, runs.started_us, consumptions.mass_mg, events.event_id "
                "FROM consumptions JOIN runs ON runs.idx = consumptions.run_idx JOIN events ON events.seq = "
                f"runs.event_seq WHERE consumptions.lot_idx IN ({idx_marks}) AND runs.event_seq {_LIVE}",
                list(name)):
                lot = name[lot_idx]
                out[lot].append(Movement(lot, site, _at(at), -mass, ref))
        return out

    def full_store(self) -> Any:
        """The full SQL store of the same ledger (imports SQLAlchemy)."""
        from lichain.storage.sql import open_store

        return open_store(self.url, create=False)

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()
