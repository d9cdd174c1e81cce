"""The list commands on a fresh demo ledger: sites, materials, organisations, shipments, lots --customer.

Expected figures come from the demo's master data (:mod:`lichain.demo.sites`) and from the ledger read
another way (``show --json`` of each listed lot), not from the list use cases themselves.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from lichain.demo.sites import CUSTOMERS, MATERIALS, SITES
from lichain.entrypoints.cli import app

runner = CliRunner()
DOCS = Path(__file__).resolve().parents[2] / "docs" / "schemas"
KOREA = CUSTOMERS[0][1]  # "Demo Cell Korea Co., Ltd."


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("lists") / "l.db")
    r = runner.invoke(app, ["demo", "--db", path, "--lots", "400", "--json"])
    assert r.exit_code == 0, r.output
    return path


def _json(*args: str, code: int = 0) -> Any:
    r = runner.invoke(app, [*args, "--json"])
    assert r.exit_code == code, r.output
    return json.loads(r.stdout)


def test_sites_materials_organisations_are_the_declared_master_data(db: str) -> None:
    sites = _json("sites", "--db", db)["sites"]
    assert [s["id"] for s in sites] == sorted(s.id for s in SITES)
    by_id = {s.id: s for s in SITES}
    assert all(s["organisation"] == by_id[s["id"]].organisation and s["country"] == by_id[s["id"]].country
               for s in sites)
    lots = _json("lots", "--db", db, "--limit", "0")
    for s in sites:
        assert s["lots"] == sum(1 for x in lots if x["site"] == s["id"])
    mats = _json("materials", "--db", db)["materials"]
    assert [m["code"] for m in mats] == sorted(MATERIALS)
    ncm811 = next(m for m in mats if m["code"] == "CAM-NCM811")
    mine = [x["mass_kg"] for x in lots if x["material"] == "CAM-NCM811"]
    assert ncm811["lots"] == len(mine) and ncm811["mass_kg"] == pytest.approx(sum(mine), abs=1e-6)
    orgs = {o["name"]: o for o in _json("organisations", "--db", db)["organisations"]}
    assert set(orgs) == {s.organisation for s in SITES}
    assert orgs[KOREA]["sites"] == ["KR-OCHANG-CELLS"] and orgs[KOREA]["countries"] == ["KR"]


def test_shipments_of_a_customer_match_each_lots_own_record(db: str) -> None:
    r = _json("shipments", "--customer", KOREA, "--limit", "0", "--db", db)
    assert r["organisation"] == KOREA and r["total"] == len(r["shipments"]) > 0
    received = [x for x in r["shipments"] if x["direction"] == "received"]
    sent = [x for x in r["shipments"] if x["direction"] == "sent"]
    assert received and all(x["to_organisation"] == KOREA for x in received)
    assert all(x["from_organisation"] == KOREA for x in sent)
    assert all(a["shipped_at"] <= b["shipped_at"] for a, b in zip(r["shipments"], r["shipments"][1:], strict=False))
    first = received[0]
    shown = _json("show", first["lot"], "--db", db)
    ship = next(s for s in shown["shipments"] if s["id"] == first["id"])
    assert ship["mass_kg"] == first["mass_kg"] and ship["shipped_at"] == first["shipped_at"]
    page = _json("shipments", "--customer", KOREA, "--limit", "2", "--offset", "1", "--db", db)
    assert page["total"] == r["total"] and [x["id"] for x in page["shipments"]] == [
        x["id"] for x in r["shipments"][1:3]]
    delivered = _json("lots", "--customer", KOREA, "--limit", "0", "--db", db)
    assert sorted(x["id"] for x in delivered) == sorted({x["lot"] for x in received})


@pytest.mark.parametrize(("args", "hint"), [
    (["shipments", "--customer", "Demo Cell Korea"], KOREA),
    (["lots", "--customer", "demo cell korea co ltd"], KOREA),
    (["lots", "--site", "CN-TONGXIANG-CATODE"], "CN-TONGXIANG-CATHODE"),
    (["lots", "--material", "CAM-NCM812"], "CAM-NCM811"),
    (["show", "https://id.gs1.org/01/09520001000904/10/L0000O001"], "https://id.gs1.org/01/09520001000904/10/L00000001"),
    (["art8", "--customer", "Demo Cell Polan sp. z o.o."], CUSTOMERS[1][1]),
    (["lots", "--stage", "camm"], "cam"),
    (["trace", "https://id.gs1.org/01/09520001000904/10/L0000O001"], "https://id.gs1.org/01/09520001000904/10/L00000001"),
    (["footprint", "https://id.gs1.org/01/09520001000904/10/L0000O001"],
     "https://id.gs1.org/01/09520001000904/10/L00000001"),
])
def test_unknown_names_exit_1_with_a_suggestion(db: str, args: list[str], hint: str) -> None:
    r = runner.invoke(app, [*args, "--db", db])
    assert r.exit_code == 1, r.output
    assert "did you mean" in r.stderr and repr(hint) in r.stderr
    j = _json(*args, "--db", db, code=1)
    assert j["ok"] is False and repr(hint) in j["error"]["message"]


def test_no_suggestion_when_nothing_is_close(db: str) -> None:
    r = runner.invoke(app, ["shipments", "--customer", "Zzyzx", "--db", db])
    assert r.exit_code == 1 and "unknown organisation 'Zzyzx'" in r.stderr and "did you mean" not in r.stderr


@pytest.mark.parametrize("args", [["sites"], ["materials"], ["organisations"], ["shipments", "--limit", "3"],
                                  ["shipments", "--customer", KOREA, "--limit", "0"]])
def test_list_outputs_validate_against_their_published_schema(db: str, args: list[str]) -> None:
    schema = json.loads((DOCS / f"{args[0]}.schema.json").read_text(encoding="utf-8"))
    v = Draft202012Validator(schema)
    out = _json(*args, "--db", db)
    assert v.is_valid(out), list(v.iter_errors(out))[:1]
    assert not v.is_valid({**out, "surprise": 1})


def test_every_list_prints_a_table(db: str, tmp_path: Path) -> None:
    for cmd in (["sites"], ["materials"], ["organisations"], ["shipments", "--customer", KOREA]):
        r = runner.invoke(app, [*cmd, "--db", db])
        assert r.exit_code == 0 and r.stdout.strip(), r.output
