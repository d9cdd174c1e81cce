"""Certificates and deviations of a document's lots are found by index, with the same answer as a full read.

The quality rule used to decode every certificate on record for every document. It now asks for the statements
naming the document's lots (partial expression index ``ix_events_quality_lot``, migration 0012). On a 300-lot
demo ledger, on SQLite and PostgreSQL, the answer for any set of lots equals the old
full read filtered in Python, and the database plans the lookup on that index.
"""

from __future__ import annotations

import json
import random

import pytest
from sqlalchemy import text

from lichain.services.demo import run_demo
from lichain.storage.quality_sql import events_of_kinds, quality_records, records_from
from lichain.storage.sql import SqlStore


def _full_read(store: SqlStore, lots: set[str]) -> tuple[list[object], list[object], list[object]]:
    """The former rule: every live specification, certificate and deviation decoded, filtered in Python."""
    with store.read() as conn:
        rows = [(k, p) for k, _, p in events_of_kinds(conn, ("specification", "coa", "deviation"))]
    r = records_from(rows, {}, lots)
    return (list(r.specifications), list(r.certificates), list(r.deviations))


def test_lot_statements_by_index_equal_the_full_read(store: SqlStore) -> None:
    assert run_demo(store, lots=300).ok
    with store.read() as conn:
        coas = [(e, json.loads(p)["lot"], json.loads(p)["id"])
                for k, e, p in events_of_kinds(conn, ("coa", "deviation")) if k == "coa"]
    assert len(coas) > 20
    lots = sorted({lot for _, lot, _ in coas})
    rng = random.Random(7)
    cases = [set(lots), set(lots[:600]), set(rng.sample(lots, 5)), {lots[-1], "not a lot"}, {"not a lot"}, set()]
    for wanted in cases:
        with store.read() as conn:
            r = quality_records(conn, wanted)
        got = (list(r.specifications), list(r.certificates), list(r.deviations))
        assert got == _full_read(store, wanted)
    assert _full_read(store, set(lots))[1]  # the comparison saw certificates


def test_the_lookup_is_planned_on_the_index(store: SqlStore) -> None:
    assert run_demo(store, lots=300).ok
    with store.read() as conn:
        if store.is_sqlite:
            plan = conn.execute(text("EXPLAIN QUERY PLAN SELECT seq FROM events WHERE kind IN ('coa', 'deviation') "
                                     "AND json_extract(payload, '$.lot') IN ('a', 'b')")).all()
        else:
            conn.execute(text("SET enable_seqscan = off"))  # a small table: ask whether the index can serve
            plan = conn.execute(text("EXPLAIN SELECT seq FROM events WHERE kind IN ('coa', 'deviation') "
                                     "AND (payload::jsonb ->> 'lot') IN ('a', 'b')")).all()
    assert "ix_events_quality_lot" in " ".join(str(x) for row in plan for x in row)


@pytest.mark.parametrize("expr", ["json_extract(payload, '$.lot')"])
def test_the_query_uses_the_migrations_expression(expr: str) -> None:
    """The index serves only a query with its exact expression: the migration and the query share the text."""
    from importlib import import_module

    from lichain.storage import quality_sql

    mig = import_module("lichain.storage.migrations.versions.0012_events_quality_lot_index")
    assert mig.LOT_EXPR == quality_sql._LOT_EXPR and mig.LOT_EXPR["sqlite"] == expr
    assert mig.WHERE == quality_sql._LOT_KINDS
