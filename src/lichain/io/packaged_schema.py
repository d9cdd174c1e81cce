"""JSON documents shipped with the package (standard schemas, example payloads) and schema validation.

Schemas are read from the package data, never fetched, and validated with ``jsonschema`` so every exported
payload can be checked against the standard it claims to follow.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["package_json", "schema_problems"]


@cache
def _cached(path: str) -> str:
    return resources.files("lichain").joinpath(path).read_text(encoding="utf-8")


def package_json(path: str) -> Any:
    """A JSON file of the ``lichain`` package, by its path relative to the package (a fresh copy each call)."""
    return json.loads(_cached(path))


def schema_problems(schema: Mapping[str, Any], payload: Mapping[str, Any]) -> list[str]:
    """Problems of ``payload`` against a draft-04 JSON Schema, each ``"<json path>: <message>"`` (empty: valid)."""
    from jsonschema import Draft4Validator

    v = Draft4Validator(schema)
    return [f"/{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
            for e in sorted(v.iter_errors(payload), key=lambda e: list(map(str, e.absolute_path)))]
