"""The list use cases on SQLite and PostgreSQL, on the template's example chain (one shipment retracted).

Expected figures are read from the template's own rows (:data:`lichain.io.tabular_template.TEMPLATE`), with the
pound converted by its definition (1 lb = 0.45359237 kg exactly), not from the use cases.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from lichain.core.errors import NotFoundError
from lichain.entrypoints.present import jsonable
from lichain.io.tabular import write_template
from lichain.io.tabular_template import TEMPLATE
from lichain.services import lists
from lichain.services.query import list_lots
from lichain.services.record import ingest_file
from lichain.storage.sql import SqlStore

LB = Decimal("0.45359237")


@pytest.fixture
def ledger(store: SqlStore, tmp_path: Path) -> SqlStore:
    book = tmp_path / "chain.xlsx"
    write_template(book)
    assert ingest_file(store, book).ok
    return store


def _kg(row: dict[str, object]) -> float:
    mass = Decimal(str(row["mass"]))
    return float({"t": mass * 1000, "kg": mass, "lb": mass * LB}[str(row["mass_unit"])])


def test_sites_materials_organisations(ledger: SqlStore) -> None:
    sites = lists.list_sites(ledger).sites
    assert [s.id for s in sites] == sorted(str(r["id"]) for r in TEMPLATE["sites"])
    made = {s.id: s.lots for s in sites}
    assert made == {"HPAL-ID-01": 2, "REF-CN-01": 4, "PCAM-KR-01": 0}  # 2 commissioned MHP lots, 4 run outputs
    mats = {m.code: m for m in lists.list_materials(ledger).materials}
    assert set(mats) == {"MHP", "NISO4", "COSO4"}
    assert mats["MHP"].lots == 2
    assert mats["MHP"].mass_kg == pytest.approx(sum(_kg(r) for r in TEMPLATE["lots"]), abs=1e-6)
    orgs = {o.name: o for o in lists.list_organisations(ledger).organisations}
    assert set(orgs) == {str(r["organisation"]) for r in TEMPLATE["sites"]}
    assert orgs["Example Nickel"].sites == ("HPAL-ID-01",) and orgs["Example Nickel"].countries == ("ID",)


def test_shipments_leave_out_the_retracted_one_and_say_which_way(ledger: SqlStore) -> None:
    every = lists.list_shipments(ledger, limit=None)
    retracted = {str(r["retract"]) for r in TEMPLATE["corrections"]}
    live = [r for r in TEMPLATE["shipments"] if r["id"] not in retracted]
    assert [s.id for s in every.shipments] == [str(r["id"]) for r in live] and every.total == len(live)
    assert [s.mass_kg for s in every.shipments] == pytest.approx([_kg(r) for r in live], abs=1e-6)
    assert all(s.direction is None for s in every.shipments)
    mat = lists.list_shipments(ledger, "Example Materials")
    assert {s.id: s.direction for s in mat.shipments} == {"SHP-0001": "received", "SHP-0002": "received",
                                                          "SHP-0003": "sent"}
    korea = lists.list_shipments(ledger, "Example Cathode Korea")
    assert [(s.id, s.direction, s.lot) for s in korea.shipments] == [("SHP-0003", "received", "NISO4-2024-0001")]
    page = lists.list_shipments(ledger, limit=1, offset=1)
    assert page.total == len(live) and [s.id for s in page.shipments] == ["SHP-0002"]


def test_lots_of_a_customer_and_their_count(ledger: SqlStore) -> None:
    got = jsonable(list_lots(ledger, customer="Example Materials", limit=None))
    assert sorted(x["id"] for x in got) == ["MHP-2024-0001", "MHP-2024-0002"]
    assert lists.count_lots(ledger, customer="Example Materials") == 2
    assert lists.count_lots(ledger, stage="refined_salt") == 4
    assert lists.count_lots(ledger, site="HPAL-ID-01", material="MHP") == 2


def test_unknown_names_are_refused_with_the_closest(ledger: SqlStore) -> None:
    with pytest.raises(NotFoundError, match="did you mean 'Example Cathode Korea'"):
        lists.list_shipments(ledger, "Example Cathode Corea")
    with pytest.raises(NotFoundError, match="did you mean 'REF-CN-01'"):
        lists.require_site(ledger, "REF-CN-1")
    with pytest.raises(NotFoundError, match="did you mean 'NISO4'"):
        lists.require_material(ledger, "NISO")
    assert "did you mean 'MHP-2024-0001'" in str(lists.unknown_lot(ledger, "MHP-2024-001"))
    assert lists.suggest("zzz", ["MHP", "NISO4"]) == []


def test_declared_payloads_are_the_stored_declarations(ledger: SqlStore) -> None:
    import json

    got = ledger.declared_payloads("material", ["MHP", "NOPE"])
    assert set(got) == {"MHP"} and json.loads(got["MHP"])["name"] == TEMPLATE["materials"][0]["name"]
    site = json.loads(ledger.declared_payloads("site", ["REF-CN-01"])["REF-CN-01"])
    assert site["organisation"] == "Example Materials"
