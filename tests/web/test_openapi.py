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


def test_every_error_response_is_documented_as_problem_details() -> None:
    """4xx/5xx responses are described as application/problem+json; keyed routes document 401 and 403."""
    doc = json.loads(DOC.read_text(encoding="utf-8"))
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    for path, ops in doc["paths"].items():
        for op in ops.values():
            errors = {s: r for s, r in op["responses"].items() if s[0] in "45"}
            assert all(list(r["content"]) == ["application/problem+json"] for r in errors.values()), path
            if op["x-access"] != "public":
                assert {"401", "403"} <= set(errors), path
