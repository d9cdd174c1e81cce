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
#: Without lichain extensions and naming nothing of the base ledger: kept verbatim (docs/ledger.md, "Events kept
#: verbatim"); refused where they break a rule once the ledger knows their site (tests/integration/test_epcis_verbatim.py).
VERBATIM_UNLESS_KNOWN = {"aggregation-event.jsonld", "class-level-quantity.jsonld", "negative-quantity.jsonld"}
EPCIS = sorted(p.name for p in (BAD / "epcis").glob("*.jsonld") if p.name not in VERBATIM_UNLESS_KNOWN)


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


@pytest.mark.parametrize("name", sorted(VERBATIM_UNLESS_KNOWN))
def test_events_about_another_supply_chain_are_kept_verbatim_outside_the_lot_graph(store: SqlStore, name: str) -> None:
    assert ingest_file(store, BAD / "ledger" / "base.jsonld").ok
    before = store.counts()
    r = ingest_file(store, BAD / "epcis" / name)
    assert r.ok and r.events_written == r.kept_verbatim == 1
    after = store.counts()
    assert after.pop("events") == before.pop("events") + 1 and after == before  # no projection row


def test_base_reingest_is_a_noop(store: SqlStore) -> None:
    assert ingest_file(store, BAD / "ledger" / "base.jsonld").ok
    before = _state(store)
    r = ingest_file(store, BAD / "ledger" / "base.jsonld")
    assert r.ok and r.events_written == 0 and r.events_skipped > 0
    assert _state(store) == before
