"""Trace service and CLI JSON shape on a small chain, against hand arithmetic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lichain.entrypoints.cli import app
from lichain.services.ingest import ingest_events
from lichain.services.trace import trace_lot
from lichain.storage.sql import SqlStore
from tests.support.chain_text import parse_chain

CHAIN = """
site M1 mine ID NickelCo
site M2 mine PH OtherMines
site R1 refinery CN Refiner
material ORE ore
material NSO refined_salt NiSO4·6H2O
lot L1 ORE @M1 2026-01-01 1000kg Ni=0.012
lot L3 ORE @M2 2026-01-01 200kg Ni=0.015
ship S-1 L1 600kg M1->R1 2026-01-01T12:00 sea_container 4000km
ship S-2 L3 200kg M2->R1 2026-01-01T12:00 sea_container 2500km
run R-1 refining @R1 2026-01-02..2026-01-03 in L1:500kg out L2:NSO:26.8kg:Ni=0.2233 loss Ni=0.01556kg
run R-2 refining @R1 2026-02-02..2026-02-03 in L1:100kg L3:200kg out L4:NSO:18.8kg:Ni=0.2233 loss Ni=0.00196kg
"""
# Independent arithmetic for L4: Ni in from L1 = 100 × 0.012 = 1.2 kg, from L3 = 200 × 0.015 = 3.0 kg;
# shares 1.2 / 4.2 and 3.0 / 4.2 of what arrived; L4 holds 18.8 × 0.2233 = 4.19804 kg Ni.


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LICHAIN_CACHE", str(tmp_path / "cache"))


def test_upstream_shares_and_kg(store: SqlStore) -> None:
    assert ingest_events(parse_chain(CHAIN), store).ok
    d = trace_lot(store, "L4", element="Ni", by="country")
    got = {c.lot: (c.share["Ni"], c.kg["Ni"]) for c in d.contributions}
    assert got["L1"][0] == pytest.approx(1.2 / 4.2, rel=1e-12)
    assert got["L3"][0] == pytest.approx(3.0 / 4.2, rel=1e-12)
    assert got["L3"][1] == pytest.approx(4.19804 * 3.0 / 4.2, rel=1e-12)
    assert sum(s for s, _ in got.values()) == pytest.approx(1.0, abs=1e-12)
    assert d.groups is not None and d.groups["PH"].share["Ni"] == pytest.approx(3.0 / 4.2, rel=1e-12)


def test_downstream_recall(store: SqlStore) -> None:
    assert ingest_events(parse_chain(CHAIN), store).ok
    d = trace_lot(store, "L1", down=True, element="Ni")
    got = {c.lot: (c.share["Ni"], c.kg["Ni"]) for c in d.contributions}
    assert set(got) == {"L2", "L4"}
    assert got["L2"][0] == pytest.approx(1.0)
    assert got["L4"][1] == pytest.approx(4.19804 * 1.2 / 4.2, rel=1e-12)


def test_cli_trace_json_shape(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    from lichain.storage.sql import open_store

    s = open_store(db)
    assert ingest_events(parse_chain(CHAIN), s).ok
    s.close()
    res = CliRunner().invoke(app, ["trace", "L4", "--element", "Ni", "--json", "--db", db])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert {"lot", "direction", "element", "contributions"} <= set(d)
    assert {"lot", "site", "stage", "kg", "share"} <= set(d["contributions"][0])
    assert set(d["contributions"][0]["kg"]) == {"Ni"}  # per element, whether one or all are traced
    res = CliRunner().invoke(app, ["trace", "NOPE", "--json", "--db", db])
    assert res.exit_code == 1 and json.loads(res.stdout)["error"]["kind"] == "refused"  # not on record


def test_cli_trace_as_of(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    from lichain.storage.sql import open_store

    s = open_store(db)
    assert ingest_events(parse_chain(CHAIN), s).ok
    s.close()
    # on 2026-01-15 lot L1 had been consumed by R-1 only: downstream it reached L2, not yet L4
    res = CliRunner().invoke(app, ["trace", "L1", "--down", "--json", "--db", db, "--as-of", "2026-01-15T00:00:00"])
    assert res.exit_code == 0, res.output
    assert {c["lot"] for c in json.loads(res.output)["contributions"]} == {"L2"}
    res = CliRunner().invoke(app, ["trace", "L1", "--down", "--json", "--db", db])
    assert {c["lot"] for c in json.loads(res.output)["contributions"]} == {"L2", "L4"}
