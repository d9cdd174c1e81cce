"""`lichain keys generate`, `checkpoint` and `verify --against|--deep` from the command line, with exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from lichain.entrypoints.cli import app
from lichain.services.ingest import ingest_events
from lichain.storage.sql import open_store
from tests.support.chain_text import parse_chain

runner = CliRunner()
CHAIN = """
site R1 refinery CN
material ORE ore
lot L1 ORE @R1 2026-01-01 1000kg Ni=0.01
lot L2 ORE @R1 2026-01-02 500kg Ni=0.02
"""


def test_checkpoint_round_trip_and_tamper(tmp_path: Path) -> None:
    db = str(tmp_path / "l.db")
    store = open_store(db)
    assert ingest_events(parse_chain(CHAIN), store).ok
    r = runner.invoke(app, ["keys", "generate", "--out", str(tmp_path / "keys"), "--no-record", "--json"])
    assert r.exit_code == 0, r.output
    keys = json.loads(r.stdout)
    cp = tmp_path / "cp.jws"
    r = runner.invoke(app, ["checkpoint", "--key", keys["private_key"], "--out", str(cp), "--db", db, "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["checkpoint"]["seq"] == 4
    r = runner.invoke(app, ["verify", "--against", str(cp), "--public-key", keys["public_key"], "--db", db, "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["extends_checkpoint"]
    r = runner.invoke(app, ["verify", "--deep", "--db", db, "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["projections_ok"]
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE lots SET origin = 'post_consumer' WHERE id = 'L1'"))
    r = runner.invoke(app, ["verify", "--db", db, "--json"])
    assert r.exit_code == 0  # the chain alone does not see projections
    r = runner.invoke(app, ["verify", "--deep", "--db", db])
    assert r.exit_code == 1 and "lots [idx=0]: changed columns origin" in r.stderr
    with store.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM lots WHERE id = 'L2'"))
        conn.execute(sa.text("DELETE FROM events WHERE seq = 4"))
    r = runner.invoke(app, ["verify", "--against", str(cp), "--public-key", keys["public_key"], "--db", db])
    assert r.exit_code == 1 and "truncated" in r.stderr
    r = runner.invoke(app, ["verify", "--against", str(cp), "--db", db])
    assert r.exit_code == 2
    store.close()
