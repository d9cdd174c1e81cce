"""The recipe designer priced with ledger lots, a supplier site and a specification file: footprint and recycled
content re-computed here by hand (Σ kg × kg CO2e/kg; element-mass-weighted shares) from the ledger's own figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lichain.core.errors import ValidationFailed
from lichain.services import footprint as fp_service
from lichain.services.footprint import ledger_footprint
from lichain.services.recipe import design_recipe, read_spec
from lichain.services.snapshot import load_snapshot
from lichain.storage.sql import SqlStore
from tests.integration.test_scenario import SPEC, bodies, ledger


@pytest.fixture
def chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SqlStore:
    monkeypatch.setenv("LICHAIN_CACHE", str(tmp_path / "cache"))
    fp_service._memo.clear()
    return ledger(tmp_path / "l.db", bodies(SPEC))


def figures(store: SqlStore) -> tuple[dict[str, float], dict[str, float]]:
    lf = ledger_footprint(store)
    snap = load_snapshot(store).snapshot
    x = {snap.lot_id(i): float(lf.x[i, 0]) for i in range(snap.n_lots)}
    m = {snap.lot_id(i): float(snap.lot_mass_kg[i]) for i in range(snap.n_lots)}
    return x, m


def test_footprint_and_recycled_content_from_lots_a_site_and_a_spec(chain: SqlStore, tmp_path: Path) -> None:
    spec = tmp_path / "co.toml"
    spec.write_text('[recipe]\npcam_yield = "0.99"\n[[input]]\nelement = "Co"\nname = "CoSO4·7H2O"\n'
                    'assay = "0.2080"\nkg_co2e_per_kg = "6.5"\nrecycled = { Co = "0.25" }\n', encoding="utf-8")
    r = design_recipe(chain, "NCM811", li_me="1.03", cam_yield="0.98", inputs={"Ni": "SALT0", "Li": "LI0",
                      "Mn": "MnSO4·H2O"}, spec=read_spec(spec), pcam_own="1.5", cam_own="2")
    x, _ = figures(chain)
    by = {(ln.step, ln.element): ln for ln in r.inputs}
    assert by[("pcam", "Ni")].source.kind == "lot" and by[("pcam", "Ni")].source.kg_co2e_per_kg == x["SALT0"]
    assert by[("pcam", "Ni")].assay == pytest.approx(0.2233, abs=1e-12)  # the lot's recorded assay
    assert by[("pcam", "Co")].assay == 0.208 and r.pcam_yield == 0.99 and r.cam_yield == 0.98
    assert by[("pcam", "OH")].source.kind == "factor" and by[("cam", "O")].source.kind == "factor"
    assert not r.complete and r.missing == ("MnSO4·H2O (Mn, pcam)",)
    fp = {k: ln.source.kg_co2e_per_kg or 0.0 for k, ln in by.items()}
    pcam = 1.5 + sum(ln.kg_per_kg_product * fp[k] for k, ln in by.items() if ln.step == "pcam")
    cam = 2 + r.pcam_kg_per_kg_cam * pcam + sum(ln.kg_per_kg_cam * fp[k] for k, ln in by.items() if ln.step == "cam")
    assert r.pcam_kg_co2e_per_kg == pytest.approx(pcam, rel=1e-12)
    assert r.cam_kg_co2e_per_kg == pytest.approx(cam, rel=1e-12)
    # Co comes only from the specified input (25 % recycled); Ni and Li from virgin lots
    assert r.cam_recycled["Co"] == pytest.approx(0.25, rel=1e-12) and r.pcam_recycled["Co"] == pytest.approx(0.25)
    assert r.cam_recycled["Ni"] == 0.0 and r.cam_recycled["Li"] == 0.0


def test_a_recycler_as_supplier_brings_its_mass_weighted_footprint_and_recycled_nickel(chain: SqlStore) -> None:
    r = design_recipe(chain, "NCM811", inputs={"Ni": "@REC"})
    x, m = figures(chain)
    rec = [k for k in m if k.startswith("REC")]
    ni = next(ln for ln in r.inputs if ln.element == "Ni")
    assert ni.source.kind == "site" and ni.source.ref == "REC" and ni.name == f"NISO4-REC ({len(rec)} lots, mass-weighted)"
    assert ni.source.kg_co2e_per_kg == pytest.approx(sum(m[k] * x[k] for k in rec) / sum(m[k] for k in rec),
                                                     rel=1e-12)
    assert r.cam_recycled["Ni"] == pytest.approx(1.0, rel=1e-12)  # every Ni atom is post-consumer
    assert r.cam_recycled["Co"] == 0.0
    assert np.isclose(ni.assay, 0.2233)


def test_unknown_inputs_are_refused_located(chain: SqlStore) -> None:
    with pytest.raises(ValidationFailed) as exc:
        design_recipe(chain, "NCM811", inputs={"Ni": "@NOWHERE", "Co": "NoSuchSalt9"})
    assert [p.location for p in exc.value.problems] == ["--input Ni", "--input Co"]
    with pytest.raises(ValidationFailed) as exc:
        design_recipe(None, "NCM999")
    assert exc.value.problems[0].location == "--target"
