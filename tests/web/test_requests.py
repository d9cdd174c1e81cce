"""Requests the REST API refuses or answers specially: bad input (located problems, nothing written), size
limits, pages, idempotent ingest and conditional GETs keyed by the chain head."""

from __future__ import annotations

import json

from tests.web.conftest import Served, serve_store
from tests.web.test_access_matrix import NISO4, lot_document


def _epcis(s: Served, user: str, doc: bytes, **params: str) -> object:
    return s.client.post("/ingest", content=doc, params=params,
                         headers={**s.as_(user), "Content-Type": "application/ld+json"})


def test_a_refused_document_lists_located_problems_like_the_cli_and_writes_nothing(served: Served) -> None:
    """A lot at a site the ledger does not know, and malformed JSON, are 422 problem details; counts unchanged."""
    from lichain.services.record import ingest_file

    s = served
    before = s.store.counts()
    doc = json.loads(lot_document("LOT-X", "REF-CN-01", "NISO4"))
    doc["epcisBody"]["eventList"][0]["quantityList"][0]["quantity"] = -5
    r = _epcis(s, "op_materials", json.dumps(doc).encode(), name="bad.jsonld")
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == 422 and body["title"].startswith("Refused")
    assert body["problems"] and all(p["location"].startswith("bad.jsonld") for p in body["problems"])
    path = s.template.with_name("bad.jsonld")  # the CLI's use case on the same bytes gives the same list
    path.write_text(json.dumps(doc), encoding="utf-8")
    cli = ingest_file(s.store, path)
    assert [(p.location.replace(str(path), "bad.jsonld"), p.message) for p in cli.problems] == [(p["location"], p["message"])
                                                               for p in body["problems"]]
    r = _epcis(s, "op_materials", b"{not json", name="broken.jsonld")
    assert r.status_code == 422 and r.json()["problems"][0]["location"].startswith("broken.jsonld")
    assert s.store.counts() == before


def test_a_workbook_is_ingested_with_locations_naming_it(served: Served) -> None:
    """The template workbook again: all on record (idempotent at the ledger); a broken copy is located by sheet."""
    import openpyxl

    s = served
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    r = s.client.post("/ingest?name=chain.xlsx&dry_run=true", content=s.template.read_bytes(),
                      headers={**s.as_("owner"), "Content-Type": xlsx})
    # the template holds three organisations' records: the owner (Example Materials) may not record the others'
    assert r.status_code == 403 and any("HPAL-ID-01" in p["message"] or "Example Nickel" in p["message"]
                                        for p in r.json()["problems"])
    wb = openpyxl.load_workbook(s.template)
    wb["lots"].cell(3, 5).value = -5
    bad = s.template.with_name("bad.xlsx")
    wb.save(bad)
    before = s.store.counts()
    r = s.client.post("/ingest?name=bad.xlsx", content=bad.read_bytes(),
                      headers={**s.as_("op_nickel"), "Content-Type": xlsx})
    assert r.status_code == 422
    assert any(p["location"].startswith("bad.xlsx#lots!") for p in r.json()["problems"])
    assert s.store.counts() == before


def test_ingest_is_idempotent(served_sqlite: Served) -> None:
    """The same document sent twice gets the same result (the first accepted one), and is on record once."""
    s = served_sqlite
    doc = lot_document("LOT-IDEM", "REF-CN-01", "NISO4")
    first = _epcis(s, "op_materials", doc)
    events = s.store.counts()["events"]
    again = _epcis(s, "op_materials", doc)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and first.json()["events_written"] == 1
    assert again.headers["idempotent-replay"] == "true"
    assert s.store.counts()["events"] == events
    other = _epcis(s, "owner", doc)  # another key of the same organisation: the same answer
    assert other.json() == first.json()


def test_request_size_limit(sqlite_store: object, tmp_path: object) -> None:
    """A body over the limit is refused with 413 before it is read, and nothing is written."""
    s = serve_store(sqlite_store, tmp_path, max_body=2_000)  # type: ignore[arg-type]
    before = s.store.counts()
    big = lot_document("LOT-BIG", "REF-CN-01", "NISO4") + b" " * 3_000
    r = _epcis(s, "op_materials", big)
    assert r.status_code == 413 and r.json()["status"] == 413
    r = s.client.post("/capture", content=big, headers={**s.as_("op_materials"), "Content-Type": "application/json"})
    assert r.status_code == 413
    assert s.store.counts() == before


def test_bad_parameters_are_located_problems(served_sqlite: Served) -> None:
    """Pages are bounded; a bad parameter names itself; an unknown media type is 415."""
    s = served_sqlite
    r = s.client.get("/lots?limit=100000", headers=s.as_("owner"))
    assert r.status_code == 422 and r.json()["problems"][0]["location"] == "query.limit"
    r = s.client.get("/lots?stage=kathode", headers=s.as_("owner"))
    assert r.status_code == 404 and r.json()["detail"].startswith("unknown stage 'kathode'")
    r = s.client.get(f"/trace/{NISO4}?by=planet", headers=s.as_("owner"))
    assert r.status_code == 400 and "planet" in r.json()["detail"]
    r = s.client.post("/ingest", content=b"a,b", headers={**s.as_("owner"), "Content-Type": "text/csv"})
    assert r.status_code == 415


def test_pages(served_sqlite: Served) -> None:
    """Lots come a page at a time with the total; pages do not overlap and cover the list."""
    s = served_sqlite
    pages = [s.client.get(f"/lots?limit=4&offset={o}", headers=s.as_("owner")).json() for o in (0, 4)]
    assert [p["total"] for p in pages] == [6, 6] and [len(p["lots"]) for p in pages] == [4, 2]
    ids = [x["id"] for p in pages for x in p["lots"]]
    assert len(set(ids)) == 6


def test_etag_is_keyed_by_the_chain_head(served: Served) -> None:
    """While the ledger does not move, If-None-Match gives 304; after a write the answer and its tag change."""
    s = served
    h = s.as_("owner")
    first = s.client.get(f"/footprint/{NISO4}", headers=h)
    tag = first.headers["etag"]
    assert s.client.get(f"/footprint/{NISO4}", headers={**h, "If-None-Match": tag}).status_code == 304
    assert s.client.get(f"/footprint/{NISO4}", headers={**s.as_("aud_all"), "If-None-Match": tag}
                        ).status_code == 200  # another caller: another tag
    lots = s.client.get("/lots", headers=h)
    assert _epcis(s, "owner", lot_document("LOT-ETAG", "REF-CN-01", "NISO4")).status_code == 200
    moved = s.client.get("/lots", headers={**h, "If-None-Match": lots.headers["etag"]})
    assert moved.status_code == 200 and moved.json()["total"] == lots.json()["total"] + 1
    assert moved.headers["etag"] != lots.headers["etag"]
