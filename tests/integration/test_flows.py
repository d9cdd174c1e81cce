"""Stage-to-stage element flows (the chain overview's Sankey) on SQLite and PostgreSQL.

A hand-made chain with the recycling loop, all at one site (figures in kg of Ni, by hand):

* R1 refines ore O1 (10 000 kg, 1 % Ni = 100 kg Ni) into salt N1: ore → refined_salt 100;
* R2 makes pCAM P1 from all of N1 (400 kg × 0.22 = 88 kg Ni): refined_salt → pcam 88;
* R3 makes CAM C1 (150 kg) and scrap X1 (10 kg) from P1 (140 kg, 0.6 Ni). Consumption is allocated to outputs
  by mass: C1 gets 150/160 × 140 kg × 0.6 = 78.75 kg Ni, X1 10/160 × 140 × 0.6 = 5.25: pcam → cam 78.75,
  pcam → scrap 5.25;
* R4 makes black mass B1 from X1 (10 kg × 0.5 = 5): scrap → black_mass 5;
* R5 makes recovered salt S2 from B1 (8 kg × 0.5 = 4): black_mass → recovered_salt, a return (rank 3 < 8): 4;
* R6 (in July) makes pCAM P2 from S2 (16 kg × 0.2 = 3.2): recovered_salt → pcam 3.2.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lichain.entrypoints.cli import app
from lichain.services.flows import element_flows
from lichain.services.ingest import ingest_events
from lichain.storage.sql import SqlStore
from tests.support.chain_text import parse_chain

CHAIN = """
site S1 refinery CN
material ORE ore
material NSO refined_salt NiSO4·6H2O
material PC pcam Ni(OH)2
material CM cam LiNiO2
material SCR scrap
material BM black_mass
material RS recovered_salt NiSO4·6H2O
lot O1 ORE @S1 2026-01-01 10000kg Ni=0.01
run R1 refining @S1 2026-02-01..2026-02-02 in O1:10000kg out N1:NSO:400kg:Ni=0.22 loss Ni=12kg
run R2 coprecipitation @S1 2026-03-01..2026-03-02 in N1:400kg out P1:PC:140kg:Ni=0.6 loss Ni=4kg
run R3 calcination @S1 2026-04-01..2026-04-02 in P1:140kg out C1:CM:150kg:Ni=0.5 X1:SCR:10kg:Ni=0.5 loss Ni=4kg
run R4 recycling @S1 2026-05-01..2026-05-02 in X1:10kg out B1:BM:8kg:Ni=0.5 loss Ni=1kg
run R5 recycling @S1 2026-06-01..2026-06-02 in B1:8kg out S2:RS:16kg:Ni=0.2 loss Ni=0.8kg
run R6 coprecipitation @S1 2026-07-01..2026-07-02 in S2:16kg out P2:PC:5kg:Ni=0.6 loss Ni=0.2kg
"""

WHOLE = {("ore", "refined_salt"): 100.0, ("refined_salt", "pcam"): 88.0, ("pcam", "cam"): 78.75,
         ("pcam", "scrap"): 5.25, ("scrap", "black_mass"): 5.0, ("black_mass", "recovered_salt (returned)"): 4.0,
         ("recovered_salt", "pcam"): 3.2}


@pytest.fixture
def ledger(store: SqlStore) -> SqlStore:
    r = ingest_events(parse_chain(CHAIN), store)
    assert r.ok, r.problems
    return store


def _links(d) -> dict[tuple[str, str], float]:  # type: ignore[no-untyped-def]
    return {(k.source, k.target): k.element_kg for k in d.links}


def test_whole_ledger_flows_match_the_hand_figures(ledger: SqlStore) -> None:
    d = element_flows(ledger, "Ni")
    got = _links(d)
    assert got.keys() == WHOLE.keys()
    for k, v in WHOLE.items():
        assert got[k] == pytest.approx(v, rel=1e-12), k
    nodes = {n.id: n for n in d.nodes}
    assert nodes["pcam"].in_kg == pytest.approx(88.0 + 3.2) and nodes["pcam"].out_kg == pytest.approx(84.0)
    assert nodes["recovered_salt (returned)"].returned and nodes["recovered_salt"].rank == 3
    assert d.total_kg == pytest.approx(sum(WHOLE.values()))


def test_the_diagram_is_acyclic_every_link_goes_to_a_higher_rank_or_a_return_node(ledger: SqlStore) -> None:
    d = element_flows(ledger, "Ni")
    rank = {n.id: n.rank for n in d.nodes}
    for k in d.links:
        target = next(n for n in d.nodes if n.id == k.target)
        assert target.returned or rank[k.target] > rank[k.source], k
        assert not any(n.returned for n in d.nodes if n.id == k.source)  # a return node is never a source


def test_a_period_keeps_the_flows_into_lots_made_in_it(ledger: SqlStore) -> None:
    h1 = _links(element_flows(ledger, "Ni", "2026-01-01..2026-06-30"))
    assert h1.keys() == WHOLE.keys() - {("recovered_salt", "pcam")}
    q3 = _links(element_flows(ledger, "Ni", "2026-Q3"))
    assert q3 == {("recovered_salt", "pcam"): pytest.approx(3.2)}
    assert _links(element_flows(ledger, "Ni", "2025")) == {}


def test_cli_json_and_unknown_element(ledger: SqlStore) -> None:
    r = CliRunner().invoke(app, ["flows", "--element", "Ni", "--period", "2026-Q2", "--db", ledger.url, "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["element"] == "Ni" and doc["unit"] == "kg" and doc["period"] == "2026-Q2"
    assert {(k["source"], k["target"]): k["element_kg"] for k in doc["links"]} == pytest.approx(
        {("pcam", "cam"): 78.75, ("pcam", "scrap"): 5.25, ("scrap", "black_mass"): 5.0,
         ("black_mass", "recovered_salt (returned)"): 4.0})
    bad = CliRunner().invoke(app, ["flows", "--element", "Xx", "--db", ledger.url])
    assert bad.exit_code == 1 and "not tracked" in bad.output


def test_demo_outflow_of_each_stage_equals_its_consumed_element_by_sql(store: SqlStore) -> None:
    """Independent of allocation: each stage's outflow (drawn + within-stage) is Σ consumed kg × mass fraction of
    the consumed lots of that stage, summed here in SQL from the consumption and assay rows."""
    from sqlalchemy import text

    from lichain.services.demo import run_demo

    assert run_demo(store, lots=300).ok
    d = element_flows(store, "Co")
    out: dict[str, float] = {}
    for k in (*d.links, *d.within_stage):
        out[k.source] = out.get(k.source, 0.0) + k.element_kg
    with store.engine.connect() as c:
        rows = c.execute(text(
            "SELECT m.stage, SUM(CAST(c.mass_mg AS DOUBLE PRECISION) * a.ppb) FROM consumptions c "
            "JOIN lots l ON l.idx = c.lot_idx JOIN materials m ON m.code = l.material "
            "JOIN assays a ON a.lot_idx = c.lot_idx AND a.element = 'Co' GROUP BY m.stage")).all()
    sql = {stage: float(v) / 1e6 / 1e9 for stage, v in rows if v}
    assert {s for s, v in sql.items() if v > 0} == set(out)
    for stage, v in sql.items():
        assert out.get(stage, 0.0) == pytest.approx(v, rel=1e-9), stage
