"""Tests for lichain.io.epcis: EPCIS 2.0 JSON-LD in and out of the ledger.

Round trip (examples and a Hypothesis property over small chains), every refusal with its JSON-pointer location
(the bad corpus in ``tests/data/bad/epcis`` and inline documents), URN vs Digital Link lot identity, exact unit
conversion, error declarations, master data and the CBV 2.0 event hash of written events.

Independent numbers: 1 lb = 0.45359237 kg exactly (International Yard and Pound Agreement, 1959), so
1 LBR = 453 592.37 mg; the ledger keeps integer mg and rounds the sub-mg remainder half-even
(``quantities.kg_to_mg``): 453 592.37 → 453 592, 907 184.74 → 907 185, 2.5 → 2, 3.5 → 4. The GTIN-14 of
``urn:epc:class:lgtin:4012345.012345.998877`` is indicator 0 + 4012345 + 12345 + check digit 6 (GS1 mod-10,
weights 3,1,3,… from the right over 0401234512345: 3·(5+3+1+4+2+0+0) + 1·(4+2+5+3+1+4) = 45 + 19 = 64 → 6);
for item reference 022222 the sum over 0401234522222 is 3·(2+2+2+4+2+0+0) + 1·(2+2+5+3+1+4) = 36 + 17 = 53 → 7.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lichain.core.codec import canonical_payload, content_event_id
from lichain.core.model import (
    Activity,
    Consumption,
    Electricity,
    Event,
    EventKind,
    FactorOverride,
    Fuel,
    Lot,
    Material,
    Reagent,
    Retraction,
    Run,
    Shipment,
    Site,
    VerbatimEvent,
)
from lichain.io.epcis import (
    EPCIS_CONTEXT,
    GS1_EPCIS_CONTEXT,
    LICHAIN_CONTEXT,
    LICHAIN_CONTEXT_URL,
    LICHAIN_NS,
    assign_event_id,
    read_epcis,
    render_event,
    write_epcis,
    write_epcis_stream,
)
from lichain.io.epcis_hash import document_hashes, event_hash

BAD = Path(__file__).parents[1] / "data" / "bad" / "epcis"
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
CTX: list[Any] = [GS1_EPCIS_CONTEXT, {"lichain": LICHAIN_NS}]
LOT_URN = "urn:epc:class:lgtin:4012345.012345.998877"
LOT_DL = "https://id.gs1.org/01/04012345123456/10/998877"
MINE = "urn:epc:id:sgln:4012345.00001.0"
REFINERY = "https://id.gs1.org/414/4012345000023"


def document(*events: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An EPCISDocument around ``events`` with GS1's context and lichain's prefix."""
    return {"@context": CTX, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2024-05-01T00:00:00Z", **extra, "epcisBody": {"eventList": list(events)}}  # fmt: skip


def commissioning(lot: str = LOT_URN, quantity: Any = 1200, uom: str | None = "KGM", **over: Any) -> dict[str, Any]:
    """A commissioning ObjectEvent of one lot at the mine."""
    q: dict[str, Any] = {"epcClass": lot, "quantity": quantity}
    if uom is not None:
        q["uom"] = uom
    ev: dict[str, Any] = {
        "type": "ObjectEvent", "eventTime": "2024-05-01T08:00:00.000+07:00", "eventTimeZoneOffset": "+07:00",
        "action": "ADD", "bizStep": "commissioning", "quantityList": [q], "bizLocation": {"id": MINE},
        "ilmd": {"lichain:material": "NI-LATERITE", "lichain:assay": {"Ni": "0.015", "Co": "0.0012"}},
    }  # fmt: skip
    ev.update(over)
    return ev


def shipping(lot: str = LOT_DL, quantity: Any = 10, **over: Any) -> dict[str, Any]:
    """A shipping ObjectEvent of one lot from the mine to the refinery."""
    ev: dict[str, Any] = {
        "type": "ObjectEvent", "eventTime": "2024-05-03T00:00:00Z", "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE", "bizStep": "shipping",
        "quantityList": [{"epcClass": lot, "quantity": quantity, "uom": "KGM"}],
        "sourceList": [{"type": "location", "source": MINE}],
        "destinationList": [{"type": "location", "destination": REFINERY}],
    }  # fmt: skip
    ev.update(over)
    return ev


def read(doc: dict[str, Any] | str, source: str = "t.jsonld") -> tuple[list[Event], list[str]]:
    """Events and problem locations of a document."""
    """Events and problem locations of a document, read as a ledger that knows the sites, lots and materials it names.

    An event shaped like a lot, run or shipment without lichain extensions is modelled only when it names
    something of the ledger (docs/ledger.md, "Events kept verbatim"); here it is read as that lot-graph event.
    """
    text = doc if isinstance(doc, str) else json.dumps(doc)
    located, problems = read_epcis(text, source)
    events, locations = [], [p.location for p in problems]
    for le in located:
        b = le.event.body
        if isinstance(b, VerbatimEvent) and b.names:
            locations += [p.location for p in b.modelled_problems]
            events += [b.modelled] if b.modelled is not None else []
        else:
            events.append(le.event)
    return events, sorted(locations, key=_pointer_order)


def _pointer_order(location: str) -> list[Any]:
    """Problem locations in document order (event indexes compared as numbers)."""
    return [int(t) if t.isdigit() else t for t in location.split("/")]


# --- the bad corpus: every refusal with its location -----------------------------------------------------------

BAD_CORPUS: dict[str, list[str]] = {
    "malformed-json.jsonld": ["malformed-json.jsonld:8:67"],
    "missing-uom.jsonld": ["#/epcisBody/eventList/0/quantityList/0"],
    "serialised-items.jsonld": ["#/epcisBody/eventList/0/inputEPCList"],
    "unknown-legacy-cbv.jsonld": ["#/epcisBody/eventList/0/bizStep"],
    "invented-bizstep.jsonld": ["#/epcisBody/eventList/0/bizStep"],
    "non-mass-unit.jsonld": ["#/epcisBody/eventList/0/quantityList/0/uom"],
    "unknown-event-type.jsonld": ["#/epcisBody/eventList/0/type"],
    "wrong-event-time.jsonld": ["#/epcisBody/eventList/0/eventTime"],
    "missing-required.jsonld": ["#/epcisBody/eventList/0/eventTime", "#/epcisBody/eventList/0/eventTimeZoneOffset",
                                "#/epcisBody/eventList/0/action"],
    "not-epcis.jsonld": ["#/type"],
    "unknown-remote-context.jsonld": ["#/@context/1"],
}  # fmt: skip
BAD_WORDS: dict[str, str] = {
    "missing-uom.jsonld": "counts instances",
    "serialised-items.jsonld": "serialised items",
    "non-mass-unit.jsonld": "not a mass unit",
}
#: Documents without lichain extensions whose events name nothing a ledger knows by themselves: the reader keeps
#: them verbatim, and the ledger refuses them at these places once they name its sites or lots
#: (tests/integration/test_epcis_verbatim.py).
VERBATIM_UNLESS_KNOWN = {"aggregation-event.jsonld", "class-level-quantity.jsonld", "negative-quantity.jsonld"}


def test_every_bad_document_has_an_expectation() -> None:
    assert sorted(p.name for p in BAD.glob("*.jsonld")) == sorted([*BAD_CORPUS, *VERBATIM_UNLESS_KNOWN])


@pytest.mark.parametrize("name", sorted(BAD_CORPUS))
def test_bad_document_is_refused_at_its_location(name: str) -> None:
    located, problems = read_epcis((BAD / name).read_bytes(), name)
    assert located == []
    want = [loc if loc.startswith(name) else name + loc for loc in BAD_CORPUS[name]]
    assert sorted(p.location for p in problems) == sorted(want)
    if name in BAD_WORDS:
        assert BAD_WORDS[name] in " ".join(p.message for p in problems)


def test_all_problems_are_reported_in_one_pass() -> None:
    bad_input = {"type": "TransformationEvent", "eventTime": "yesterday", "eventTimeZoneOffset": "+00:00",
                 "inputQuantityList": [{"epcClass": LOT_DL, "quantity": 5, "uom": "LTR"}],
                 "outputQuantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.022222.X1", "quantity": 4,
                                         "uom": "KGM"}],
                 "bizStep": "commissioning", "bizLocation": {"id": REFINERY},
                 "ilmd": {"lichain:lots": {"urn:epc:class:lgtin:4012345.022222.X1": {"material": "MHP"}}}}  # fmt: skip
    doc = document(
        commissioning(uom=None),
        commissioning(lot="https://id.gs1.org/01/04012345123456"),
        {"type": "AssociationEvent", "eventTime": "2024-05-01T00:00:00Z", "eventTimeZoneOffset": "+00:00"},
        bad_input,
        commissioning(lot="urn:epc:class:lgtin:4012345.012345.OK-1"),
    )
    events, locations = read(doc)
    assert locations == [
        "t.jsonld#/epcisBody/eventList/0/quantityList/0",
        "t.jsonld#/epcisBody/eventList/1/quantityList/0/epcClass",
        "t.jsonld#/epcisBody/eventList/2/action",  # an AssociationEvent is kept verbatim, but needs its action
        "t.jsonld#/epcisBody/eventList/3/eventTime",
        "t.jsonld#/epcisBody/eventList/3/inputQuantityList/0/uom",
    ]
    assert [e.body.id for e in events] == ["https://id.gs1.org/01/04012345123456/10/OK-1"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "location", "words"),
    [
        ({"epcList": ["urn:epc:id:sgtin:4012345.012345.1001"]}, "/epcList", "serialised items"),
        ({"action": "DELETE"}, "/action", "must be ADD"),
        ({"eventTimeZoneOffset": "+15:00"}, "/eventTimeZoneOffset", "±hh:mm"),
        ({"disposition": "shiny"}, "/disposition", "not a CBV 2.0 disposition"),
        ({"bizStep": "inspecting"}, "/bizStep", "not supported by the ledger"),
        ({"myField": 1}, "/myField", "must be namespaced"),
        ({"eventID": "not a uri"}, "/eventID", "must be a URI"),
        ({"recordTime": "2024-13-01T00:00:00Z"}, "/recordTime", "not a valid date-time"),
        ({"bizLocation": "urn:epc:id:sgln:4012345.00001.0"}, "/bizLocation", "object with an 'id'"),
        ({"ilmd": {"lichain:material": "X", "lichain:massKg": "1199"}}, "/ilmd/lichain:massKg", "disagrees"),
        ({"ilmd": {"lichain:material": "X", "lichain:colour": "blue"}}, "/ilmd/lichain:colour", "unknown lichain"),
        ({"ilmd": {"lichain:material": "X", "lichain:assay": {"Ni": "1.2"}}}, "/ilmd/lichain:assay/Ni", "0..1"),
        ({"lichain:run": {"kind": "mining"}}, "/lichain:run", "unknown lichain field"),
    ],
)
def test_commissioning_refusals(change: dict[str, Any], location: str, words: str) -> None:
    located, problems = read_epcis(json.dumps(document(commissioning(**change))), "t.jsonld")
    assert located == []
    assert [p.location for p in problems] == ["t.jsonld#/epcisBody/eventList/0" + location]
    assert words in problems[0].message


def test_zero_and_sub_mg_quantities_are_refused() -> None:
    _, locations = read(document(commissioning(quantity=0)))
    assert locations == ["t.jsonld#/epcisBody/eventList/0/quantityList/0/quantity"]
    text = json.dumps(document(commissioning(quantity="__Q__"))).replace('"__Q__"', "0.0000004")  # 0.4 mg
    located, problems = read_epcis(text, "t.jsonld")
    assert located == [] and "below the 1 mg resolution" in problems[0].message


def test_quantity_given_as_a_string_is_refused() -> None:
    _, locations = read(document(commissioning(quantity="1200")))
    assert locations == ["t.jsonld#/epcisBody/eventList/0/quantityList/0/quantity"]


def test_undeclared_lichain_prefix_is_refused() -> None:
    doc = document(commissioning())
    doc["@context"] = [GS1_EPCIS_CONTEXT]
    _, locations = read(doc)
    assert locations == ["t.jsonld#/epcisBody/eventList/0/ilmd/lichain:material"]


def test_invalid_utf8_is_refused_at_the_source() -> None:
    located, problems = read_epcis(b'{"type": "EPCISDocument", "x": "\xff"}', "b.jsonld")
    assert located == [] and [p.location for p in problems] == ["b.jsonld"]


def test_nan_is_not_a_json_number() -> None:
    text = json.dumps(document(commissioning(quantity="__Q__"))).replace('"__Q__"', "NaN")
    _, locations = read(text)
    assert locations == [f"t.jsonld:1:{text.index('NaN') + 1}"]  # line and column of the NaN


# --- identifiers -----------------------------------------------------------------------------------------------


def test_urn_and_digital_link_name_one_lot() -> None:
    run = {"type": "TransformationEvent", "eventTime": "2024-05-05T00:00:00Z", "eventTimeZoneOffset": "+00:00",
           "inputQuantityList": [{"epcClass": LOT_DL, "quantity": 100, "uom": "KGM"}],
           "outputQuantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.022222.MHP-1", "quantity": 4,
                                   "uom": "KGM"}],
           "transformationID": "urn:epc:id:gdti:4012345.00001.77", "bizStep": "commissioning",
           "bizLocation": {"id": REFINERY},
           "ilmd": {"lichain:lots": {"https://id.gs1.org/01/04012345222227/10/MHP-1": {"material": "MHP"}}}}  # fmt: skip
    doc = document(commissioning(lot=LOT_URN),
                   shipping(lot="https://brand.example.com/01/04012345123456/10/998877?linkType=all"), run)
    events, locations = read(doc)
    assert locations == []
    lot, ship, made = (e.body for e in events)
    assert isinstance(lot, Lot) and isinstance(ship, Shipment) and isinstance(made, Run)
    assert lot.id == ship.lot == made.inputs[0].lot == LOT_DL
    assert made.outputs[0].id == "https://id.gs1.org/01/04012345222227/10/MHP-1"
    assert made.outputs[0].material == "MHP" and made.id == "urn:epc:id:gdti:4012345.00001.77"


def test_material_defaults_to_the_lots_gtin_class() -> None:
    ev = commissioning()
    del ev["ilmd"]
    events, locations = read(document(ev))
    assert locations == []
    assert isinstance(lot := events[0].body, Lot)
    assert lot.material == "https://id.gs1.org/01/04012345123456"
    assert lot.site == MINE and lot.assay == {} and lot.produced_at == datetime(2024, 5, 1, 1, tzinfo=UTC)


def test_non_gs1_lot_without_material_is_refused() -> None:
    ev = commissioning(lot="urn:uuid:0e6b8d6c-3c55-4b55-9a7e-5f8b7a0d6f21")
    del ev["ilmd"]
    _, locations = read(document(ev))
    assert locations == ["t.jsonld#/epcisBody/eventList/0/ilmd"]


# --- units -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "uom", "mg"),
    [
        ("1", "LBR", 453_592),  # 453 592.37 mg, remainder 0.37 mg rounds down
        ("2", "LBR", 907_185),  # 907 184.74 mg rounds up
        ("0.5", "TNE", 500_000_000),
        ("0.001", "KTN", 1_000_000_000),
        ("1.5", "GRM", 1_500),
        ("7", "MGM", 7),
        ("1.0000025", "KGM", 1_000_002),  # 1 000 002.5 mg: half-even → 2
        ("1.0000035", "KGM", 1_000_004),  # 1 000 003.5 mg: half-even → 4
        ("1234.567891", "KGM", 1_234_567_891),
    ],
)
def test_mass_units_convert_exactly(quantity: str, uom: str, mg: int) -> None:
    text = json.dumps(document(commissioning(quantity="__Q__", uom=uom))).replace('"__Q__"', quantity)
    events, locations = read(text)
    assert locations == []
    assert isinstance(lot := events[0].body, Lot) and lot.mass_mg == mg


@pytest.mark.parametrize(("mg", "quantity", "uom"), [
    (1_500_000, 1.5, "KGM"), (7_000_000, 7, "KGM"), (1, 1e-06, "KGM"),
    (123_456_789_012_345, 123456789.012345, "KGM"), (10**15 + 1, 10**15 + 1, "MGM"),
])  # fmt: skip
def test_written_quantities_are_exact(mg: int, quantity: float, uom: str) -> None:
    lot = Lot(LOT_DL, "NI-LATERITE", MINE, T0, mg)
    d = render_event(Event("urn:uuid:l1", EventKind.LOT, T0, lot))
    assert d["quantityList"] == [{"epcClass": LOT_DL, "quantity": quantity, "uom": uom}]
    events, locations = read(json.dumps(document(d)))
    assert locations == [] and events[0].body == lot


# --- CBV values, event ids, receiving, error declarations ------------------------------------------------------


def test_legacy_and_full_cbv_values_are_normalised() -> None:
    lot = commissioning(bizStep="urn:epcglobal:cbv:bizstep:commissioning", disposition="urn:epcglobal:cbv:disp:active")
    ship = shipping(bizStep="https://ref.gs1.org/cbv/BizStep-shipping",
                    sourceList=[{"type": "urn:epcglobal:cbv:sdt:location", "source": MINE}])
    events, locations = read(document(lot, ship))
    assert locations == []
    assert [e.kind for e in events] == [EventKind.LOT, EventKind.SHIPMENT]
    assert isinstance(s := events[1].body, Shipment) and s.from_site == MINE and s.to_site == REFINERY


def test_declared_event_id_is_kept_and_missing_one_is_the_cbv_hash() -> None:
    doc = document(commissioning(eventID="urn:uuid:11111111-2222-3333-4444-555555555555"), shipping())
    events, locations = read(doc)
    assert locations == []
    assert events[0].event_id == "urn:uuid:11111111-2222-3333-4444-555555555555"
    assert events[1].event_id == document_hashes(doc)[1]
    assert events[1].event_id.startswith("ni:///sha-256;") and events[1].event_id.endswith("?ver=CBV2.0")


def test_receiving_is_accepted_and_kept_verbatim() -> None:
    recv = shipping(bizStep="receiving", readPoint={"id": REFINERY})
    events, locations = read(document(shipping(), recv))
    assert locations == [] and [e.kind for e in events] == [EventKind.SHIPMENT, EventKind.EPCIS_VERBATIM]


def test_error_declaration_reads_as_a_retraction() -> None:
    # The shape of GS1's error-declaration examples: the original event re-stated, with errorDeclaration.
    restated = {
        "type": "TransformationEvent", "eventTime": "2020-01-14T00:00:00+01:00", "eventTimeZoneOffset": "+01:00",
        "eventID": "urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8",
        "inputEPCList": ["urn:epc:id:sgtin:4012345.011111.987"],
        "inputQuantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.022222.87545GHGH", "quantity": 500}],
        "outputQuantityList": [{"epcClass": "urn:epc:idpat:sgtin:4012345.044444.*", "quantity": 452, "uom": "KGM"}],
        "bizStep": "commissioning", "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"},
        "errorDeclaration": {"declarationTime": "2020-01-15T00:00:00+01:00", "reason": "incorrect_data",
                             "example:vendorExtension": "Test1",
                             "correctiveEventIDs": ["urn:uuid:404d95fc-9457-4a51-bd6a-0bba133845a8"]},
    }  # fmt: skip
    doc = document(restated)
    doc["@context"] = [*CTX, {"example": "https://ns.example.com/epcis/"}]
    events, locations = read(doc)
    assert locations == []
    declared = datetime(2020, 1, 14, 23, tzinfo=UTC)
    body = Retraction("urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8", declared, "incorrect_data",
                      ("urn:uuid:404d95fc-9457-4a51-bd6a-0bba133845a8",))  # fmt: skip
    assert events == [Event(content_event_id(EventKind.RETRACTION, canonical_payload(body)), EventKind.RETRACTION,
                            declared, body)]  # fmt: skip


def test_error_declaration_without_event_id_names_the_hash_of_the_event() -> None:
    lot = Event("", EventKind.LOT, T0, Lot(LOT_DL, "NI-LATERITE", MINE, T0, 5_000_000, {"Ni": 15_000_000}))
    restated = render_event(lot)
    restated["errorDeclaration"] = {"declarationTime": "2024-05-02T00:00:00Z", "reason": "did_not_occur"}
    events, locations = read(document(restated))
    assert locations == []
    assert isinstance(r := events[0].body, Retraction)
    assert r.target_event_id == assign_event_id(lot) == event_hash(render_event(lot), CTX)


def test_error_declaration_with_unknown_reason_is_refused() -> None:
    ev = commissioning(eventID="urn:uuid:1", errorDeclaration={"declarationTime": "2024-05-02T00:00:00Z",
                                                                "reason": "urn:epcglobal:cbv:er:oops"})
    _, locations = read(document(ev))
    assert locations == ["t.jsonld#/epcisBody/eventList/0/errorDeclaration/reason"]


def test_written_retraction_restates_the_original_event() -> None:
    lot = Event("urn:uuid:lot-1", EventKind.LOT, T0, Lot(LOT_DL, "NI-LATERITE", MINE, T0, 5_000_000))
    later = T0 + timedelta(days=1)
    retraction = Event("urn:uuid:ret-1", EventKind.RETRACTION, later,
                       Retraction("urn:uuid:lot-1", later, "incorrect_data", ("urn:uuid:lot-2",)))
    first, second = write_epcis([lot, retraction], created=T0)["epcisBody"]["eventList"]
    declaration = second.pop("errorDeclaration")
    assert second == first and second["eventID"] == "urn:uuid:lot-1"
    assert declaration == {"declarationTime": "2024-05-02T08:00:00Z", "reason": "incorrect_data",
                           "correctiveEventIDs": ["urn:uuid:lot-2"], "lichain:eventID": "urn:uuid:ret-1"}  # fmt: skip


def test_retraction_of_an_unknown_event_cannot_be_written() -> None:
    r = Event("urn:uuid:r", EventKind.RETRACTION, T0, Retraction("urn:uuid:nowhere", T0))
    with pytest.raises(KeyError):
        write_epcis([r])
    target = Event("urn:uuid:nowhere", EventKind.LOT, T0, Lot(LOT_DL, "M", MINE, T0, 1))
    doc = write_epcis([r], resolve={"urn:uuid:nowhere": target}.get)
    assert doc["epcisBody"]["eventList"][0]["eventID"] == "urn:uuid:nowhere"


# --- master data and documents ---------------------------------------------------------------------------------


def test_master_data_of_other_parties_is_ignored() -> None:
    header = {"epcisMasterData": {"vocabularyList": [{"type": "urn:epcglobal:epcis:vtype:BusinessLocation",
              "vocabularyElementList": [{"id": MINE, "attributes": [{"id": "urn:epcglobal:cbv:mda#name",
                                                                      "attribute": "Pit 3"}]}]}]}}  # fmt: skip
    events, locations = read(document(epcisHeader=header))
    assert events == [] and locations == []


def test_site_master_data_needs_its_attributes() -> None:
    header = {"epcisMasterData": {"vocabularyList": [{"type": "urn:epcglobal:epcis:vtype:BusinessLocation",
              "vocabularyElementList": [{"id": MINE, "attributes": [{"id": "lichain:kind", "attribute": "mine"}]}]}]}}  # fmt: skip
    _, locations = read(document(epcisHeader=header))
    loc = "t.jsonld#/epcisHeader/epcisMasterData/vocabularyList/0/vocabularyElementList/0"
    assert locations == [loc] * 3  # name, countryCode, organisation


def test_query_document_is_read() -> None:
    doc = {"@context": CTX, "type": "EPCISQueryDocument", "schemaVersion": "2.0",
           "creationDate": "2024-05-01T00:00:00Z",
           "epcisBody": {"queryResults": {"queryName": "SimpleEventQuery",
                                          "resultsBody": {"eventList": [commissioning()]}}}}  # fmt: skip
    events, locations = read(doc)
    assert locations == [] and [e.kind for e in events] == [EventKind.LOT]


def test_context_file_is_shipped_and_accepted_by_url() -> None:
    assert LICHAIN_CONTEXT["lichain"] == LICHAIN_NS
    assert EPCIS_CONTEXT == [GS1_EPCIS_CONTEXT, LICHAIN_CONTEXT]
    doc = document(commissioning())
    doc["@context"] = [GS1_EPCIS_CONTEXT, LICHAIN_CONTEXT_URL]
    events, locations = read(doc)
    assert locations == [] and isinstance(lot := events[0].body, Lot) and lot.material == "NI-LATERITE"
    written = write_epcis([], created=T0)
    assert written["@context"] == [GS1_EPCIS_CONTEXT, LICHAIN_CONTEXT]


# --- round trip ------------------------------------------------------------------------------------------------


def example_chain() -> list[Event]:
    """A mine lot, a refinery run, a shipment to a customer and a retraction, with ids as the ledger gives them."""
    t1, t2, t3 = T0 + timedelta(days=1), T0 + timedelta(days=2), T0 + timedelta(days=3)
    sites = [Site(MINE, "Pit 3", "mine", "ID", "Acme Nickel", "ID-SULAWESI", ("IRMA",), ("ASM",)),
             Site("REF-1", "Refinery Ω", "refinery", "CN", "Acme Refining")]  # fmt: skip
    mats = [Material("NI-LATERITE", "Nickel laterite ore", "ore"),
            Material("NISO4", "Nickel sulfate hexahydrate", "refined_salt", "NiSO4·6H2O")]  # fmt: skip
    ore = Lot(LOT_DL, "NI-LATERITE", MINE, T0, 1_000_000_000_500, {"Ni": 15_000_000, "Co": 1_200_000},
              quality={"moisture_pct": "31"}, assay_method="XRF", assay_lab="Lab A",
              activity=Activity((Electricity(Decimal("1200.5")),), (Fuel("diesel", Decimal("88000")),)))  # fmt: skip
    salt = Lot("NISO4 lot/7", "NISO4", "REF-1", t1, 60_000_000_123, {"Ni": 222_000_000})
    run = Run("R 1", "REF-1", "refining", T0 + timedelta(hours=30), t1, (Consumption(LOT_DL, 900_000_000_000),),
              (salt,), {"Ni": 120_000}, Activity((Electricity(Decimal("5e4"), "ppa", "PPA-7"),),
              reagents=(Reagent("H2SO4", Decimal("1500"), "h2so4"),), water_m3=Decimal("12.25"),
              readings=(("pH", "1.8"), ("T_C", "250"))), "economic", {"NISO4 lot/7": Decimal("1.5e6")})  # fmt: skip
    ship = Shipment("SH-1", "NISO4 lot/7", 59_000_000_000, "REF-1", "urn:epc:id:sgln:4012345.00009.0", t2,
                    "truck", Decimal("120.5"), "Cathode Co")  # fmt: skip
    events = [Event(content_event_id(EventKind.SITE, canonical_payload(s)), EventKind.SITE, T0, s) for s in sites]
    events += [Event(content_event_id(EventKind.MATERIAL, canonical_payload(m)), EventKind.MATERIAL, T0, m)
               for m in mats]  # fmt: skip
    for kind, time, body in ((EventKind.LOT, T0, ore), (EventKind.RUN, t1, run), (EventKind.SHIPMENT, t2, ship)):
        ev = Event("", kind, time, body)
        events.append(Event(assign_event_id(ev), kind, time, body))
    events.append(Event("urn:uuid:6c1b2f1e-0000-4000-8000-000000000001", EventKind.RETRACTION, t3,
                        Retraction(events[-1].event_id, t3 - timedelta(hours=1), "scale was miscalibrated")))
    events.append(Event("urn:uuid:6c1b2f1e-0000-4000-8000-000000000002", EventKind.FACTOR_OVERRIDE, t3,
                        FactorOverride("grid:CN", Decimal("0.581"), "kg CO2e/kWh", "CEC 2023", "REF-1", T0)))
    return events


def test_round_trip_gives_back_the_same_events() -> None:
    events = example_chain()
    doc = write_epcis(events, created=T0)
    back, locations = read(json.dumps(doc))
    assert locations == []
    assert back == [*events[:4], events[-1], *events[4:-1]]  # master data first, then the event list in order


def test_stream_writer_writes_the_same_document() -> None:
    events = example_chain()
    buf = io.StringIO()
    assert write_epcis_stream(iter(events), buf, created=T0) == len(events)
    assert json.loads(buf.getvalue()) == json.loads(json.dumps(write_epcis(events, created=T0)))


def test_written_event_ids_are_the_cbv_hash_of_the_written_events() -> None:
    events = [e for e in example_chain() if e.kind in (EventKind.LOT, EventKind.RUN, EventKind.SHIPMENT)]
    doc = json.loads(json.dumps(write_epcis([Event("", e.kind, e.time, e.body) for e in events], created=T0)))
    assert document_hashes(doc) == [e.event_id for e in events]
    assert [d["eventID"] for d in doc["epcisBody"]["eventList"]] == [e.event_id for e in events]


# --- property: random small chains survive the round trip ------------------------------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)
_TIMES = st.datetimes(datetime(1990, 1, 1), datetime(2100, 1, 1)).map(lambda t: t.replace(tzinfo=UTC))
_DEC = st.builds(lambda n, e: Decimal(n).scaleb(-e), st.integers(-10**9, 10**9), st.integers(0, 6))
_URIS = st.sampled_from([MINE, REFINERY, "urn:uuid:5d0f6c1e-1f6a-4c55-9a57-000000000001", "https://ex.org/x"])
_ID = st.one_of(_TEXT, _URIS)
# Material codes and lot ids pass through normalise_epc on reading, so the ledger stores them canonical already.
_MAT_ID = st.one_of(_TEXT, st.sampled_from(["urn:uuid:5d0f6c1e-1f6a-4c55-9a57-000000000002",
                                            "https://id.gs1.org/01/04012345123456", "https://ex.org/m"]))
_LOT_ID = st.one_of(_TEXT, st.from_regex(r"https://id\.gs1\.org/01/\d{14}/10/[A-Za-z0-9_-]{1,10}", fullmatch=True))


@st.composite
def _activity(draw: st.DrawFn) -> Activity:
    return Activity(
        tuple(draw(st.lists(st.builds(Electricity, _DEC, st.sampled_from(["grid", "ppa"]), st.none() | _TEXT,
                                      st.none() | _TEXT), max_size=2))),
        tuple(draw(st.lists(st.builds(Fuel, _TEXT, _DEC), max_size=2))),
        tuple(draw(st.lists(st.builds(Reagent, _TEXT, _DEC, st.none() | _TEXT), max_size=2))),
        draw(st.none() | _DEC), draw(st.none() | _DEC),
        tuple(draw(st.dictionaries(_TEXT, _TEXT, max_size=2)).items()),
    )  # fmt: skip


@st.composite
def _lot(draw: st.DrawFn, site: str, materials: list[str]) -> Lot:
    return Lot(
        draw(_LOT_ID), draw(st.sampled_from(materials)), site, draw(_TIMES),
        draw(st.integers(1, 10**16)), draw(st.dictionaries(st.sampled_from(["Ni", "Co", "Mn", "Li"]),
                                                           st.integers(0, 10**9))),
        draw(st.sampled_from(["virgin", "pre_consumer", "post_consumer"])),
        draw(st.dictionaries(_TEXT, _TEXT, max_size=2)), draw(st.none() | _TEXT), draw(st.none() | _TEXT),
        draw(st.none() | _activity()),
    )  # fmt: skip


@st.composite
def chains(draw: st.DrawFn) -> list[Event]:
    """Sites, materials, source lots, runs on earlier lots, shipments, maybe a retraction: ids as assigned."""
    sites = draw(st.lists(st.builds(Site, _ID, _TEXT, _TEXT, _TEXT, _TEXT, st.none() | _TEXT,
                                    st.lists(_TEXT, max_size=2).map(tuple), st.lists(_TEXT, max_size=2).map(tuple)),
                          min_size=1, max_size=3, unique_by=lambda s: s.id))  # fmt: skip
    mats = draw(st.lists(st.builds(Material, _MAT_ID, _TEXT, _TEXT, st.none() | _TEXT), min_size=1, max_size=2,
                         unique_by=lambda m: m.code))  # fmt: skip
    site_ids, codes = [s.id for s in sites], [m.code for m in mats]
    out = [Event(content_event_id(EventKind.SITE, canonical_payload(s)), EventKind.SITE, draw(_TIMES), s)
           for s in sites]  # fmt: skip
    out += [Event(draw(st.sampled_from(["", "urn:uuid:m"])) or content_event_id(EventKind.MATERIAL,
                  canonical_payload(m)), EventKind.MATERIAL, draw(_TIMES), m) for m in mats]  # fmt: skip
    lots: list[str] = []
    for _ in range(draw(st.integers(1, 6))):
        step = draw(st.sampled_from(["lot", "run", "ship"] if lots else ["lot"]))
        site = draw(st.sampled_from(site_ids))
        if step == "lot":
            body: Lot | Run | Shipment = draw(_lot(site, codes))
            kind = EventKind.LOT
        elif step == "run":
            inputs = tuple(Consumption(lot, draw(st.integers(1, 10**12)))
                           for lot in draw(st.lists(st.sampled_from(lots), min_size=1, max_size=3)))  # fmt: skip
            outputs = tuple(draw(st.lists(_lot(draw(st.sampled_from(site_ids)), codes), min_size=1, max_size=2,
                                          unique_by=lambda lot: lot.id)))  # fmt: skip
            body = Run(draw(_ID), site, draw(_TEXT), draw(_TIMES), draw(_TIMES), inputs, outputs,
                       draw(st.dictionaries(st.sampled_from(["Ni", "Co", "Li"]), st.integers(-10**6, 10**9))),
                       draw(_activity()), draw(st.sampled_from(["mass", "economic"])),
                       draw(st.dictionaries(st.sampled_from([o.id for o in outputs]), _DEC)))  # fmt: skip
            kind = EventKind.RUN
        else:
            body = Shipment(draw(_TEXT), draw(st.sampled_from(lots)), draw(st.integers(1, 10**16)), site,
                            draw(st.sampled_from(site_ids)), draw(_TIMES), draw(_TEXT), draw(_DEC),
                            draw(st.none() | _TEXT))  # fmt: skip
            kind = EventKind.SHIPMENT
        ev = Event("", kind, draw(_TIMES), body)
        given_id = draw(st.sampled_from(["", "urn:uuid:3f2c0000-0000-4000-8000-00000000000" + str(len(out) % 10)]))
        out.append(Event(given_id or assign_event_id(ev), kind, ev.time, body))
        lots += [body.id] if isinstance(body, Lot) else [o.id for o in body.outputs] if isinstance(body, Run) else []
    if draw(st.booleans()):
        target = draw(st.sampled_from([e for e in out if e.kind in (EventKind.LOT, EventKind.RUN,
                                                                    EventKind.SHIPMENT)]))  # fmt: skip
        declared = draw(_TIMES)
        reason = draw(st.sampled_from([None, "incorrect_data", "did_not_occur", "https://ex.org/why", "typo"]))
        fixes = tuple(draw(st.lists(st.sampled_from(["urn:uuid:a", "urn:uuid:b"]), max_size=2)))
        out.append(Event(draw(st.sampled_from(["urn:uuid:r1", "urn:uuid:r2"])), EventKind.RETRACTION,
                         draw(st.sampled_from([declared, draw(_TIMES)])),
                         Retraction(target.event_id, declared, reason, fixes)))  # fmt: skip
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chains())
def test_round_trip_property(events: list[Event]) -> None:
    doc = write_epcis(events, created=T0)
    back, locations = read(json.dumps(doc))
    assert locations == []
    assert back == events


def test_examples_in_the_docs_are_read_without_problems() -> None:
    text = (Path(__file__).parents[2] / "docs" / "epcis.md").read_text(encoding="utf-8")
    blocks = [json.loads(b.split("```", 1)[0]) for b in text.split("```json\n")[1:]]
    events = [b for b in blocks if b.get("type") in ("ObjectEvent", "TransformationEvent") and "…" not in b]
    header = next(b for b in blocks if "epcisMasterData" in b)
    read_back, locations = read(document(*events, epcisHeader=header))
    assert locations == []
    assert [e.kind for e in read_back] == [EventKind.SITE, EventKind.MATERIAL, EventKind.LOT, EventKind.RUN,
                                           EventKind.SHIPMENT]  # fmt: skip


VECTORS = Path(__file__).parents[1] / "data" / "epcis-hash-testvectors"


@pytest.mark.parametrize("path", sorted(VECTORS.glob("*.jsonld")), ids=lambda p: p.name)
def test_reference_vectors_are_read_and_hashed_as_the_reference_does(path: Path) -> None:
    # Third-party EPCIS documents (RalphTro/epcis-event-hash-generator, MIT): the parser never raises, and every
    # event it maps that declares no eventID carries the reference implementation's hash for that event.
    located, problems = read_epcis(path.read_bytes(), path.name)
    assert all(p.location.startswith(path.name) for p in problems)
    raw = json.loads(path.read_text(encoding="utf-8"))
    listed = raw["epcisBody"].get("eventList") or raw["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    hashes = path.with_suffix(".hashes").read_text().split() if path.with_suffix(".hashes").exists() else []
    for le in located:
        i = int(le.location.rsplit("/", 1)[1])
        if "eventID" not in listed[i] and hashes:
            assert le.event.event_id == hashes[i]


def test_reference_error_declaration_vector_is_a_retraction() -> None:
    name = "epcisDocWithXMLstartTagAndErrorDeclaration.jsonld"
    events, locations = read((VECTORS / name).read_text(encoding="utf-8"), name)
    assert locations == []
    assert [e.body for e in events] == [Retraction("urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8",
                                                   datetime(2020, 1, 14, 23, tzinfo=UTC), "incorrect_data")]  # fmt: skip


def test_a_reference_commissioning_event_gets_the_reference_hash() -> None:
    name = "epcisDocWithVariousEventTypes.jsonld"
    located, _ = read_epcis((VECTORS / name).read_bytes(), name)
    hashes = (VECTORS / name).with_suffix(".hashes").read_text().split()
    assert [le.event.event_id for le in located] == hashes  # each kept verbatim under its reference hash
    modelled = [(le.location, b.modelled.event_id) for le in located
                if isinstance(b := le.event.body, VerbatimEvent) and b.modelled is not None]  # fmt: skip
    assert modelled == [(f"{name}#/epcisBody/eventList/3", hashes[3])]  # its lot-graph reading, same id
