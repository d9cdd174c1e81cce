"""An upstream trace's kept answer: reused while only lots were appended, replaced once a site risk is recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from lichain.core.model import SiteRisk
from lichain.services.ingest import ingest_events
from lichain.services.trace import trace_lot
from lichain.storage.sql import SqlStore
from tests.integration.test_diligence import CHAIN, _statement, d
from tests.support.chain_text import parse_chain


def test_kept_trace_follows_appends_and_new_risks(sqlite_store: SqlStore, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LICHAIN_CACHE", str(tmp_path / "cache"))
    store = sqlite_store
    assert ingest_events(parse_chain(CHAIN), store).ok
    first = trace_lot(store, "P")
    assert {c.lot: c.risks for c in first.contributions} == {"A": (), "B": (), "C": ()}
    assert ingest_events(parse_chain("lot D ORE @M2 2026-05-01 10kg Ni=0.01"), store).ok  # an appended lot
    assert trace_lot(store, "P") is first  # nothing it reads changed: the same answer
    flag = SiteRisk("RF-1", "M1", "red_flag", "open", d(2), "grievance G-7", category="serious_abuses",
                    reference="G-7")
    assert ingest_events([_statement(flag, d(2), "risk:1")], store).ok
    after = trace_lot(store, "P")
    assert {c.lot: c.risks for c in after.contributions} == {"A": (), "B": ("RF-1",), "C": ()}


def test_every_response_says_the_apps_own_time(sqlite_store: SqlStore) -> None:
    from fastapi.testclient import TestClient

    from lichain.web.app import create_app

    r = TestClient(create_app(sqlite_store)).get("/health")
    (part,) = [p for p in r.headers["server-timing"].split(",") if p.strip().startswith("app;dur=")]
    assert float(part.split("=", 1)[1]) >= 0
