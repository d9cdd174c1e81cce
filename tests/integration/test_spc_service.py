"""``lichain spc`` on a line's readings: an injected pH shift is signalled, the run in it and the lots made from
it (and downstream) are named, alarms are recorded once, capability agrees with numpy, the SVG is well formed."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lichain.core.quality_model import Limit, Specification
from lichain.core.spc import FACTORS
from lichain.core.validate import LocatedEvent
from lichain.entrypoints.cli import app
from lichain.services.ingest import ingest_events
from lichain.services.process import ingest_readings
from lichain.services.spc import spc_chart
from lichain.storage.sql import SqlStore, open_store
from tests.support.chain_text import event, parse_chain

T0 = datetime(2026, 1, 1, tzinfo=UTC)
RUNS = [f"R{k}" for k in range(1, 9)]
SHIFTED = "R4"


def _chain() -> str:
    lines = ["site P1 precursor_plant CN Demo-Precursor", "site C1 cathode_plant CN Demo-Cathode",
             "material NSO refined_salt NiSO4·6H2O", "material PCAM pcam Ni0.8Co0.1Mn0.1(OH)2",
             "material CAM cam LiNi0.8Co0.1Mn0.1O2", "lot S1 NSO @P1 2025-12-31 100000kg Ni=0.2"]
    for k, r in enumerate(RUNS):
        a, b = T0 + timedelta(days=2 * k), T0 + timedelta(days=2 * k + 2)
        lines.append(f"run {r} co_precipitation @P1 {a:%Y-%m-%dT%H:%M:%S}..{b:%Y-%m-%dT%H:%M:%S} in S1:500kg "
                     f"out P-{r}:PCAM:160kg:Ni=0.625")
    lines.append("ship SH1 P-R4 160kg P1->C1 2026-01-09T00:00:00 truck 300km Demo-Cathode")
    lines.append("run K1 calcination @C1 2026-01-10..2026-01-11 in P-R4:160kg out CAM-1:CAM:160kg:Ni=0.625")
    return "\n".join(lines) + "\n"


def _readings(path: Path, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out, values = [], []
    for k, r in enumerate(RUNS):
        a = T0 + timedelta(days=2 * k)
        for i in range(2 * 144):  # every 10 min for 48 h
            v = rng.normal(11.4 + (0.3 if r == SHIFTED else 0.0), 0.03)
            values.append(v)
            out.append(f"{(a + timedelta(minutes=10 * i)):%Y-%m-%dT%H:%M:%SZ},{r},pH,{v:.4f},pH\n")
    path.write_text("time,run,parameter,value,unit\n" + "".join(out), encoding="utf-8")
    return np.round(np.array(values), 4)


def _setup(store: SqlStore, tmp_path: Path) -> np.ndarray:
    r = ingest_events(parse_chain(_chain()), store)
    assert r.ok, r.problems
    spec = Specification("L1", "P/1", T0, (Limit("pH", "pH", __import__("decimal").Decimal("11.2"),
                                                 __import__("decimal").Decimal("11.8")),), "process")
    assert ingest_events([LocatedEvent("spec", event(spec, T0))], store).ok
    values = _readings(tmp_path / "l1.csv")
    assert ingest_readings(store, tmp_path / "l1.csv", "L1", root=tmp_path / "proc").ok
    return values


def test_shift_is_signalled_and_traced(sqlite_store: SqlStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                       ) -> None:
    monkeypatch.setenv("LICHAIN_PROCESS_DIR", str(tmp_path / "proc"))
    monkeypatch.setenv("LICHAIN_CACHE", str(tmp_path / "cache"))
    values = _setup(sqlite_store, tmp_path)
    r = spc_chart(sqlite_store, "L1", "pH", "2026-01", rules="western_electric")
    shift_start, shift_end = T0 + timedelta(days=6), T0 + timedelta(days=8)
    beyond = {a.window_start for a in r.alarms if a.rule == "WE1" and a.chart == "xbar"}
    in_shift = {p.start for p in r.points
                if shift_start <= datetime.fromisoformat(p.start.replace("Z", "+00:00")) < shift_end}
    assert len(in_shift) == 48 and in_shift <= beyond  # every hour of the shifted run plots beyond the limits
    assert set(r.excluded_from_limits) >= {p.index for p in r.points if p.start in in_shift}
    assert SHIFTED in r.runs_in_alarm and "P-R4" in r.lots_made and "CAM-1" in r.downstream_lots
    assert not r.in_control
    # capability: Pp/Ppk from the overall s of every reading (numpy), Cp from the chart's sigma within
    s = float(np.std(values, ddof=1))
    mu = float(np.mean(values))
    assert r.capability is not None and r.capability.spec_version == "P/1"
    assert r.capability.pp == pytest.approx(0.6 / (6 * s), rel=1e-6)
    assert r.capability.ppk == pytest.approx(min(11.8 - mu, mu - 11.2) / (3 * s), rel=1e-6)
    kept = [p.spread for p in r.points if p.index not in r.excluded_from_limits]
    assert r.capability.sigma_within == pytest.approx(float(np.mean(kept)) / FACTORS[5].d2, rel=1e-9)
    assert r.capability.cp == pytest.approx(0.6 / (6 * r.capability.sigma_within), rel=1e-9)


def test_individuals_chart_and_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LICHAIN_CACHE", str(tmp_path / "cache"))
    store = open_store(str(tmp_path / "l.db"))
    monkeypatch.setenv("LICHAIN_PROCESS_DIR", str(tmp_path / "proc"))
    _setup(store, tmp_path)
    r = spc_chart(store, "L1", "pH", "2026-01", chart="i-mr", every="2h")
    assert len(r.points) == 8 * 24 and any(a.chart == "i" and a.rule == "N1" for a in r.alarms)
    store.close()
    runner = CliRunner()
    args = ["spc", "--line", "L1", "--param", "pH", "--period", "2026-01", "--db", "l.db"]
    res = runner.invoke(app, [*args, "--json", "--record-alarms", "--svg", "chart.svg"])
    assert res.exit_code == 0, res.output
    first = json.loads(res.stdout)
    assert first["alarms_recorded"] == len(first["alarms"]) > 0
    again = json.loads(runner.invoke(app, [*args, "--json", "--record-alarms"]).stdout)
    assert again["alarms_recorded"] == 0  # the same signals are on record already
    root = ET.fromstring((tmp_path / "chart.svg").read_text(encoding="utf-8"))
    assert root.tag.endswith("svg") and len([e for e in root.iter() if e.tag.endswith("circle")]) == 2 * len(
        first["points"])
    text = runner.invoke(app, args)
    assert text.exit_code == 0 and "OUT OF CONTROL" in text.stdout and "R4" in text.stdout
    bad = runner.invoke(app, ["spc", "--line", "L1", "--param", "ph", "--period", "2026-01", "--db", "l.db"])
    assert bad.exit_code == 1 and "unknown parameter" in bad.output
