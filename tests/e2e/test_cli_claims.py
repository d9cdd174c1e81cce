"""`lichain claim` on the demo chain: the largest allowed claim records; nothing can be claimed twice."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lichain.core.codec import event_from_payload
from lichain.core.model import CustodyClaim
from lichain.entrypoints.cli import app
from lichain.services import circularity as circ
from lichain.storage.sql import open_store

PCAM = "CN-QUZHOU-PRECURSOR"


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LICHAIN_CACHE", str(tmp_path / "cache"))


def test_claim_then_no_second_claim_on_the_same_lots(tmp_path: Path) -> None:
    db = str(tmp_path / "d.db")
    r = CliRunner()
    assert r.invoke(app, ["demo", "--lots", "3000", "--db", db, "--json"]).exit_code == 0
    res = r.invoke(app, ["claim", PCAM, "--period", "2026", "--model", "controlled_blending", "--record",
                         "--json", "--db", db])
    first = json.loads(res.stdout)
    assert res.exit_code == 0 and first["recorded"] and first["allocations"] > 0
    from jsonschema import Draft202012Validator

    Draft202012Validator(json.loads((Path(__file__).parents[2] / "docs/schemas/claim.schema.json").read_text())
                         ).validate(first)
    assert first["allocated_kg"]["Ni"]["pre_consumer"] > 0
    # the runs' known proportions are used up: a second proposal allocates nothing
    res = r.invoke(app, ["claim", PCAM, "--period", "2026", "--model", "controlled_blending", "--json",
                         "--db", db, "--id", "again"])
    assert json.loads(res.stdout)["allocations"] == 0
    # and re-stating the first claim's allocations under another id is refused by the ledger, nothing written
    store = open_store(db)
    start, end = circ.parse_period("2026")
    assert circ.propose_claim(store, "probe", PCAM, start, end, "controlled_blending").allocations == ()
    stored = next(e for e in store.iter_events() if e.kind == "custody_claim")
    body = event_from_payload(stored.event_id, stored.kind, stored.time, stored.payload).body
    assert isinstance(body, CustodyClaim) and len(body.allocations) == first["allocations"]
    before = store.counts()
    res2 = circ.record_claim(store, replace(body, id="duplicate"))
    assert not res2.ok and any("known proportion" in p.message for p in res2.problems)
    assert store.counts() == before
    store.close()
