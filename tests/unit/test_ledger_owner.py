"""The ledger-owner flag of a site: additive in the canonical payload, carried by EPCIS and the spreadsheet."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from lichain.core.codec import body_from_json, body_to_json, canonical_payload, content_event_id
from lichain.core.model import Event, EventKind, Site
from lichain.io.epcis import GS1_EPCIS_CONTEXT, LICHAIN_NS, read_epcis, write_epcis
from lichain.io.tabular import read_workbook, write_workbook

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PLAIN = Site("S1", "Plant", "refinery", "CN", "Group", "CN-EAST", ("ISO 14001",))
OWNER = Site("S2", "Cathode", "cathode_plant", "CN", "Group", "CN-EAST", ledger_owner=True)


def test_flag_is_written_only_when_true() -> None:
    assert "ledger_owner" not in body_to_json(PLAIN)  # sites recorded before the flag keep payload, id, hash
    assert body_to_json(OWNER)["ledger_owner"] is True
    assert body_from_json(EventKind.SITE, body_to_json(OWNER)) == OWNER
    assert body_from_json(EventKind.SITE, body_to_json(PLAIN)) == PLAIN
    assert content_event_id(EventKind.SITE, canonical_payload(OWNER)) != \
        content_event_id(EventKind.SITE, canonical_payload(Site(*[getattr(OWNER, f) for f in OWNER.__slots__[:-1]])))


def _events() -> list[Event]:
    return [Event(content_event_id(EventKind.SITE, canonical_payload(s)), EventKind.SITE, T0, s)
            for s in (PLAIN, OWNER)]


def test_epcis_master_data_round_trip_and_refusal() -> None:
    doc = write_epcis(_events(), created=T0)
    back, problems = read_epcis(json.dumps(doc), "t.jsonld")
    assert problems == [] and [le.event.body for le in back] == [PLAIN, OWNER]
    el = doc["epcisHeader"]["epcisMasterData"]["vocabularyList"][0]["vocabularyElementList"][1]
    assert {"id": "lichain:ledgerOwner", "attribute": True} in el["attributes"]
    for a in el["attributes"]:
        if a["id"] == "lichain:ledgerOwner":
            a["attribute"] = "yes"  # not a JSON boolean
    doc["@context"] = [GS1_EPCIS_CONTEXT, {"lichain": LICHAIN_NS}]
    back, problems = read_epcis(json.dumps(doc), "t.jsonld")
    assert back == [] or all(le.event.body != OWNER for le in back)
    assert [p.message for p in problems if "ledgerOwner" in p.message] == ["ledgerOwner must be true or false"]


def test_spreadsheet_round_trip_and_refusal(tmp_path: Path) -> None:
    book = tmp_path / "owner"
    write_workbook(_events(), book)
    events, problems = read_workbook(book)
    assert problems == [] and [e.event.body for e in events] == [PLAIN, OWNER]
    sheet = book / "sites.csv"
    sheet.write_text(sheet.read_text(encoding="utf-8").replace(",yes", ",maybe"), encoding="utf-8")
    events, problems = read_workbook(book)
    assert [p.message for p in problems] == ["ledger_owner must be yes or no, not 'maybe'"]
    assert "sites.csv:3" in problems[0].location, problems[0].location
