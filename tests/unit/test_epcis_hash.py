"""EPCIS Event Hash ID (CBV 2.0 §8.9): public test vectors, identifier and vocabulary normalisation."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from lichain.io.epcis_hash import (
    document_hashes,
    document_prehashes,
    event_hash,
    event_prehash,
    normalise_cbv,
    normalise_epc,
)
from lichain.io.gs1_uri import gs1_check_digit

VECTORS = Path(__file__).resolve().parents[1] / "data" / "epcis-hash-testvectors"

# Upstream .prehashes lines that do not hash to their .hashes line (garbled / stale / truncated upstream);
# see tests/data/epcis-hash-testvectors/SOURCES.md. Their events are still checked through the hash.
DEFECTIVE_PREHASH_LINES = {
    ("epcisDocWithAllGS1Keys", 0),
    ("epcisDocWithCustomSchemaInContext", 1),
    ("epcisDocWithDefaultSchemaInContext", 1),
}


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line] if path.exists() else []


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / f"{name}.jsonld").read_text(encoding="utf-8"))
    return data


NAMES = sorted(p.stem for p in VECTORS.glob("*.jsonld"))
HASH_CASES = [(n, i) for n in NAMES for i in range(len(_lines(VECTORS / f"{n}.hashes")))]
PREHASH_CASES = [
    (n, i)
    for n in NAMES
    for i in range(len(_lines(VECTORS / f"{n}.prehashes")))
    if (n, i) not in DEFECTIVE_PREHASH_LINES
]


def _ni(text: str) -> str:
    return "ni:///sha-256;" + hashlib.sha256(text.encode("utf-8")).hexdigest() + "?ver=CBV2.0"


def test_vector_inventory() -> None:
    assert len(NAMES) == 22
    assert len(HASH_CASES) == 43
    assert len(PREHASH_CASES) == 39
    for name in NAMES:
        assert len(document_hashes(_load(name))) == len(_lines(VECTORS / f"{name}.hashes")), name


@pytest.mark.parametrize(("name", "index"), HASH_CASES, ids=[f"{n}-{i}" for n, i in HASH_CASES])
def test_hash_matches_vector(name: str, index: int) -> None:
    expected = _lines(VECTORS / f"{name}.hashes")[index]
    assert document_hashes(_load(name))[index] == expected


@pytest.mark.parametrize(("name", "index"), PREHASH_CASES, ids=[f"{n}-{i}" for n, i in PREHASH_CASES])
def test_prehash_matches_vector(name: str, index: int) -> None:
    expected = _lines(VECTORS / f"{name}.prehashes")[index]
    assert document_prehashes(_load(name))[index] == expected


@pytest.mark.parametrize(("name", "index"), sorted(DEFECTIVE_PREHASH_LINES))
def test_defective_upstream_prehash_lines_really_are_inconsistent(name: str, index: int) -> None:
    line = _lines(VECTORS / f"{name}.prehashes")[index]
    expected_hash = _lines(VECTORS / f"{name}.hashes")[index]
    assert _ni(line) != expected_hash
    assert _ni(document_prehashes(_load(name))[index]) == expected_hash


def test_event_api_matches_document_api() -> None:
    doc = _load("ReferenceEventHashAlgorithm3")
    event = doc["epcisBody"]["eventList"][0]
    snapshot = json.dumps(event, sort_keys=True)
    assert event_hash(event, doc["@context"]) == document_hashes(doc)[0]
    assert event_prehash(event, doc["@context"]) == document_prehashes(doc)[0]
    assert json.dumps(event, sort_keys=True) == snapshot  # input not mutated
    # without the context the extension namespace is unknown, so the hash differs
    assert event_hash(event) != document_hashes(doc)[0]


def _transformation(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "TransformationEvent",
        "eventTime": "2024-05-01T10:15:30.5+02:00",
        "eventTimeZoneOffset": "+02:00",
        "inputQuantityList": [
            {"epcClass": "urn:epc:class:lgtin:4012345.012345.LOT-A", "quantity": 12.5, "uom": "KGM"},
            {"epcClass": "urn:epc:class:lgtin:4012345.012346.LOT-B", "quantity": 3, "uom": "KGM"},
        ],
        "outputQuantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.054321.OUT-1", "quantity": 15.0}],
        "bizStep": "commissioning",
        "readPoint": {"id": "urn:epc:id:sgln:4012345.00001.0"},
    }
    event.update(overrides)
    return event


def test_hash_is_independent_of_serialisation_choices() -> None:
    base = event_hash(_transformation())
    reordered = dict(reversed(list(_transformation().items())))
    assert event_hash(reordered) == base
    assert (
        event_hash(
            _transformation(
                eventTime="2024-05-01T08:15:30.500000Z",
                bizStep="urn:epcglobal:cbv:bizstep:commissioning",
                outputQuantityList=[
                    {"epcClass": "https://example.com/gtin/4012345543216/lot/OUT-1?x=y", "quantity": "15.000"}
                ],
                readPoint={"id": "https://id.example.org/414/4012345000016"},
                eventID="urn:uuid:0d8f5a24-5b1e-4b6e-9d7e-1f0c2b0d8a11",
                recordTime="2024-05-02T00:00:00Z",
            )
        )
        == base
    )


def test_hash_changes_with_content() -> None:
    base = event_hash(_transformation())
    assert event_hash(_transformation(bizStep="repairing")) != base
    assert event_hash(_transformation(eventTime="2024-05-01T10:15:30.501+02:00")) != base
    assert event_hash(_transformation(outputQuantityList=[])) != base


def test_prehash_of_simple_transformation_event() -> None:
    assert event_prehash(_transformation()) == (
        "eventType=TransformationEventeventTime=2024-05-01T08:15:30.500ZeventTimeZoneOffset=+02:00"
        "inputQuantityList"
        "quantityElementepcClass=https://id.gs1.org/01/04012345123456/10/LOT-Aquantity=12.5uom=KGM"
        "quantityElementepcClass=https://id.gs1.org/01/04012345123463/10/LOT-Bquantity=3uom=KGM"
        "outputQuantityListquantityElementepcClass=https://id.gs1.org/01/04012345543216/10/OUT-1quantity=15"
        "bizStep=https://ref.gs1.org/cbv/BizStep-commissioning"
        "readPointid=https://id.gs1.org/414/4012345000016"
    )


@pytest.mark.parametrize(
    ("time", "expected"),
    [
        ("2023-02-02T11:04:03.1415Z", "2023-02-02T11:04:03.142Z"),
        ("2023-02-02T11:04:03.1425Z", "2023-02-02T11:04:03.143Z"),  # half-up, as CBV 2.0 §8.9 step 9 says
        ("2023-02-02T11:04:03.1414999Z", "2023-02-02T11:04:03.141Z"),
        ("2023-12-31T23:59:59.9996Z", "2024-01-01T00:00:00.000Z"),
        ("2023-01-01T00:30:00-01:30", "2023-01-01T02:00:00.000Z"),
        ("2023-01-01T00:30:00", "2023-01-01T00:30:00.000Z"),
    ],
)
def test_event_time_normalisation(time: str, expected: str) -> None:
    assert (
        event_prehash({"type": "ObjectEvent", "eventTime": time})
        == f"eventType=ObjectEventeventTime={expected}"
    )


def test_extensions_ilmd_and_parties_are_expanded_sorted_and_ignorable() -> None:
    context = [{"ex": "https://ns.example.com/epcis/"}]
    event = _transformation(
        ilmd={"ex:grade": "A", "cbvmda:lotNumber": "L1"},
        sourceList=[{"type": "owning_party", "source": "urn:epc:id:pgln:4012345.00000"}],
        destinationList=[{"type": "owning_party", "destination": "urn:epc:id:pgln:0614141.00000"}],
        **{"ex:tags": ["b", "a"], "ex:nested": {"ex:z": 1, "ex:a": None}, "ex:ledgerRef": "x-1"},
    )
    prehash = event_prehash(event, context)
    assert prehash.endswith(
        "readPointid=https://id.gs1.org/414/4012345000016"
        "destinationListtype=https://ref.gs1.org/cbv/SDT-owning_party"
        "destination=https://id.gs1.org/417/0614141000005"
        "ilmd{https://ns.example.com/epcis/}grade=A{urn:epcglobal:cbv:mda:}lotNumber=L1"
        "sourceListtype=https://ref.gs1.org/cbv/SDT-owning_partysource=https://id.gs1.org/417/4012345000009"
        "{https://ns.example.com/epcis/}ledgerRef=x-1"
        "{https://ns.example.com/epcis/}nested{https://ns.example.com/epcis/}z=1"
        "{https://ns.example.com/epcis/}tags=a{https://ns.example.com/epcis/}tags=b"
    )
    # a repository's own bookkeeping field can be left out, by compact or expanded name
    without = event_prehash(event, context, ignore_fields=["ex:ledgerRef"])
    assert without == prehash.replace("{https://ns.example.com/epcis/}ledgerRef=x-1", "")
    assert (
        event_prehash(event, context, ignore_fields=["{https://ns.example.com/epcis/}ledgerRef"]) == without
    )
    # an event-level @context is merged over the document context
    assert event_prehash({**event, "@context": context}) == prehash


def test_event_without_type_is_rejected() -> None:
    with pytest.raises(ValueError, match="type"):
        event_prehash({"eventTime": "2023-01-01T00:00:00Z"})


# --- normalise_epc ---------------------------------------------------------------------------------------

LOT_DL = "https://id.gs1.org/01/04012345123456/10/Lot987"


@pytest.mark.parametrize(
    "spelling",
    [
        "urn:epc:class:lgtin:4012345.012345.Lot987",
        LOT_DL,
        "https://id.gs1.org/01/4012345123456/10/Lot987",  # GTIN-13 padded to 14 digits
        "https://brand.example.com/some/prefix/gtin/04012345123456/lot/Lot987?linkType=gs1:pip#top",
        "http://id.gs1.de/01/04012345123456/22/2A/10/Lot987/",  # CPV dropped, canonical host
        "  urn:epc:class:lgtin:4012345.012345.Lot987 ",
    ],
)
def test_lgtin_urn_and_digital_link_spellings_name_the_same_lot(spelling: str) -> None:
    assert normalise_epc(spelling) == LOT_DL


def test_lot_urn_escapes_become_digital_link_escapes() -> None:
    assert normalise_epc("urn:epc:class:lgtin:4012345.012345.A%2FB(1)") == (
        "https://id.gs1.org/01/04012345123456/10/A%2FB%281%29"
    )


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("urn:epc:id:sgtin:4012345.011111.9876", "https://id.gs1.org/01/04012345111118/21/9876"),
        ("urn:epc:id:sgtin:0614141.107346.2017", "https://id.gs1.org/01/10614141073464/21/2017"),
        ("urn:epc:id:sscc:4012345.3111111111", "https://id.gs1.org/00/340123451111111111"),
        ("urn:epc:id:sgln:4012345.00005.0", "https://id.gs1.org/414/4012345000054"),
        ("urn:epc:id:sgln:4012345.00005.122", "https://id.gs1.org/414/4012345000054/254/122"),
        ("urn:epc:id:pgln:4012345.00000", "https://id.gs1.org/417/4012345000009"),
        ("urn:epc:id:giai:4000001.111", "https://id.gs1.org/8004/4000001111"),
        ("urn:epc:id:gdti:4012345.11111.123", "https://id.gs1.org/253/4012345111118123"),
        ("urn:epc:idpat:sgtin:4054739.099914.*", "https://id.gs1.org/01/04054739999148"),
        ("https://id.gs1.org/01/04012345123456/10/L1/21/S1", "https://id.gs1.org/01/04012345123456/21/S1"),
        (
            "https://id.gs1.org/gtin/614141123452/lot/L",
            "https://id.gs1.org/01/00614141123452/10/L",
        ),  # GTIN-12
        ("https://id.gs1.org/01/96385074/21/1", "https://id.gs1.org/01/00000096385074/21/1"),  # GTIN-8
    ],
)
def test_normalise_epc_computes_check_digits_and_canonical_form(uri: str, expected: str) -> None:
    assert normalise_epc(uri) == expected
    assert normalise_epc(expected) == expected  # idempotent


@pytest.mark.parametrize(
    "uri",
    [
        "urn:epc:id:sgtin:4012345.11111.9876",  # company prefix + item reference must be 13 digits
        "urn:epc:class:lgtin:4012345.012345.",  # empty lot
        "urn:epc:id:unknown:1.2.3",
        "http://transaction.acme.com/po/12345678",
        "geo:47.506694,11.104301",
        "https://id.gs1.org/01/04012345123456/21/S/235/T",  # two finest-level qualifiers
    ],
)
def test_non_gs1_or_malformed_identifiers_are_left_unchanged(uri: str) -> None:
    assert normalise_epc(uri) == uri


def test_gtin_check_digit() -> None:
    assert gs1_check_digit("0401234512345") == "6"
    assert gs1_check_digit("401234512345") == "6"  # leading zeros do not change the check digit
    assert gs1_check_digit("34012345111111111") == "1"  # SSCC
    assert gs1_check_digit("401234500005") == "4"  # GLN
    # a URN carries no check digit; the Digital Link form gets the computed one
    gtin = normalise_epc("urn:epc:class:lgtin:4012345.012345.X").split("/")[4]
    assert gtin[-1] == gs1_check_digit(gtin[:-1])
    # check digits given in a Digital Link URI are preserved, not recomputed
    assert (
        normalise_epc("https://id.gs1.org/01/04012345123457/10/X")
        == "https://id.gs1.org/01/04012345123457/10/X"
    )
    for bad in ("", "12a4", "٤٠١٢"):
        with pytest.raises(ValueError, match="digits"):
            gs1_check_digit(bad)
    assert normalise_epc("urn:epc:class:lgtin:٤٠١٢٣٤٥.012345.X") == "urn:epc:class:lgtin:٤٠١٢٣٤٥.012345.X"


# --- normalise_cbv ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "vocabulary", "expected"),
    [
        ("shipping", "bizStep", "https://ref.gs1.org/cbv/BizStep-shipping"),
        ("urn:epcglobal:cbv:bizstep:shipping", "bizStep", "https://ref.gs1.org/cbv/BizStep-shipping"),
        ("cbv:BizStep-shipping", "bizStep", "https://ref.gs1.org/cbv/BizStep-shipping"),
        ("https://ref.gs1.org/cbv/BizStep-shipping", "BizStep", "https://ref.gs1.org/cbv/BizStep-shipping"),
        (" in_transit ", "disposition", "https://ref.gs1.org/cbv/Disp-in_transit"),
        ("urn:epcglobal:cbv:disp:in_transit", "Disp", "https://ref.gs1.org/cbv/Disp-in_transit"),
        ("po", "bizTransactionType", "https://ref.gs1.org/cbv/BTT-po"),
        ("urn:epcglobal:cbv:btt:po", "BTT", "https://ref.gs1.org/cbv/BTT-po"),
        ("owning_party", "sourceDestType", "https://ref.gs1.org/cbv/SDT-owning_party"),
        ("incorrect_data", "errorReason", "https://ref.gs1.org/cbv/ER-incorrect_data"),
        ("latitude", "component", "https://ref.gs1.org/cbv/Comp-latitude"),
        ("Temperature", "measurementType", "https://gs1.org/voc/Temperature"),
        ("gs1:Angle", "measurementType", "https://gs1.org/voc/Angle"),
        ("ALARM_CONDITION", "sensorAlertType", "https://gs1.org/voc/ALARM_CONDITION"),
        (
            "http://epcis.example.com/user/vocab/bizstep/exampling",
            "bizStep",
            "http://epcis.example.com/user/vocab/bizstep/exampling",
        ),
        (
            "urn:epcglobal:cbv:bt:4012345000009:ASN1099",
            "bizStep",
            "urn:epcglobal:cbv:bt:4012345000009:ASN1099",
        ),
    ],
)
def test_normalise_cbv(value: str, vocabulary: str, expected: str) -> None:
    assert normalise_cbv(value, vocabulary) == expected


def test_normalise_cbv_rejects_unknown_vocabulary() -> None:
    with pytest.raises(ValueError, match="vocabulary"):
        normalise_cbv("shipping", "bizstep")
