"""EPCIS 2.0 REST binding conformance on the standard's example documents: each of the 22 JSON-LD documents of
tests/data/epcis-hash-testvectors (GS1 EPCIS 2.0 examples, MIT, see its SOURCES.md) is captured with
``POST /capture`` as an ordinary EPCIS client would send it, its capture job succeeds, and ``GET /events`` then
returns every one of its events as received (JSON-equal, paged with ``nextPageToken`` through the ``Link``
header), with the standard's query parameters answering by independent filtering here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tests.web.conftest import Served

VECTORS = Path(__file__).resolve().parents[1] / "data" / "epcis-hash-testvectors"
DOCS = sorted(VECTORS.glob("*.jsonld"))
JSONLD = {"Content-Type": "application/ld+json"}


def _events(doc: dict[str, Any]) -> list[dict[str, Any]]:
    body = doc["epcisBody"]
    out: list[dict[str, Any]] = body.get("eventList") or body["queryResults"]["resultsBody"]["eventList"]
    return out


def _strip(ev: dict[str, Any]) -> dict[str, Any]:
    """An event without its own ``@context`` (namespaces travel in the document's context)."""
    return {k: v for k, v in ev.items() if k != "@context"}


def _all(s: Served, user: str, query: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    url: str | None = f"/events?{query}"
    for _ in range(200):
        assert url is not None
        r = s.client.get(url, headers=s.as_(user))
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["type"] == "EPCISQueryDocument"
        out += _events(page)
        link = r.headers.get("link")
        if link is None:
            return out
        target = urlparse(link.split(";")[0].strip("<> "))
        assert "nextPageToken" in parse_qs(target.query)
        url = f"{target.path}?{target.query}"
    raise AssertionError("more than 200 pages")


@pytest.fixture
def captured(served_sqlite: Served) -> tuple[Served, list[dict[str, Any]]]:
    s = served_sqlite
    sent: list[dict[str, Any]] = []
    for p in DOCS:
        r = s.client.post("/capture", content=p.read_bytes(), headers={**s.as_("owner"), **JSONLD})
        assert r.status_code == 202, (p.name, r.text)
        job = s.client.get(r.headers["location"], headers=s.as_("owner")).json()
        assert job["success"] is True and job["errors"] == [], (p.name, job)
        sent += [_strip(e) for e in _events(json.loads(p.read_bytes()))]
    return s, sent


def _key(ev: dict[str, Any], context: Any) -> str:
    from lichain.io.epcis_hash import event_hash

    return "error" if "errorDeclaration" in ev else event_hash(ev, context)


def test_all_example_documents_are_captured_and_queried_back_as_sent(captured: tuple[Served, list[Any]]) -> None:
    """Each distinct event (by its CBV 2.0 event hash) comes back once, equal to a copy that was sent: documents
    repeat some events, written differently (a time's digits, an eventID given or not); the first copy captured
    is on record and later copies are recognised as already on record."""
    s, _ = captured
    assert len(DOCS) == 22
    sent: dict[str, list[dict[str, Any]]] = {}
    for p in DOCS:
        doc = json.loads(p.read_bytes())
        for ev in _events(doc):
            sent.setdefault(_key(ev, doc["@context"]), []).append(_strip(ev))
    assert sum(len(v) for v in sent.values()) == 43 and len(sent) == 39
    r = s.client.get("/events?perPage=1", headers=s.as_("owner"))
    context = r.json()["@context"]
    back: dict[str, dict[str, Any]] = {}
    for ev in _all(s, "owner", "perPage=7"):
        own = ev.get("@context", {})
        back[_key(_strip(ev), [*context, own] if isinstance(context, list) else [context, own])] = _strip(ev)
    assert set(sent) <= set(back)
    for key, copies in sent.items():
        assert back[key] in copies, key


@pytest.mark.parametrize("event_type", ["ObjectEvent", "AggregationEvent", "TransactionEvent",
                                        "TransformationEvent", "AssociationEvent"])
def test_event_type_query(captured: tuple[Served, list[Any]], event_type: str) -> None:
    s, sent = captured
    everything = _all(s, "owner", "perPage=500")
    want = [e for e in everything if e["type"] == event_type]
    assert _all(s, "owner", f"eventType={event_type}&perPage=4") == want
    assert any(_strip(e)["type"] == event_type for e in sent) == bool(want)


def test_time_and_bizstep_queries(captured: tuple[Served, list[Any]]) -> None:
    from datetime import datetime

    s, _ = captured
    everything = _all(s, "owner", "perPage=500")
    cut = "2020-01-01T00:00:00Z"
    t = datetime.fromisoformat(cut.replace("Z", "+00:00"))

    def at(e: dict[str, Any]) -> datetime:
        return datetime.fromisoformat(str(e["eventTime"]).replace("Z", "+00:00"))

    before, after = _all(s, "owner", f"LT_eventTime={cut}"), _all(s, "owner", f"GE_eventTime={cut}")
    assert before == [e for e in everything if at(e) < t] and after == [e for e in everything if at(e) >= t]
    steps = sorted({e["bizStep"] for e in everything if isinstance(e.get("bizStep"), str)})
    assert steps
    for step in steps[:3]:
        assert _all(s, "owner", f"EQ_bizStep={step}") == [e for e in everything if e.get("bizStep") == step]


def test_an_unknown_parameter_is_refused_as_the_standard_says(captured: tuple[Served, list[Any]]) -> None:
    s, _ = captured
    r = s.client.get("/events?EQ_readPoint=urn:epc:id:sgln:0614141.00777.0", headers=s.as_("owner"))
    assert r.status_code == 400 and "EQ_readPoint" in r.json()["detail"]
