"""Every published JSON Schema (docs/schemas/) is the one its result type generates, and real ``--json`` outputs
of those commands on a fresh demo ledger validate against it (refusals and failures included)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from lichain.entrypoints.cli import app
from lichain.entrypoints.schemas import OUTPUTS, schema_of

DOCS = Path(__file__).resolve().parents[2] / "docs" / "schemas"
runner = CliRunner()


def _validator(command: str) -> Draft202012Validator:
    schema = json.loads((DOCS / f"{command}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _json(args: list[str], code: int = 0) -> Any:
    r = runner.invoke(app, [*args, "--json"])
    assert r.exit_code == code, r.output
    return json.loads(r.stdout)


def test_published_schemas_are_generated_from_the_result_types() -> None:
    schema_of("verify")  # fills OUTPUTS
    assert sorted(p.name for p in DOCS.glob("*.schema.json")) == sorted(f"{c}.schema.json" for c in OUTPUTS)
    for command in OUTPUTS:
        published = json.loads((DOCS / f"{command}.schema.json").read_text(encoding="utf-8"))
        assert published == schema_of(command), "regenerate: python -m lichain.entrypoints.schemas docs/schemas"


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("schemas")
    db = str(tmp / "l.db")
    report = _json(["demo", "--db", db, "--lots", "300"])
    return db, {"tmp": tmp, "demo": report}


def test_outputs_validate(ledger: tuple[str, dict[str, Any]]) -> None:
    db, ctx = ledger
    tmp: Path = ctx["tmp"]
    _validator("demo").validate(ctx["demo"])
    _validator("verify").validate(_json(["verify", "--db", db]))
    deep = _json(["verify", "--deep", "--db", db])
    assert deep["deep"] and deep["rows_compared"]["lots"] > 0
    _validator("verify").validate(deep)
    _validator("balance").validate(_json(["balance", "--db", db]))
    keys = json.loads(runner.invoke(app, ["keys", "generate", "--out", str(tmp / "k"), "--no-record", "--json"]).stdout)
    saved = _json(["checkpoint", "--key", keys["private_key"], "--out", str(tmp / "cp.jws"), "--db", db])
    _validator("checkpoint").validate(saved)
    check = _json(["verify", "--against", str(tmp / "cp.jws"), "--public-key", keys["public_key"], "--db", db])
    assert check["ok"] and check["chain"]["ok"]
    _validator("verify-against").validate(check)
    forged = tmp / "forged.jws"
    h, p, s = (tmp / "cp.jws").read_text().strip().split(".")
    forged.write_text(f"{h}.{p}.{s[:-4]}AAAA")
    refused = _json(["verify", "--against", str(forged), "--public-key", keys["public_key"], "--db", db], 1)
    assert not refused["signature_ok"]
    _validator("verify-against").validate(refused)
    lots = _json(["lots", "--db", db, "--stage", "cam"])
    _validator("lots").validate(lots)
    cam = lots[0]["id"]
    shown = _json(["show", cam, "--db", db])
    assert shown["remaining_kg"] == shown["mass_kg"] - shown["consumed_kg"]
    _validator("show").validate(shown)
    for args in (["--element", "Co", "--by", "country"], ["--down", "--by", "organisation"], []):
        tr = _json(["trace", cam, *args, "--db", db])
        assert all(set(c["kg"]) == set(tr["elements"]) for c in tr["contributions"])
        _validator("trace").validate(tr)
    dd = _json(["diligence", cam, "--db", db])
    assert dd["lot"] == cam and {e["element"] for e in dd["elements"]} >= {"Ni", "Co", "Mn", "Li"}
    _validator("diligence").validate(dd)
    fl = _json(["flows", "--element", "Co", "--db", db])
    assert fl["links"] and all(k["element_kg"] > 0 for k in fl["links"])
    _validator("flows").validate(fl)
    fp = _json(["footprint", cam, "--db", db])
    assert sum(fp["by_stage"].values()) == pytest.approx(fp["kg_co2e_per_kg"], rel=1e-9)
    assert fp["per_kwh"]["kg_co2e_per_kwh"] == pytest.approx(fp["kg_co2e_per_kg"] / fp["per_kwh"]["kwh_per_kg"])
    _validator("footprint").validate(fp)
    rc = _json(["recycled", cam, "--db", db])
    assert set(rc["elements"]) == set(dd_elements := {e["element"] for e in dd["elements"]}) and dd_elements
    _validator("recycled").validate(rc)
    for args in (["--lot", cam], ["--period", "2026"], ["--customer", "Demo Cell Hungary Kft."]):
        a8 = _json(["art8", *args, "--db", db])
        assert set(a8["elements"]) == {"Co", "Li", "Ni"}
        _validator("art8").validate(a8)
    esg = _json(["report", "esg", "--period", "2026", "--db", db])
    assert esg["sites"] and all(s["organisation"] == esg["organisation"]["name"] for s in esg["sites"])
    _validator("report-esg").validate(esg)
    rv = _json(["recovery", "--period", "2026", "--db", db])
    assert rv["recyclers"] and all(0 < v["recovery"] <= 1 for r in rv["recyclers"] for v in r["elements"].values())
    _validator("recovery").validate(rv)
    cell = _json(["lots", "--db", db, "--stage", "cell"])[0]["id"]  # the demo's first cell lots carry cell data
    for args in (["--level", "public"], ["--level", "authority", "--format", "aas"]):
        _validator("passport").validate(_json(["passport", cell, *args, "--db", db]))
    lot = json.loads(runner.invoke(app, ["lots", "--db", db, "--stage", "scrap", "--json"]).stdout)[-1]["id"]
    gone = _json(["retract", lot, "--reason", "did_not_occur", "--db", db])
    assert gone["ok"] and gone["events_written"] == 1
    _validator("retract").validate(gone)
    again = _json(["retract", lot, "--reason", "did_not_occur", "--db", db], 1)
    assert not again["ok"] and again["problems"]
    _validator("retract").validate(again)
    bad = tmp / "bad.jsonld"
    bad.write_text('{"type": "EPCISDocument"}', encoding="utf-8")
    out = _json(["ingest", str(bad), "--db", db], 1)
    assert out["documents"][0]["file"] == str(bad) and out["documents"][0]["problems"] == out["problems"]
    _validator("ingest").validate(out)


def test_schemas_refuse_a_member_they_do_not_know(ledger: tuple[str, dict[str, Any]]) -> None:
    db, _ = ledger
    v = _json(["verify", "--db", db])
    validator = _validator("verify")
    assert validator.is_valid(v)
    assert not validator.is_valid({**v, "surprise": 1})
    assert not validator.is_valid({k: x for k, x in v.items() if k != "head"})
