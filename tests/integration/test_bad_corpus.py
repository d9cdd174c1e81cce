"""Every bad document under tests/data/bad is refused through `ingest_file`, located, and changes nothing.

The ledger corpus (tests/data/bad/ledger, made by scripts/make_bad_ledger_corpus.py) breaks one ledger rule per
document on top of base.jsonld; the EPCIS corpus (tests/data/bad/epcis) breaks the standard's own rules.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lichain.services.record import ingest_file
from lichain.storage.sql import SqlStore

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
LEDGER = {
    "over-consumption": ("/inputQuantityList/0", "over-consumption"),
    "unknown-lot": ("/inputQuantityList/0", "unknown lot"),
    "cycle": ("/inputQuantityList/0", "cycle"),
    "unbalanced-run": ("", "Ni does not balance"),  # the run event as a whole: balance is no member of it
    "fractions-over-one": ("", "sum to 1.3"),
    "duplicate-event": ("", "duplicate event"),
}
EPCIS = sorted(p.name for p in (BAD / "epcis").glob("*.jsonld"))


def test_the_corpus_is_complete() -> None:
    assert {p.stem for p in (BAD / "ledger").glob("*.jsonld")} == {*LEDGER, "base"}
    assert len(EPCIS) >= 10


def _state(store: SqlStore) -> tuple[dict[str, int], tuple[int, str]]:
    return store.counts(), store.head()


@pytest.mark.parametrize("case", sorted(LEDGER))
def test_ledger_rule_breaks_are_refused(store: SqlStore, case: str) -> None:
    assert ingest_file(store, BAD / "ledger" / "base.jsonld").ok
    before = _state(store)
    r = ingest_file(store, BAD / "ledger" / f"{case}.jsonld")
    suffix, message = LEDGER[case]
    assert not r.ok and r.events_written == 0
    assert any(str(p.location).startswith(str(BAD / "ledger" / case)) and suffix in p.location
               and message in p.message for p in r.problems), r.problems
    assert _state(store) == before


@pytest.mark.parametrize("name", EPCIS)
def test_epcis_breaks_are_refused(store: SqlStore, name: str) -> None:
    assert ingest_file(store, BAD / "ledger" / "base.jsonld").ok
    before = _state(store)
    r = ingest_file(store, BAD / "epcis" / name)
    assert not r.ok and r.events_written == 0 and r.problems
    assert all(p.location.startswith(str(BAD / "epcis" / name)) and p.message for p in r.problems)
    assert _state(store) == before


def test_base_reingest_is_a_noop(store: SqlStore) -> None:
    assert ingest_file(store, BAD / "ledger" / "base.jsonld").ok
    before = _state(store)
    r = ingest_file(store, BAD / "ledger" / "base.jsonld")
    assert r.ok and r.events_written == 0 and r.events_skipped > 0
    assert _state(store) == before
