"""The demo's manufacturing data end to end: the shifted run is signalled on PCAM-L1 in March, the lot it made
is out of specification and released by a deviation, every ``--json`` output validates against its published
schema, and the EPCIS export carries the quality events into another ledger."""

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


def _json(args: list[str], code: int = 0) -> Any:
    r = runner.invoke(app, [*args, "--json"])
    assert r.exit_code == code, r.output
    return json.loads(r.stdout)


def _valid(command: str, data: Any) -> None:
    schema = json.loads((DOCS / f"{command}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator(schema).validate(data)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("mfg")
    import os

    os.environ["LICHAIN_CACHE"] = str(tmp / "cache")
    report = _json(["demo", "--lots", "1500", "--seed", "7", "--db", str(tmp / "l.db")])
    return tmp, report


def test_demo_story(demo: tuple[Path, dict[str, Any]]) -> None:
    tmp, report = demo
    db = str(tmp / "l.db")
    m = report["manufacturing"]
    assert m["readings"] > 0 and m["certificates"] > 0 and (tmp / "l.process").is_dir()
    _valid("demo", report)
    q = _json(["quality", m["out_of_spec_lot"], "--db", db])
    _valid("quality", q)
    assert q["status"] == "released_under_deviation" and q["deviations"][0]["id"] == m["deviation"]
    assert q["failing"] == ["D50 = 8.9 µm < low limit 9.5 µm"]
    s = _json(["spc", "--line", "PCAM-L1", "--param", "pH", "--period", "2026-03", "--db", db])
    _valid("spc", s)
    assert m["shifted_run"] in s["runs_in_alarm"] and m["out_of_spec_lot"] in s["lots_made"]
    assert any(a["rule"] == "N1" for a in s["alarms"])
    shown = _json(["process", "show", "--run", m["shifted_run"], "--param", "pH", "--db", db])
    _valid("process-show", shown)
    assert shown["count"] > 100 and shown["mean"] == pytest.approx(11.7, abs=0.02)  # set point 11.4 + 0.3
    v = _json(["verify", "--db", db])
    _valid("verify", v)
    assert v["ok"] and v["process_ok"] is True


def test_refusals_validate(demo: tuple[Path, dict[str, Any]]) -> None:
    tmp, _ = demo
    (tmp / "bad.csv").write_text("time,run,parameter,value,unit\n2026-01-01T00:00:00Z,,pH,7,°C\n",
                                 encoding="utf-8")
    r = _json(["process", "ingest", str(tmp / "bad.csv"), "--line", "PCAM-L1", "--db", str(tmp / "l.db")], 1)
    _valid("process-ingest", r)
    assert not r["ok"] and r["problems"][0]["location"] == "bad.csv:2/unit"


def test_quality_events_travel_in_epcis(demo: tuple[Path, dict[str, Any]]) -> None:
    tmp, report = demo
    out = tmp / "ledger.jsonld"
    assert runner.invoke(app, ["export", "epcis", "--out", str(out), "--db", str(tmp / "l.db")]).exit_code == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    types = [e["type"] for e in doc["epcisBody"]["eventList"]]
    assert types.count("lichain:CertificateOfAnalysis") == report["manufacturing"]["certificates"]
    assert types.count("lichain:Deviation") == 1 and "lichain:ProcessBatch" in types
    copy = str(tmp / "copy.db")
    r = _json(["ingest", str(out), "--db", copy, "--now", "2031-12-31T00:00:00Z"])
    assert r["ok"], r["problems"][:3]
    q = _json(["quality", report["manufacturing"]["out_of_spec_lot"], "--db", copy])
    assert q["status"] == "released_under_deviation"
    a = _json(["verify", "--db", str(tmp / "l.db")])
    b = _json(["verify", "--db", copy], 1)  # the copy has the batch manifests but not the partition files
    assert b["head"] == a["head"] and b["process_ok"] is False
    assert all("missing" in p for p in b["process_problems"])
