"""Battery passports on SQLite and PostgreSQL: figures recomputed by hand, every aspect valid against the shipped
Battery Pass 1.2 / IDTA-02035 schemas at every access level, missing inputs never filled, versions linked by digest,
signatures that keep verifying, and a second-life passport linked to the original.

The chain: a purchased NCM811 lot CAM-A (1000 kg, supplier PCF 20 kg CO2e/kg) at a Hungarian cell plant; one cell
run (1000 kWh of Hungarian grid electricity) makes 2500 kg of cells. So the cell lot carries 20 000 kg CO2e upstream
and 1000 kWh × f(grid:HU) of its own, per kg: divided by 2500. A battery is 1.25 kg and 80 Ah × 3.65 V = 0.292 kWh.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from lichain.core.chemistry import mass_fractions
from lichain.core.codec import canonical_payload, content_event_id, kind_of
from lichain.core.errors import ChoiceError, NotFoundError
from lichain.core.factors import default_library
from lichain.core.model import (
    Activity,
    BatteryRegistration,
    CellSpec,
    Consumption,
    Electricity,
    Event,
    LocatedEvent,
    Lot,
    Material,
    Run,
    Site,
    SupplierPcf,
)
from lichain.core.passport_data import passport_id
from lichain.core.passport_version import digest_matches
from lichain.entrypoints.present import jsonable
from lichain.io.envelope import sign_document
from lichain.io.passport_schemas import BATTERYPASS_SCHEMAS, IDTA_SCHEMAS, aspect_problems
from lichain.io.passport_sign import read_passport
from lichain.io.signing import SignatureError, generate_key, load_private_key, load_public_key, verify_jws
from lichain.services.ingest import ingest_events
from lichain.services.passport import passport
from lichain.services.signed_docs import PASSPORT_DOC
from lichain.storage.sql import SqlStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CAM_ASSAY = {"Ni": 483_700_000, "Co": 60_700_000, "Mn": 56_600_000, "Li": 71_500_000}  # ppb
CELL_ASSAY = {e: v * 1000 // 2500 for e, v in CAM_ASSAY.items()}  # the same element mass in 2500 kg
SPEC = CellSpec("CELLS", "DEMO-P80", "ev", "NMC811", D("80"), D("3.65"), D("0.292"), D("1.25"), "Demo Cell Kft.",
                2000, D("10"), chemistry_name="lithium nickel manganese cobalt oxide", manufacturer_country="HU",
                temp_idle_min_c=D("-20"), temp_idle_max_c=D("45"), internal_resistance_ohm=D("0.0012"))


def ev(body: Any, at: datetime, where: str) -> LocatedEvent:
    k = kind_of(body)
    return LocatedEvent(where, Event(content_event_id(k, canonical_payload(body)), k, at, body))


def ledger(store: SqlStore) -> None:
    day = lambda n: datetime(2026, 1, n, tzinfo=UTC)  # noqa: E731
    cam = Lot("CAM-A", "NCM", "CELL1", day(2), 1000 * 10**6, dict(CAM_ASSAY))
    cells = Lot("CELLS", "CELL", "CELL1", day(4), 2500 * 10**6, dict(CELL_ASSAY))
    run = Run("RUN-C", "CELL1", "cell_manufacturing", day(3), day(4), (Consumption("CAM-A", 1000 * 10**6),),
              (cells,), activity=Activity(electricity=(Electricity(D(1000)),)))
    docs = [ev(Site("CELL1", "Cell plant", "cell_plant", "HU", "Demo Cell Kft.", "HU"), T0, "s"),
            ev(Material("NCM", "NCM811", "cam", "LiNi0.8Co0.1Mn0.1O2"), T0, "m1"),
            ev(Material("CELL", "NCM811 cells", "cell"), T0, "m2"), ev(cam, day(2), "l"), ev(run, day(4), "r"),
            ev(SupplierPcf("CAM-A", D(20), "Cathode Co.", "PCF-1"), day(2), "p"), ev(SPEC, day(5), "spec"),
            ev(BatteryRegistration("CELLS", ("BAT-1", "BAT-2")), day(5), "reg")]
    r = ingest_events(docs, store)
    assert r.ok, r.problems


def by_hand() -> dict[str, float]:
    grid = float(default_library()["grid:HU"].value)
    up, own = 1000 * 20 / 2500, 1000 * grid / 2500  # kg CO2e per kg of cells
    per_kwh = 1.25 / 0.292
    return {"total": (up + own) * per_kwh, "upstream": up * per_kwh, "own": own * per_kwh,
            "absolute": (up + own) * 1.25}


def test_figures_match_a_calculation_by_hand(store: SqlStore) -> None:
    ledger(store)
    p = passport(store, "CELLS", level="authority")
    h = by_hand()
    cf = p.aspects["CarbonFootprint"]
    assert cf["batteryCarbonFootprint"] == pytest.approx(h["total"], rel=1e-9)
    stages = {s["lifecycleStage"]: s["carbonFootprint"] for s in cf["carbonFootprintPerLifecycleStage"]}
    assert stages == pytest.approx({"RawMaterialExtraction": h["upstream"], "MainProduction": h["own"]}, rel=1e-9)
    assert cf["absoluteCarbonFootprint"] == pytest.approx(h["absolute"], rel=1e-9)
    missing = {(m.aspect, m.field) for m in p.missing_inputs}
    assert {("CarbonFootprint", "/carbonFootprintPerLifecycleStage/Distribution"),
            ("CarbonFootprint", "/carbonFootprintPerLifecycleStage/Recycling"),
            ("CarbonFootprint", "/carbonFootprintPerformanceClass"),
            ("Circularity", "/recycledContent/Lead")} <= missing
    mats = {m["batteryMaterialName"]: m["batteryMaterialMass"] for m in
            p.aspects["MaterialComposition"]["batteryMaterials"]}
    assert mats == pytest.approx({"Nickel": 0.19348 * 1250, "Cobalt": 0.02428 * 1250, "Manganese": 0.02264 * 1250,
                                  "Lithium": 0.0286 * 1250}, abs=1e-3)
    conc = p.aspects["MaterialComposition"]["hazardousSubstances"][0]["hazardousSubstanceConcentration"]
    assert conc == pytest.approx(100 * 0.19348 / float(mass_fractions("LiNi0.8Co0.1Mn0.1O2")["Ni"]), abs=1e-4)
    rec = {r["recycledMaterial"]: (r["preConsumerShare"], r["postConsumerShare"])
           for r in p.aspects["Circularity"]["recycledContent"]}
    assert rec == {"Cobalt": (0.0, 0.0), "Nickel": (0.0, 0.0), "Lithium": (0.0, 0.0)}  # a virgin chain
    perf = p.aspects["PerformanceAndDurability"]["batteryTechicalProperties"]
    assert (perf["ratedCapacity"], perf["nominalVoltage"], perf["ratedEnergy"]) == (80.0, 3.65, 0.292)
    assert p.aspects["SupplyChainDueDiligence"]["supplyChainDueDiligenceReport"].startswith("urn:lichain:diligence:")


def _absent(p: dict[str, Any], aspect: str) -> set[str]:
    out = {m["field"] for m in p["missing_inputs"] if m["aspect"] == aspect}
    out |= {"/" + w.split("/", 2)[2] for w in p["withheld"] if w.count("/") >= 2 and w.split("/")[1] == aspect}
    return out


def _leaves(node: Any, ptr: str = "") -> set[str]:
    if isinstance(node, dict):
        return {x for k, v in node.items() for x in _leaves(v, f"{ptr}/{k}")}
    if isinstance(node, list):
        return {x for i, v in enumerate(node) for x in _leaves(v, f"{ptr}/{i}")}
    return {ptr}


@pytest.mark.parametrize("fmt", ["batterypass", "aas"])
def test_every_aspect_validates_at_every_level_and_nothing_missing_is_filled(store: SqlStore, fmt: str) -> None:
    ledger(store)
    schemas = BATTERYPASS_SCHEMAS if fmt == "batterypass" else IDTA_SCHEMAS
    seen = {}
    for level in ("public", "legitimate", "authority"):
        for ident in ("CELLS", "BAT-1"):
            p = json.loads(json.dumps(jsonable(passport(store, ident, level=level, fmt=fmt))))
            for aspect, payload in p["aspects"].items():
                assert aspect_problems(schemas[aspect], payload, _absent(p, aspect)) == [], (aspect, level)
                present = _leaves(payload)
                for m in p["missing_inputs"]:  # a missing field is absent, not written as 0 or ""
                    if m["aspect"] == aspect:
                        assert not any(x == m["field"] or x.startswith(m["field"] + "/") for x in present)
            seen[level, ident] = p
    pub, auth = seen["public", "BAT-1"], seen["authority", "BAT-1"]
    assert _leaves(pub["aspects"]) < _leaves(auth["aspects"])  # the public level reads strictly less
    assert pub["withheld"] and not auth["withheld"]


def test_refusals(store: SqlStore) -> None:
    ledger(store)
    with pytest.raises(NotFoundError):
        passport(store, "NOPE")
    with pytest.raises(ChoiceError, match="cam lot"):
        passport(store, "CAM-A")
    with pytest.raises(ChoiceError, match="level"):
        passport(store, "CELLS", level="everyone")
    with pytest.raises(ChoiceError, match="format"):
        passport(store, "CELLS", fmt="pdf")


def test_versions_link_by_digest_and_a_signed_old_version_still_verifies(store: SqlStore, tmp_path: Path) -> None:
    ledger(store)
    priv, pub = generate_key(tmp_path / "keys")
    v1 = jsonable(passport(store, "BAT-1"))
    assert (v1["version"], v1["previous"]) == (1, None) and digest_matches(v1)
    token = sign_document(v1, load_private_key(priv), PASSPORT_DOC, issuer="Cell Maker", subject=v1["passport_id"])
    again = jsonable(passport(store, "BAT-1", previous=v1))  # nothing changed: the same version
    assert (again["version"], again["digest"]) == (1, v1["digest"])
    corrected = dataclasses.replace(SPEC, rated_capacity_ah=D("81"), rated_energy_kwh=D("0.2957"))
    assert ingest_events([ev(corrected, datetime(2026, 1, 9, tzinfo=UTC), "fix")], store).ok
    v2 = jsonable(passport(store, "BAT-1", previous=v1))
    assert v2["version"] == 2 and v2["previous"] == {"version": 1, "digest": v1["digest"]}
    assert v2["digest"] != v1["digest"] and v2["passport_id"] == v1["passport_id"]
    assert v2["aspects"]["PerformanceAndDurability"]["batteryTechicalProperties"]["ratedCapacity"] == 81.0
    header, claims = verify_jws(token, load_public_key(pub))  # the old one still verifies as what it was
    old = claims["doc"]
    assert old == json.loads(json.dumps(v1)) and digest_matches(old) and header["typ"] == "lichain-doc+jwt"
    assert claims["doc_type"] == PASSPORT_DOC
    (tmp_path / "v1.jws").write_text(token, encoding="utf-8")
    assert read_passport(tmp_path / "v1.jws", pub)["digest"] == v1["digest"]
    h, _, s = token.split(".")
    forged = json.loads(json.dumps(v1))
    forged["aspects"]["CarbonFootprint"]["batteryCarbonFootprint"] = 1.0
    from lichain.io.signing import b64url

    tampered = f"{h}.{b64url(json.dumps(forged).encode())}.{s}"
    with pytest.raises(SignatureError):
        verify_jws(tampered, load_public_key(pub))
    assert not digest_matches(forged)
    with pytest.raises(ChoiceError, match="altered"):
        passport(store, "BAT-1", previous=forged)
    with pytest.raises(ChoiceError, match="passport_id"):
        passport(store, "BAT-2", previous=v1)
    with pytest.raises(ChoiceError, match="level"):
        passport(store, "BAT-1", level="authority", previous=v1)


def test_a_second_life_gets_a_new_passport_linked_to_the_original(store: SqlStore) -> None:
    ledger(store)
    second = BatteryRegistration("CELLS", ("BAT-1-R",), "repurposed", "BAT-1", "Second Life GmbH")
    assert ingest_events([ev(second, datetime(2026, 6, 1, tzinfo=UTC), "2nd")], store).ok
    p = passport(store, "BAT-1-R", level="legitimate")
    assert p.passport_id == passport_id("BAT-1-R") != passport_id("BAT-1")
    assert (p.status, p.predecessor_passport) == ("repurposed", passport_id("BAT-1"))
    gpi = p.aspects["GeneralProductInformation"]
    assert gpi["batteryStatus"] == "Repurposed" and gpi["operatorInformation"] == {"contactName": "Second Life GmbH"}
    public = passport(store, "BAT-1-R", level="public")
    assert "batteryStatus" not in public.aspects["GeneralProductInformation"]  # Annex XIII 4(b)
    assert "/GeneralProductInformation/batteryStatus" in public.withheld
    assert passport(store, "BAT-1").status == "original"
