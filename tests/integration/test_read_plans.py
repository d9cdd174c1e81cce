"""Per-request reads find their rows through indexes on SQLite: the query plans of the lot-parties read, the
movements read and the changing-kinds probe search (never scan) the ledger's big tables.

Measured before: the parties read written with a parenthesised ``LEFT JOIN (shipments JOIN sites)`` was planned
as a scan of every shipment, 0.41 s per request at 1 M lots (a load run fell to 2.6 reads per second)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import sqlite

from lichain.services.footprint_extend import CHANGES_EARLIER
from lichain.storage.access_sql import _parties_statement
from lichain.storage.custody_sql import _LOTS_AND_MOVES
from lichain.storage.footprint_sql import _kinds_since_statement
from lichain.storage.sql import SqlStore

BIG = ("lots", "runs", "events", "shipments", "consumptions", "sites", "assays", "activities")


def _plan(store: SqlStore, sql: str, params: tuple[Any, ...]) -> list[str]:
    raw = store.engine.raw_connection()
    try:
        return [str(r[3]) for r in raw.cursor().execute("EXPLAIN QUERY PLAN " + sql, params)]
    finally:
        raw.close()


def _scans(plan: list[str]) -> list[str]:
    return [line for line in plan if (line.startswith("SCAN") and line.split()[1] in BIG) or "MATERIALIZE" in line]


def test_per_request_reads_search_the_big_tables(sqlite_store: SqlStore) -> None:
    parties = _parties_statement().compile(dialect=sqlite.dialect())
    plan = _plan(sqlite_store, str(parties), ("L1",))
    assert any("SEARCH lots" in line for line in plan) and _scans(plan) == [], plan
    plan = _plan(sqlite_store, _LOTS_AND_MOVES.format(keys="?,?"), ("L1", "L2") * 3)
    assert sum("SEARCH l " in line for line in plan) == 3 and _scans(plan) == [], plan
    kinds = _kinds_since_statement(tuple(sorted(CHANGES_EARLIER))).compile(dialect=sqlite.dialect())
    params = tuple(kinds.params[k] if kinds.params[k] is not None else 0 for k in kinds.positiontup or ())
    plan = _plan(sqlite_store, str(kinds), params)
    assert sum("SEARCH events" in line for line in plan) == len(CHANGES_EARLIER) and _scans(plan) == [], plan
