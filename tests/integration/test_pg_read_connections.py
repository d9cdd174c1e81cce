"""How PostgreSQL is driven for reads: no transaction, statements prepared once per connection.

Measured before: every reading block checked a connection out in a transaction (``BEGIN`` sent by the driver
before the first statement, ``ROLLBACK`` when the pool took it back), and the driver drops its prepared
statements at every ``ROLLBACK``, so every read was planned again: the risk-kind probe of an upstream trace took
1.18 ms, of which 1.0 ms was planning, and a trace request at 1 M lots 7.0 ms; without them 0.24 ms and 4.4 ms.
"""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text

from lichain.core.errors import ConflictError
from lichain.storage import access_sql as acc
from lichain.storage.sql import SqlStore
from lichain.storage.writer_memory import WriterMemory

_IDLE = psycopg.pq.TransactionStatus.IDLE


def _driver(store: SqlStore) -> psycopg.Connection:
    with store.read() as conn:
        return conn.connection.driver_connection


def test_a_reading_block_opens_no_transaction(pg_store: SqlStore) -> None:
    with pg_store.reading():
        pg_store.head()
        assert _driver(pg_store).info.transaction_status == _IDLE


def test_a_repeated_read_is_prepared_once_and_kept_across_blocks(pg_store: SqlStore) -> None:
    for _ in range(8):  # the driver prepares a statement from its sixth run on a connection
        with pg_store.reading():
            pg_store.head()
    with pg_store.reading(), pg_store.read() as conn:
        prepared = conn.execute(text("SELECT statement FROM pg_prepared_statements")).scalars().all()
    assert any("FROM events ORDER BY events.seq DESC" in q for q in prepared), prepared


def test_writes_still_run_in_one_transaction(pg_store: SqlStore) -> None:
    """A write that fails halfway leaves nothing: the unit of work is one transaction, not autocommitted
    statements."""
    acc.add_user(pg_store, "ann", "ORG-A", "owner")
    with pytest.raises(ZeroDivisionError), pg_store.transaction() as conn:
        conn.execute(text("UPDATE access_users SET organisation = 'ORG-B' WHERE id = 'ann'"))
        assert conn.connection.driver_connection.info.transaction_status != _IDLE
        raise ZeroDivisionError
    assert [u.organisation for u in acc.list_users(pg_store)] == ["ORG-A"]
    with pytest.raises(ConflictError):
        acc.add_user(pg_store, "ann", "ORG-A", "owner")
    with pg_store.writing() as w:
        w.discard()
        assert _driver(w).info.transaction_status != _IDLE  # the write lock is held by a transaction


def test_queries_start_no_parallel_workers_and_the_urls_options_still_apply(pg_store: SqlStore) -> None:
    """Measured before: a trace's movements read over 40 lots at 1 M lots was planned with 2 parallel workers,
    10.2 ms to start them for 0.8 ms of work; sequential trace reads p99 16.3 ms, without 8.8 ms."""
    with pg_store.read() as conn:
        assert conn.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "0"
        # the suite's store names its schema in the URL's options: the ledger's tables are found there
        assert conn.execute(text("SHOW search_path")).scalar().startswith("t_")


def test_a_writers_lookups_are_planned_for_their_values(pg_store: SqlStore) -> None:
    """Measured before: the prefetch's prepared IN-list look-ups settled on a generic plan while the tables were
    small and kept it once they were large (the third document of a 20 k-lot demo: prefetch 6.5 s against 0.3 s;
    bulk validated and hashed 3.6 k -> 27 k events/s). Inside the write lock every execution gets its own plan;
    reads outside keep PostgreSQL's default."""
    pg_store._memory = WriterMemory(mode="off")  # look every id up (the memory skips ids certainly not on record)
    with pg_store.writing() as w:
        for _ in range(8):  # the driver prepares from the sixth run; PostgreSQL may go generic from its sixth
            w.event_payloads([f"urn:uuid:{k}" for k in range(600)])
        with w.read() as conn:
            assert conn.exec_driver_sql("SHOW plan_cache_mode").scalar() == "force_custom_plan"
            plans = conn.exec_driver_sql(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE strpos(statement, 'event_id IN') > 0"
            ).all()
        w.discard()
    assert plans and all(g == 0 and c > 0 for g, c in plans), plans
    with pg_store.reading(), pg_store.read() as conn:
        assert conn.exec_driver_sql("SHOW plan_cache_mode").scalar() == "auto"
