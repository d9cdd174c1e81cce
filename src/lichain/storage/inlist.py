"""Bulk lookups by a long list of keys as driver-level statements: ``... IN (?, ?, ...)`` in chunks.

Why this exists: the write path's prefetch looks up tens of thousands of ids per document (events, lots, runs,
shipments, movements). Built with SQLAlchemy expressions, every value of an ``IN`` list is a bound parameter that
the compiler names and renders on each execution, which cost more than the queries. Here the statement text is
written once per chunk size and the values go to the driver as one tuple; the placeholders are the driver's
(``?`` for sqlite3, ``%s`` for psycopg), and SQLite's prepared-statement cache reuses full-size chunks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, text

__all__ = ["CHUNK", "driver_rows", "in_rows"]

#: Keys per statement (well under SQLite's 32,766 and PostgreSQL's 65,535 parameters).
CHUNK = 500


def in_rows(conn: Connection, sql: str, keys: Iterable[Any], chunk: int = CHUNK) -> list[Any]:
    """Rows of ``sql`` for every key, over as many chunks as needed. ``{keys}`` marks where the ``IN`` list goes;
    it may appear several times (e.g. in each branch of a ``UNION ALL``), each getting the same keys."""
    values = sorted(set(keys))
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    times = sql.count("{keys}")
    out: list[Any] = []
    for i in range(0, len(values), chunk):
        part = tuple(values[i : i + chunk])
        out += conn.exec_driver_sql(sql.format(keys=",".join([mark] * len(part))), part * times).all()
    return out


def driver_rows(conn: Connection, sql: Any, params: dict[str, Any] | None = None) -> list[Any]:
    """All rows of ``sql`` (SQL text or a statement) as the driver's plain tuples: SQLAlchemy ``Row`` objects cost
    2–3× more on millions of rows (bulk reads of whole tables)."""
    res = conn.execute(text(sql) if isinstance(sql, str) else sql, params or {})
    try:
        return list(res.cursor.fetchall()) if res.cursor is not None else []
    finally:
        res.close()
