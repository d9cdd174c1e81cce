"""The write unit of work on both backends: commit, rollback, discard, own reads, dry run, clash as refusal."""

from __future__ import annotations

import pytest

from lichain.core.validate import CheckResult, LocatedEvent, check_document
from lichain.services import ingest as ingest_mod
from lichain.services.ingest import ingest_events
from lichain.storage.sql import SqlStore
from tests.support.chain_text import parse_chain

DOC = """
site M1 mine ID
material ORE ore
lot L1 ORE @M1 2026-01-01 1000kg Ni=0.01
"""


def _new(doc: list[LocatedEvent], store: SqlStore) -> CheckResult:
    return check_document(doc, store)


def test_writer_reads_its_own_uncommitted_appends_and_commits_at_the_end(store: SqlStore) -> None:
    doc = parse_chain(DOC)
    with store.writing() as w:
        res = _new(doc, w)
        assert w.append(res.new_events, res.payloads, "t") == 3
        assert set(w.lots(["L1"])) == {"L1"}  # the writer sees what it appended
        assert w.head()[0] == 3
    assert store.head()[0] == 3 and set(store.lots(["L1"])) == {"L1"}


def test_discard_and_exceptions_roll_back(store: SqlStore) -> None:
    doc = parse_chain(DOC)
    before = store.counts()
    with store.writing() as w:
        res = _new(doc, w)
        w.append(res.new_events, res.payloads, "t")
        w.discard()
    assert store.counts() == before
    with pytest.raises(RuntimeError), store.writing() as w:
        w.append(res.new_events, res.payloads, "t")
        raise RuntimeError("boom")
    assert store.counts() == before and store.head()[0] == 0


def test_dry_run_validates_and_writes_nothing(store: SqlStore) -> None:
    doc = parse_chain(DOC)
    r = ingest_events(doc, store, dry_run=True)
    assert r.ok and r.events_written == 0 and r.events_new == 3 and r.to_json()["dry_run"] is True
    assert store.head()[0] == 0
    bad = parse_chain(DOC + "lot L2 ORE @NOWHERE 2026-01-01 1kg")
    r = ingest_events(bad, store, dry_run=True)
    assert not r.ok and r.events_new == 0 and "unknown site" in r.problems[0].message


def test_uniqueness_clash_is_a_located_refusal(store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """A check that missed a stored record (as a writer outside the lock would) cannot crash the ingest."""
    doc = parse_chain(DOC)
    assert ingest_events(doc, store).ok
    before = store.counts(), store.head()

    def blind(located: list[LocatedEvent], view: object, policy: object = None) -> CheckResult:
        from lichain.core.codec import canonical_payload

        return CheckResult([], [le.event for le in located], [canonical_payload(le.event.body) for le in located])

    monkeypatch.setattr(ingest_mod, "check_document", blind)
    r = ingest_events(doc, store, source="again.jsonld")
    assert not r.ok and r.events_written == 0
    assert len(r.problems) == 1 and r.problems[0].location == "again.jsonld"
    assert "already holds a record" in r.problems[0].message
    assert (store.counts(), store.head()) == before
