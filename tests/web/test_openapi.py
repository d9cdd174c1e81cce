"""docs/openapi.json is the app's OpenAPI document and must be current."""

from __future__ import annotations

import json
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_committed_openapi_document_is_current() -> None:
    """Regenerate with `.venv/bin/python -m lichain.web.openapi docs/openapi.json` after changing a route."""
    from lichain.web.openapi import openapi_text

    assert DOC.read_text(encoding="utf-8") == openapi_text(), (
        "docs/openapi.json is stale: run `.venv/bin/python -m lichain.web.openapi docs/openapi.json`")


def test_served_document_states_each_rule_and_the_result_models() -> None:
    """The document is served, names every route's access rule, and reuses the use cases' result types."""
    from fastapi.testclient import TestClient

    from lichain.web.app import create_app

    served = TestClient(create_app("sqlite://")).get("/openapi.json")
    assert served.status_code == 200 and served.json() == json.loads(DOC.read_text(encoding="utf-8"))
    doc = served.json()
    rules = {op["x-access"] for ops in doc["paths"].values() for op in ops.values()}
    assert rules == {"public", "ledger", "read", "write", "owner"}
    assert {"TraceResult", "LotDetail", "LotSummary", "IngestResult", "Verification", "DiligenceReport"} <= set(
        doc["components"]["schemas"])
