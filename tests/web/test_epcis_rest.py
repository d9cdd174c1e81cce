"""The EPCIS 2.0 REST binding: capture jobs and the event query, against lichain's own EPCIS export."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.web.conftest import Served
from tests.web.test_access_matrix import lot_document

JSONLD = {"Content-Type": "application/ld+json"}


def _capture(s: Served, user: str, doc: bytes) -> Any:
    return s.client.post("/capture", content=doc, headers={**s.as_(user), **JSONLD})


def test_capture_creates_a_job_answered_at_its_location(served: Served) -> None:
    """202 with Location; the job says it succeeded and what was written; the event is then on record."""
    s = served
    events = s.store.counts()["events"]
    r = _capture(s, "op_nickel", lot_document("MHP-CAPTURED", "HPAL-ID-01", "MHP"))
    assert r.status_code == 202
    job = s.client.get(r.headers["location"], headers=s.as_("op_nickel")).json()
    assert r.headers["location"] == f"/capture/{job['captureID']}"
    assert job["running"] is False and job["success"] is True and job["errors"] == []
    assert job["result"]["events_written"] == 1 and s.store.counts()["events"] == events + 1
    assert s.client.get(r.headers["location"], headers=s.as_("op_materials")).status_code == 404


def test_a_refused_capture_is_a_failed_job_with_located_errors(served: Served) -> None:
    """A document the ledger's rules refuse: 202, the job failed with EPCIS pointers, nothing written."""
    s = served
    before = s.store.counts()
    doc = json.loads(lot_document("MHP-BAD", "HPAL-ID-01", "MHP"))
    doc["epcisBody"]["eventList"][0]["quantityList"][0]["quantity"] = 0
    r = _capture(s, "op_nickel", json.dumps(doc).encode())
    assert r.status_code == 202
    job = s.client.get(r.headers["location"], headers=s.as_("op_nickel")).json()
    assert job["success"] is False and job["captureErrorBehaviour"] == "rollback"
    assert job["errors"][0]["location"] == "capture.jsonld#/epcisBody/eventList/0/quantityList/0/quantity"
    assert s.store.counts() == before


def _export(s: Served) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = s.client.get("/exports/epcis", headers=s.as_("owner")).json()["epcisBody"][
        "eventList"]
    return events


def _query(s: Served, **params: Any) -> tuple[list[dict[str, Any]], Any]:
    r = s.client.get("/events", params=params, headers=s.as_("aud_all"))
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["type"] == "EPCISQueryDocument" and doc["schemaVersion"] == "2.0"
    assert doc["epcisBody"]["queryResults"]["queryName"] == "SimpleEventQuery"
    return doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"], r


def _t(ev: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(ev["eventTime"].replace("Z", "+00:00"))


def test_events_filters_match_the_export(served: Served) -> None:
    """Each filter returns exactly the export's events that satisfy it (filtered here independently)."""
    s = served
    every = _export(s)
    got, _ = _query(s, perPage=1000)
    assert got == every and len(every) > 0
    types = {e["type"] for e in every}
    assert {"ObjectEvent", "TransformationEvent"} <= types
    got, _ = _query(s, eventType="TransformationEvent", perPage=1000)
    assert got == [e for e in every if e["type"] == "TransformationEvent"]
    cut = "2024-02-01T00:00:00Z"
    got, _ = _query(s, GE_eventTime=cut, perPage=1000)
    assert got == [e for e in every if _t(e) >= datetime.fromisoformat("2024-02-01T00:00:00+00:00")]
    got2, _ = _query(s, LT_eventTime=cut, perPage=1000)
    assert len(got) + len(got2) == len(every) and got and got2
    steps = {e.get("bizStep") for e in every}
    step = sorted(x for x in steps if x)[0]
    got, _ = _query(s, EQ_bizStep=step, perPage=1000)
    assert got == [e for e in every if e.get("bizStep") == step] and got
    classes = sorted({q["epcClass"] for e in every for k in ("quantityList", "inputQuantityList",
                                                            "outputQuantityList") for q in e.get(k, [])})
    one = classes[0]
    # EPCIS 2.0 §8.2.7.1: MATCH_anyEPCClass looks in every quantity list, MATCH_epcClass only in quantityList and
    # childQuantityList
    got, _ = _query(s, MATCH_anyEPCClass=one, perPage=1000)
    assert got == [e for e in every if any(q["epcClass"] == one for k in ("quantityList", "inputQuantityList",
                                                                          "outputQuantityList")
                                           for q in e.get(k, []))] and got
    got, _ = _query(s, MATCH_epcClass=one, perPage=1000)
    assert got == [e for e in every if any(q["epcClass"] == one for k in ("quantityList", "childQuantityList")
                                           for q in e.get(k, []))]


def test_events_pages_follow_next_page_token(served: Served) -> None:
    """perPage=2 pages, followed through Link rel=next, give every event once, in order."""
    s = served
    every = _export(s)
    seen: list[dict[str, Any]] = []
    page, r = _query(s, perPage=2)
    while True:
        seen += page
        link = r.headers.get("link")
        if link is None:
            break
        assert link.endswith('>; rel="next"')
        q = parse_qs(urlparse(link[1:link.index(">")]).query)
        assert q["perPage"] == ["2"]
        page, r = _query(s, perPage=2, nextPageToken=q["nextPageToken"][0])
    assert seen == every


def test_events_refuses_parameters_it_does_not_know(served: Served) -> None:
    """An unknown query parameter or a bad token is a 400 problem, never a silently ignored filter."""
    s = served
    r = s.client.get("/events?EQ_readPoint=x", headers=s.as_("aud_all"))
    assert r.status_code == 400 and "EQ_readPoint" in r.json()["detail"]
    r = s.client.get("/events?nextPageToken=zzz", headers=s.as_("aud_all"))
    assert r.status_code == 400
    r = s.client.get("/events?GE_eventTime=yesterday", headers=s.as_("aud_all"))
    assert r.status_code == 400 and "GE_eventTime" in r.json()["detail"]
