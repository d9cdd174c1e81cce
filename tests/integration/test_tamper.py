"""Verification covers every stored fact: any single changed byte in any table is found, and by which table.

A small demo ledger holding every kind of row (lots, runs, shipments, activities, a factor override, a custody
claim, a supplier PCF, a retraction) is tampered with one stored value at a time: one character or digit of one column of one
row is changed in place, ``verify --deep`` runs, and the change is reverted. Every change must be found, the
report must name the changed table (changes to ``events`` break a hash chain), and the reverted ledger verifies.
Row deletions and insertions in projections are found too.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from lichain.core.codec import canonical_payload, content_event_id
from lichain.core.model import Event, EventKind, FactorOverride, SupplierPcf
from lichain.services import circularity as circ
from lichain.services.corrections import retract
from lichain.services.ingest import ingest_events
from lichain.services.verify import verify_chain, verify_deep
from lichain.storage import schema as s
from lichain.storage.deep_verify import tables
from lichain.storage.sql import SqlStore

CHANGES = {"sqlite": 1000, "postgresql": 250}


def _ledger(store: SqlStore) -> None:
    from lichain.core.validate import LocatedEvent
    from lichain.demo import generate
    from lichain.demo.sites import S
    from lichain.services.record import ingest_batches

    chain = generate(lots=200, seed=1)
    assert ingest_batches(store, [chain.master_events, *chain.batches(include_master=False)]).ok
    when = datetime(2026, 3, 1, tzinfo=UTC)
    fo = FactorOverride("grid:CN-EAST", Decimal("0.3"), "kg CO2/kWh", "supplier mix, test", S.PCAM, when)
    ev = Event(content_event_id(EventKind.FACTOR_OVERRIDE, canonical_payload(fo)), EventKind.FACTOR_OVERRIDE, when, fo)
    assert ingest_events([LocatedEvent("t:1", ev)], store).ok
    with store.read() as conn:  # a purchased Co(OH)2 lot (a source lot: no producing run)
        bought = conn.execute(sa.select(s.lots.c.id, s.lots.c.produced_us).where(
            s.lots.c.material == "CO-HYDROXIDE", s.lots.c.run_idx.is_(None)).order_by(s.lots.c.idx).limit(1)).one()
    pcf = SupplierPcf(bought[0], Decimal("23.7"), "Cobalt Supplier SARL", "PCF-2026-0042", "kg CO2e/kg Co",
                      "cradle-to-gate", "ISO 14067:2018", Decimal("2.4"), Decimal("35"),
                      datetime(2025, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    ev = Event(content_event_id(EventKind.SUPPLIER_PCF, canonical_payload(pcf)), EventKind.SUPPLIER_PCF, when, pcf)
    r = ingest_events([LocatedEvent("t:2", ev)], store)
    assert r.ok, r.problems
    year = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    claim = circ.propose_claim(store, "CB-PCAM", S.PCAM, *year, "controlled_blending")
    assert circ.record_claim(store, claim).ok
    with store.read() as conn:
        last_ship = conn.execute(sa.select(s.shipments.c.id).order_by(s.shipments.c.idx.desc()).limit(1)).scalar_one()
    assert retract(store, last_ship, "entered twice", declared_at=when + timedelta(days=300)).ok


def _mutate(value: Any, rng: random.Random) -> Any:
    """The value with one character (or one digit) changed, keeping its type."""
    text = str(value)
    i = rng.randrange(len(text))
    if isinstance(value, int):
        digits = [k for k, c in enumerate(text) if c.isdigit()]
        i = rng.choice(digits)
        new = text[:i] + rng.choice([d for d in "0123456789" if d != text[i]]) + text[i + 1:]
        return int(new)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:"
    return text[:i] + rng.choice([c for c in alphabet if c != text[i]]) + text[i + 1:]


def _found(store: SqlStore, table: str) -> bool:
    r = verify_deep(store, limit=50)
    if table == "events":
        return not r.ok
    return not r.ok and any(m.table == table for m in r.mismatches)


def test_every_table_is_covered_by_deep_verification() -> None:
    assert set(tables()) == {t.name for t in s.metadata.sorted_tables} - {"events"}


def test_any_single_changed_value_is_detected(store: SqlStore) -> None:
    _ledger(store)
    assert verify_deep(store).ok
    backend = "sqlite" if store.is_sqlite else "postgresql"
    rng = random.Random(20261205)
    cells: dict[str, list[tuple[sa.Table, sa.Column[Any], tuple[Any, ...]]]] = {}
    with store.read() as conn:
        for table in s.metadata.sorted_tables:  # a table, then one of its filled cells, drawn uniformly
            rows = conn.execute(sa.select(*table.columns)).all()
            assert rows, f"the tamper ledger has no {table.name} rows"
            cells[table.name] = [(table, col, tuple(r)) for col in table.columns for r in rows
                                 if r._mapping[col.name] not in (None, "")]
    tried = found = 0
    per_table: dict[str, int] = {}
    while tried < CHANGES[backend]:
        table, col, row = rng.choice(cells[rng.choice(sorted(cells))])
        old = row[list(table.columns).index(col)]
        new = _mutate(old, rng)
        if new == old:
            continue
        match = sa.and_(*(c.is_not_distinct_from(v) for c, v in zip(table.columns, row, strict=True)))
        try:
            with store.engine.begin() as conn:
                changed = conn.execute(sa.update(table).where(match).values({col.name: new})).rowcount
        except sa.exc.DBAPIError:  # a key clash or a value the column cannot hold: not a stored change
            continue
        assert changed >= 1
        tried += 1
        per_table[table.name] = per_table.get(table.name, 0) + 1
        hit = _found(store, table.name)
        found += hit
        assert hit, f"undetected: {table.name}.{col.name} {old!r} -> {new!r}"
        undo = sa.and_(*(c.is_not_distinct_from(new if c is col else v)
                         for c, v in zip(table.columns, row, strict=True)))
        with store.engine.begin() as conn:
            conn.execute(sa.update(table).where(undo).values({col.name: old}))
    assert found == tried
    assert set(per_table) == {t.name for t in s.metadata.sorted_tables}  # every table was tampered with
    assert verify_deep(store).ok


@pytest.mark.parametrize("table", [t for t in tables() if t not in ("retractions",)] + ["retractions"])
def test_deleted_and_inserted_projection_rows_are_detected(store: SqlStore, table: str) -> None:
    _ledger(store)
    t = getattr(s, table)
    with store.read() as conn:
        row = conn.execute(sa.select(*t.columns).limit(1)).first()
    assert row is not None
    match = sa.and_(*(c.is_not_distinct_from(v) for c, v in zip(t.columns, row, strict=True)))
    with store.engine.begin() as conn:
        conn.execute(sa.delete(t).where(match))
    r = verify_deep(store)
    assert not r.ok and any(m.table == table and m.problem in ("missing", "changed")
                               for m in r.mismatches)
    with store.engine.begin() as conn:
        conn.execute(sa.insert(t).values(dict(zip([c.name for c in t.columns], row, strict=True))))
    assert verify_deep(store).ok
    if table in ("activities",):  # no key: a duplicate row is an extra row
        with store.engine.begin() as conn:
            conn.execute(sa.insert(t).values(dict(zip([c.name for c in t.columns], row, strict=True))))
        r = verify_deep(store)
        assert not r.ok and any(m.table == table for m in r.mismatches)


def test_chain_check_alone_misses_projection_changes(store: SqlStore) -> None:
    """The measured failure: a lot's mass changed in the projection still passed the chain check."""
    _ledger(store)
    with store.engine.begin() as conn:
        conn.execute(sa.update(s.lots).where(s.lots.c.idx == 5).values(mass_mg=s.lots.c.mass_mg + 1))
    assert verify_chain(store).ok
    deep = verify_deep(store)
    assert not deep.ok
    (m,) = deep.mismatches
    assert (m.table, m.key, m.columns, m.problem) == ("lots", "idx=5", ("mass_mg",), "changed")
