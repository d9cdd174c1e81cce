"""The R&D commands end to end on a demo ledger: ``chem``, ``recipe`` and ``scenario`` (its example file), their
JSON against the published schemas, located refusals with exit 1, and the ledger unchanged by a scenario."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from lichain.entrypoints.cli import app

DOCS = Path(__file__).resolve().parents[2] / "docs" / "schemas"
runner = CliRunner()


def _run(args: list[str], code: int = 0) -> Any:
    r = runner.invoke(app, args)
    assert r.exit_code == code, r.output
    return json.loads(r.stdout) if "--json" in args else r.output


def _valid(command: str, data: Any) -> None:
    Draft202012Validator(json.loads((DOCS / f"{command}.schema.json").read_text(encoding="utf-8"))).validate(data)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    tmp = tmp_path_factory.mktemp("rnd")
    _run(["demo", "--db", str(tmp / "l.db"), "--lots", "1500", "--json"])
    return str(tmp / "l.db"), tmp


def test_chem_moved_and_unchanged() -> None:
    d = _run(["chem", "LiOH·H2O", "--json"])
    assert d["molar_mass_g_per_mol"] == pytest.approx(6.94 + 2 * 15.999 + 3 * 1.008)  # CIAAW 2021: 41.962


def test_scenario_example_runs_validates_and_writes_nothing(db: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    url, tmp = db
    monkeypatch.setenv("LICHAIN_CACHE", str(tmp / "cache"))
    path = tmp / "whatif.toml"
    assert "written" in _run(["scenario", str(path), "--write-example"])
    _run(["scenario", str(path), "--write-example"], 2)  # never overwritten
    head = _run(["verify", "--db", url, "--json"])["head"]
    d = _run(["scenario", str(path), "--db", url, "--json"])
    _valid("scenario", d)
    assert d["head"] == head and _run(["verify", "--db", url, "--json"])["head"] == head
    kinds = [a["kind"] for a in d["applied"]]
    assert kinds == ["electricity", "supplier", "recycled_input", "factor", "factor"]
    cam = next(m for m in d["materials"] if m["material"] == "CAM-NCM811")
    f = cam["kg_co2e_per_kg"]
    assert f["delta"] == pytest.approx(f["scenario"] - f["base"]) and f["change"] == pytest.approx(f["delta"] / f["base"])
    ni = cam["recycled"]["Ni"]
    assert ni["scenario"] > ni["base"]  # 30 % recovered sulfate at the precursor plant raises recycled Ni
    assert "scenario" in _run(["scenario", str(path), "--db", url])  # the table


def test_scenario_refusals_are_located(db: tuple[str, Path]) -> None:
    url, tmp = db
    bad = tmp / "bad.toml"
    bad.write_text('[[change]]\nkind = "electricity"\nsite = "MOON-BASE"\nkg_co2e_per_kwh = "x"\n', encoding="utf-8")
    out = _run(["scenario", str(bad), "--db", url, "--json"], 1)
    assert out["ok"] is False and f"{bad}:change[0].kg_co2e_per_kwh" in out["error"]["message"]
    bad.write_text('[[change]]\nkind = "electricity"\nsite = "MOON-BASE"\nkg_co2e_per_kwh = "0.1"\n', encoding="utf-8")
    out = _run(["scenario", str(bad), "--db", url, "--json"], 1)
    assert f"{bad}:change[0].site: unknown site 'MOON-BASE'" in out["error"]["message"]


def test_recipe_json_validates_and_refuses_located(db: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    url, tmp = db
    monkeypatch.setenv("LICHAIN_CACHE", str(tmp / "cache"))
    d = _run(["recipe", "--target", "NCA", "--li-me", "1.03", "--dopant", "Zr=2000", "--input",
              "Ni=@CN-QUZHOU-REFINERY:NISO4", "--db", url, "--json"])
    _valid("recipe", d)
    assert d["cam_formula"] == "LiNi0.8Co0.15Al0.05O2" and d["dopants_ppm"] == {"Zr": 2000.0}
    assert d["cam_mass_fractions"]["Zr"] == pytest.approx(0.002)
    lfp = _run(["recipe", "--target", "LFP", "--json"])  # no ledger needed
    _valid("recipe", lfp)
    assert {i["element"] for i in lfp["inputs"]} == {"Li", "Fe", "P"} and lfp["pcam_kg_per_kg_cam"] > 0.9
    out = _run(["recipe", "--target", "NCM811", "--input", "Ni=@NOWHERE", "--db", url, "--json"], 1)
    assert "--input Ni: unknown site 'NOWHERE'" in out["error"]["message"]
