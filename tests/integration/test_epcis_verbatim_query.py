"""The EPCIS event query over the ledger (services/epcis_query.py): filters, pages, and the CLI ``lichain events``.

The ledger holds the spreadsheet template's chain (2 lots, 2 runs, 4 shipments, 1 retraction, 1 supplier PCF) and
GS1's 22 example documents (kept verbatim). Expected results are computed here from the export, which
tests/integration/test_epcis_verbatim.py checks against the documents as received.
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lichain.core.errors import ChoiceError
from lichain.io.epcis import read_epcis
from lichain.io.tabular import write_template
from lichain.services.epcis_query import EventQuery, query_events
from lichain.services.exchange import export_epcis
from lichain.services.ingest import ingest_events
from lichain.services.record import ingest_file
from lichain.storage.sql import SqlStore

GS1 = Path(__file__).resolve().parents[1] / "data" / "epcis-hash-testvectors"


@pytest.fixture
def ledger(store: SqlStore, tmp_path: Path) -> SqlStore:
    book = tmp_path / "chain.xlsx"
    write_template(book)
    assert ingest_file(store, book).ok
    for p in sorted(GS1.glob("*.jsonld")):
        located, problems = read_epcis(p.read_bytes(), p.name)
        assert ingest_events(located, store, parse_problems=problems).ok
    return store


def _exported(store: SqlStore) -> list[dict[str, Any]]:
    buf = io.StringIO()
    export_epcis(store, buf)
    events: list[dict[str, Any]] = json.loads(buf.getvalue())["epcisBody"]["eventList"]
    return events


def _all_pages(store: SqlStore, params: dict[str, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    token = None
    for _ in range(100):
        page = query_events(store, {**params, **({"nextPageToken": token} if token else {})})
        assert len(page.events) <= page.per_page
        out += page.events
        token = page.next_page_token
        if token is None:
            return out
    raise AssertionError("more than 100 pages")


def test_the_whole_ledger_page_by_page_is_the_export(ledger: SqlStore) -> None:
    exported = _exported(ledger)
    assert len(exported) == 10 + 39  # the template's 10 EPCIS events and the 39 distinct GS1 events
    assert _all_pages(ledger, {"perPage": "7"}) == exported
    assert _all_pages(ledger, {"perPage": "1000"}) == exported
    last = query_events(ledger, {"perPage": "49"})
    assert len(last.events) == 49 and last.next_page_token is None  # a full last page says it is the last


@pytest.mark.parametrize("event_type", ["ObjectEvent", "TransformationEvent", "AggregationEvent",
                                        "TransactionEvent", "lichain:SupplierPcf"])
def test_event_type(ledger: SqlStore, event_type: str) -> None:
    want = [e for e in _exported(ledger) if e["type"] == event_type]
    assert want  # every type is present in this ledger
    assert _all_pages(ledger, {"eventType": event_type, "perPage": "5"}) == want


def test_several_values_are_any_of_them(ledger: SqlStore) -> None:
    want = [e for e in _exported(ledger) if e["type"] in ("AggregationEvent", "TransformationEvent")]
    assert _all_pages(ledger, {"eventType": "AggregationEvent|TransformationEvent"}) == want


def test_event_time_window(ledger: SqlStore) -> None:
    ge, lt = datetime.fromisoformat("2019-10-21T12:58:56.591+02:00"), datetime.fromisoformat("2024-02-01T00:00:00Z")
    want = [e for e in _exported(ledger) if ge <= datetime.fromisoformat(e["eventTime"]) < lt]
    assert 0 < len(want) < len(_exported(ledger))
    got = _all_pages(ledger, {"GE_eventTime": ge.isoformat(), "LT_eventTime": lt.isoformat(), "perPage": "4"})
    assert got == want


def test_biz_step_in_any_of_its_spellings(ledger: SqlStore) -> None:
    def step(e: dict[str, Any]) -> str:
        return str(e.get("bizStep", "")).rpartition("-")[2].rpartition(":")[2]

    want = [e for e in _exported(ledger) if step(e) == "shipping"]
    assert len(want) >= 4 + 1  # the template's shipments and its retraction re-stated; GS1's shipping events
    assert _all_pages(ledger, {"EQ_bizStep": "shipping"}) == want
    assert _all_pages(ledger, {"EQ_bizStep": "urn:epcglobal:cbv:bizstep:shipping"}) == want


def test_action(ledger: SqlStore) -> None:
    want = [e for e in _exported(ledger) if e.get("action") == "ADD"]
    assert _all_pages(ledger, {"EQ_action": "ADD"}) == want


def test_match_epc(ledger: SqlStore) -> None:
    epc = "urn:epc:id:sgtin:4047023.077551.98"  # a child EPC of an AggregationEvent of epcisDocWithVariousEventTypes
    want = [e for e in _exported(ledger) if epc in (e.get("epcList") or []) + (e.get("childEPCs") or [])]
    assert len(want) == 1 and want[0]["type"] == "AggregationEvent"
    assert _all_pages(ledger, {"MATCH_epc": epc}) == want
    dl = "https://id.gs1.org/01/04047023775511/21/98"  # the same item as a Digital Link (check digit by hand: 1)
    assert _all_pages(ledger, {"MATCH_epc": dl}) == want


def test_match_epc_class_lot_and_gtin_pattern(ledger: SqlStore) -> None:
    # urn:epc:class:lgtin:4054739.099914.20160711 is in the quantityList of one ObjectEvent of
    # epcisDocWithVariousEventTypes and one of epcisDocWithAllGS1Keys (grep of the documents)
    lot = _all_pages(ledger, {"MATCH_epcClass": "urn:epc:class:lgtin:4054739.099914.20160711"})
    assert len(lot) == 2
    assert _all_pages(ledger, {"MATCH_epcClass": "https://id.gs1.org/01/04054739999148/10/20160711"}) == lot
    # the GTIN's pattern matches its lots and the same pattern written as a class in epcisDocWithAllGS1Keys
    assert _all_pages(ledger, {"MATCH_epcClass": "urn:epc:idpat:sgtin:4054739.099914.*"}) == lot


def test_match_any_epc_class_finds_a_lots_whole_history(ledger: SqlStore) -> None:
    uri = "https://lichain.dev/id/lot/MHP-2024-0001"  # the template's first lot as the export names it
    lists = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
    want = [e for e in _exported(ledger) if any(q.get("epcClass") == uri for m in lists for q in e.get(m) or [])]
    types = [e["type"] for e in want]
    assert types[:2] == ["ObjectEvent", "ObjectEvent"] and set(types[2:]) == {"TransformationEvent"}  # made, shipped, used
    assert _all_pages(ledger, {"MATCH_anyEPCClass": uri}) == want
    assert _all_pages(ledger, {"MATCH_epcClass": uri}) == want[:2]  # quantityList only (EPCIS 2.0 §8.2.7.1)


@pytest.mark.parametrize(("params", "words"), [
    ({"EQ_whatever": "x"}, "unknown query parameter"),
    ({"eventType": "QuantityEvent"}, "not an EPCIS event type"),
    ({"EQ_action": "LOOK"}, "ADD, OBSERVE or DELETE"),
    ({"perPage": "0"}, "perPage"),
    ({"GE_eventTime": "2024-01-01T00:00:00"}, "UTC offset"),
    ({"nextPageToken": "not-a-token"}, "not a token this ledger issued"),
])  # fmt: skip
def test_bad_parameters_are_refused_by_name(ledger: SqlStore, params: dict[str, str], words: str) -> None:
    with pytest.raises(ChoiceError, match=words):
        query_events(ledger, params)


def test_a_token_belongs_to_its_query(ledger: SqlStore) -> None:
    page = query_events(ledger, EventQuery(per_page=3))
    assert page.next_page_token is not None
    with pytest.raises(ChoiceError, match="another query"):
        query_events(ledger, {"eventType": "ObjectEvent", "nextPageToken": page.next_page_token})


def test_a_token_stays_valid_while_the_ledger_grows(ledger: SqlStore) -> None:
    first = query_events(ledger, {"perPage": "40"})
    located, problems = read_epcis((GS1.parent / "bad" / "epcis" / "aggregation-event.jsonld").read_bytes(), "a")
    assert ingest_events(located, ledger, parse_problems=problems).ok
    rest = _all_pages(ledger, {"perPage": "40", "nextPageToken": str(first.next_page_token)})
    assert [*first.events, *rest] == _exported(ledger)  # nothing served twice or skipped, the new event last


def test_query_document_shape(ledger: SqlStore) -> None:
    page = query_events(ledger, {"eventType": "AggregationEvent"})
    doc = page.document(datetime.fromisoformat("2027-01-01T00:00:00Z"))
    assert doc["type"] == "EPCISQueryDocument"
    assert doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"] == list(page.events)
    located, problems = read_epcis(json.dumps(doc), "q.jsonld")  # a query document reads back
    assert problems == [] and len(located) == len(page.events)


def test_cli_events(ledger: SqlStore, tmp_path: Path) -> None:
    from lichain.entrypoints.cli import app

    url = ledger.url
    r = CliRunner().invoke(app, ["events", "--db", url, "--event-type", "AggregationEvent", "--json"])
    assert r.exit_code == 0, r.output
    got = json.loads(r.output)
    assert got["events"] == [e for e in _exported(ledger) if e["type"] == "AggregationEvent"]
    assert got["next_page_token"] is None
    r = CliRunner().invoke(app, ["events", "--db", url, "--per-page", "3"])
    assert r.exit_code == 0 and "--page-token" in r.output
    r = CliRunner().invoke(app, ["events", "--db", url, "--action", "LOOK"])
    assert r.exit_code == 2 and "ADD, OBSERVE or DELETE" in r.output


def test_on_the_demo_every_event_kind_is_queried_as_exported(store: SqlStore) -> None:
    """The demo records every kind of event lichain writes (lots, runs, shipments, claims, supplier PCFs, site
    risks, policies, measures, cell data, battery ids, specifications, certificates, deviations, process batches):
    the query, page by page, is the export, and each extension event type selects exactly its events."""
    from lichain.services.demo import run_demo

    assert run_demo(store, lots=300).ok
    exported = _exported(store)
    assert _all_pages(store, {"perPage": "1000"}) == exported
    types = {e["type"] for e in exported}
    assert {"lichain:CellSpec", "lichain:CertificateOfAnalysis", "lichain:DiligencePolicy"} <= types
    for t in sorted(x for x in types if x.startswith("lichain:")):
        assert _all_pages(store, {"eventType": t, "perPage": "1000"}) == [e for e in exported if e["type"] == t], t
