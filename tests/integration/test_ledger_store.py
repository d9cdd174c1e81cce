"""The ledger on SQLite and PostgreSQL: invariants enforced on write, all-or-nothing, idempotence, chain verify."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from lichain.core.codec import event_from_payload
from lichain.core.model import Retraction
from lichain.core.validate import LocatedEvent
from lichain.entrypoints.present import jsonable
from lichain.services import query
from lichain.services.ingest import ingest_events
from lichain.services.verify import verify_chain
from lichain.storage import sql
from lichain.storage.sql import SqlStore
from tests.support.chain_text import event, parse_chain

BASE = """
site M1 mine ID
site R1 refinery CN
site C1 cell_plant KR Customer
material ORE ore
material NSO refined_salt NiSO4·6H2O
lot L1 ORE @M1 2026-01-01 1000kg Ni=0.012 Co=0.001
ship S0 L1 1000kg M1->R1 2026-01-01T12:00 sea_container 4000km
run R-1 refining @R1 2026-01-02..2026-01-03 in L1:500kg out L2:NSO:26.8kg:Ni=0.2233 loss Ni=0.01556kg Co=0.5kg
ship S1 L2 12kg R1->C1 2026-01-04 sea_container 9000km Customer
"""
# Independent arithmetic for R-1: Ni in = 500 × 0.012 = 6 kg; out = 26.8 × 0.2233 = 5.98444 kg;
# loss 0.01556 kg → difference 0. Co in = 500 × 0.001 = 0.5 kg, all declared as loss.


def state(store: SqlStore) -> tuple[dict[str, int], str]:
    """Row counts of every table and the chain head: what must not change when a document is refused."""
    return store.counts(), store.head()[1]


def test_valid_document_is_written_and_reads_back_identically(store: SqlStore) -> None:
    doc = parse_chain(BASE)
    r = ingest_events(doc, store)
    assert r.ok and r.events_written == len(doc) and not r.problems
    stored = [event_from_payload(e.event_id, e.kind, e.time, e.payload) for e in store.iter_events()]
    assert stored == [le.event for le in doc]
    lot = jsonable(query.show_lot(store, "L1"))
    assert lot["consumed_kg"] == 500 and lot["remaining_kg"] == 500
    l2 = jsonable(query.show_lot(store, "L2"))
    assert l2["inputs"] == [{"lot": "L1", "mass_kg": 500}]
    assert l2["shipped_kg"] == 12 and l2["shipments"][0]["to_organisation"] == "Customer"
    assert query.balance(store).problems == ()
    v = verify_chain(store)
    assert v.ok and v.events == len(doc) and v.first_bad_event is None


def test_reingest_is_a_noop(store: SqlStore) -> None:
    doc = parse_chain(BASE)
    assert ingest_events(doc, store).ok
    before = state(store)
    r = ingest_events(doc, store)
    assert r.ok and r.events_written == 0 and r.events_skipped == len(doc)
    assert state(store) == before


BAD = {
    "over-consumption": ("run R-2 refining @R1 2026-01-05..2026-01-05 in L1:600kg out L3:NSO:32.2kg:Ni=0.2233",
                         "fixture:1/inputs/0", "over-consumption of lot L1"),
    "unknown lot": ("run R-2 refining @R1 2026-01-05..2026-01-05 in NOPE:1kg out L3:NSO:1kg",
                    "fixture:1/inputs/0", "unknown lot NOPE"),
    "cycle: own output": ("run R-2 refining @R1 2026-01-05..2026-01-05 in L3:1kg out L3:NSO:1kg",
                          "fixture:1/inputs/0", "cycle"),
    "unbalanced run": ("run R-2 refining @R1 2026-01-05..2026-01-05 in L1:100kg out L3:NSO:10kg:Ni=0.2233",
                       "fixture:1/balance/Ni", "Ni does not balance"),
    "fractions over 1": ("lot L9 ORE @M1 2026-01-05 10kg Ni=0.6 Co=0.5", "fixture:1", "sum to 1.1"),
    "fraction out of range": ("lot L9 ORE @M1 2026-01-05 10kg Ni=1.5", "fixture:1", "within 0..1"),
    "unknown site": ("lot L9 ORE @NOWHERE 2026-01-05 10kg Ni=0.1", "fixture:1", "unknown site"),
    "unknown material": ("lot L9 XXX @M1 2026-01-05 10kg Ni=0.1", "fixture:1", "unknown material"),
    "lot exists": ("lot L1 ORE @M1 2026-01-05 10kg Ni=0.1", "fixture:1", "already exists"),
    "input after run": ("run R-2 refining @R1 2025-12-01..2025-12-02 in L1:1kg out L3:ORE:1kg:Ni=0.012:Co=0.001",
                        "fixture:1/inputs/0", "produced after run"),
    "over-shipment": ("ship S2 L2 20kg R1->C1 2026-01-05 sea_container 9000km", "fixture:1",
                      "exceeds what is at its origin: lot L2 at site R1 on 2026-01-05T00:00:00Z: 14.800000 kg available"),
    "element from nowhere": ("run R-2 refining @R1 2026-01-05..2026-01-05 in L1:10kg out L3:NSO:1kg:Li=0.1:"
                             "Ni=0.12", "fixture:1/balance/Li", "Li does not balance"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_document_is_refused_with_location_and_nothing_written(store: SqlStore, case: str) -> None:
    assert ingest_events(parse_chain(BASE), store).ok
    before = state(store)
    line, location, message = BAD[case]
    # a valid event first, so refusing the document must also drop it (all or nothing)
    doc = parse_chain("site W1 warehouse DE\n" + line)
    doc = [LocatedEvent("fixture:0", doc[0].event), LocatedEvent("fixture:1", doc[1].event)]
    r = ingest_events(doc, store)
    assert not r.ok and r.events_written == 0
    assert any(p.location == location and message in p.message for p in r.problems), r.problems
    assert state(store) == before


def test_every_problem_is_reported_in_one_pass(store: SqlStore) -> None:
    doc = parse_chain("""
        site M1 mine ID
        material ORE ore
        lot A ORE @M1 2026-01-01 10kg Ni=0.7 Co=0.7
        lot B ORE @NOWHERE 2026-01-01 10kg Ni=0.1
        run R fusion @M1 2026-01-02..2026-01-02 in GHOST:1kg out C:ORE:1kg:Ni=0.1
    """)
    r = ingest_events(doc, store)
    locs = {p.location for p in r.problems}
    assert {"fixture:3", "fixture:4", "fixture:5/inputs/0"} <= locs
    assert store.counts()["events"] == 0


def test_duplicate_event_in_document_is_refused(store: SqlStore) -> None:
    doc = parse_chain(BASE)
    r = ingest_events([*doc, LocatedEvent("fixture:99", doc[5].event)], store)
    assert not r.ok
    assert any(p.location == "fixture:99" and "duplicate event" in p.message for p in r.problems)
    assert store.counts()["events"] == 0


def test_cycle_through_a_later_run_in_the_same_document(store: SqlStore) -> None:
    doc = parse_chain("""
        site M1 mine ID
        material ORE ore
        lot A ORE @M1 2026-01-01 10kg Ni=0.1
        run R1 blend @M1 2026-01-02..2026-01-02 in B:1kg out C:ORE:1kg:Ni=0.1
        run R2 blend @M1 2026-01-03..2026-01-03 in A:1kg out B:ORE:1kg:Ni=0.1
    """)
    r = ingest_events(doc, store)
    assert any("cycle" in p.message and p.location == "fixture:4/inputs/0" for p in r.problems)
    assert store.counts()["events"] == 0


def test_verify_finds_the_first_tampered_event(store: SqlStore) -> None:
    doc = parse_chain(BASE)
    assert ingest_events(doc, store).ok
    target = doc[5].event.event_id  # the lot L1 commissioning
    with store.engine.begin() as c:
        c.execute(sa.text("UPDATE events SET payload = replace(payload, '1000', '2000') WHERE event_id = :e"),
                  {"e": target})
    v = verify_chain(store)
    assert not v.ok and v.first_bad_event == target


def test_retraction_frees_consumption_and_hides_the_run(store: SqlStore) -> None:
    doc = parse_chain(BASE.replace("ship S1 L2 12kg R1->C1 2026-01-04 sea_container 9000km Customer", ""))
    assert ingest_events(doc, store).ok
    run_event = doc[-1].event.event_id
    # the lot L1 was consumed by R-1: retracting L1's commissioning is refused, nothing written
    lot_event = next(le.event.event_id for le in doc if le.event.kind.value == "lot")
    t = datetime(2026, 2, 1, tzinfo=UTC)
    before = state(store)
    r = ingest_events([LocatedEvent("err:1", event(Retraction(lot_event, t, "wrong mine"), t))], store)
    assert not r.ok and "has been consumed" in r.problems[0].message and state(store) == before
    r = ingest_events([LocatedEvent("err:1", event(Retraction(run_event, t, "double entry"), t))], store)
    assert r.ok
    assert query.show_lot(store, "L1").consumed_kg == 0
    assert query.show_lot(store, "L2").retracted is True
    assert [x.id for x in query.list_lots(store)] == ["L1"]
    assert query.balance(store).runs_checked == 0
    assert verify_chain(store).ok
    # a retracted event cannot be retracted twice
    r = ingest_events([LocatedEvent("err:2", event(Retraction(run_event, t, "again"), t))], store)
    assert not r.ok and "already retracted" in r.problems[0].message


def test_schema_revision_constant_is_the_newest_migration(store: SqlStore) -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from lichain.storage.sql import SCHEMA_REVISION

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(sql.__file__).with_name("migrations")))
    assert ScriptDirectory.from_config(cfg).get_current_head() == SCHEMA_REVISION == store.schema_revision()
