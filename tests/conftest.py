"""Shared fixtures: a ``store`` on SQLite and on PostgreSQL for every storage test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from lichain.storage.sql import SqlStore, open_store

PG_URL = os.environ.get("LICHAIN_TEST_PG_URL")
# The ledger's clock for the suite: fixtures are dated up to 2027, and results must not depend on the day the
# suite runs (times later than this plus one day are refused as future; see lichain.core.limits).
os.environ.setdefault("LICHAIN_NOW", "2027-12-31T00:00:00Z")


def _pg_store() -> Iterator[SqlStore]:
    if not PG_URL:
        if os.environ.get("LICHAIN_REQUIRE_PG"):
            raise RuntimeError("LICHAIN_TEST_PG_URL is not set but PostgreSQL tests are required")
        pytest.fail("PostgreSQL is not available: run the suite through `make test` (scripts/test.sh)")
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as c:
        c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    store = open_store(f"{PG_URL}{sep}options=-csearch_path%3D{schema}")
    try:
        yield store
    finally:
        store.close()
        with admin.begin() as c:
            c.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[SqlStore]:  # type: ignore[no-untyped-def]
    """An empty ledger on each backend."""
    if request.param == "sqlite":
        s = open_store(str(tmp_path / "ledger.db"))
        try:
            yield s
        finally:
            s.close()
    else:
        yield from _pg_store()


@pytest.fixture
def pg_store() -> Iterator[SqlStore]:
    """An empty ledger on PostgreSQL only (for tests of how that backend is driven)."""
    yield from _pg_store()


@pytest.fixture
def sqlite_store(tmp_path) -> Iterator[SqlStore]:  # type: ignore[no-untyped-def]
    """An empty ledger on SQLite only (for tests that are not about the backend)."""
    s = open_store(str(tmp_path / "ledger.db"))
    try:
        yield s
    finally:
        s.close()
