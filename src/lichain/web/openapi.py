"""The OpenAPI document of the REST API, committed as ``docs/openapi.json`` and checked by a test.

Why this exists: clients generate code from the document and reviewers read the access rule of each route in
it (``x-access``); it is generated from the app (no ledger needed: an in-memory SQLite one is opened), so it
cannot drift from the routes. Regenerate with ``.venv/bin/python -m lichain.web.openapi docs/openapi.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["openapi_document", "openapi_text"]


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the app."""
    from lichain.web.app import create_app

    doc: dict[str, Any] = create_app("sqlite://").openapi()
    return doc


def openapi_text() -> str:
    """The document as committed: indented JSON, keys in the app's order, a final newline."""
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/openapi.json")
    out.write_text(openapi_text(), encoding="utf-8")
    print(out)
