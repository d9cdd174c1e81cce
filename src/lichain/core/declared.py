"""Say which attributes of a master-data declaration (a site, a material) differ from the one on record.

Why this exists: a site or material is declared once; declaring it again with other attributes is refused, and
"already declared with other attributes" alone leaves a person comparing two records by eye. The refusal names
each differing attribute with both values, the recorded one first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from lichain.core.codec import body_to_json
from lichain.core.model import Material, Site

__all__ = ["declared_differences", "refusal"]


def declared_differences(recorded: Mapping[str, Any], given: Mapping[str, Any]) -> list[str]:
    """``attribute: recorded 'A', here 'B'`` for each attribute whose values differ, in the given record's order."""
    keys = [*given, *(k for k in recorded if k not in given)]
    return [f"{k}: recorded {recorded.get(k)!r}, here {given.get(k)!r}" for k in keys
            if recorded.get(k) != given.get(k)]


def refusal(body: Site | Material, recorded_payload: str | None) -> str:
    """The refusal message for re-declaring ``body`` when ``recorded_payload`` (canonical JSON) is on record."""
    what, key = ("site", body.id) if isinstance(body, Site) else ("material", body.code)
    head = f"{what} {key} is already declared with other attributes"
    if recorded_payload is None:
        return head
    diffs = declared_differences(json.loads(recorded_payload), body_to_json(body))
    return f"{head}: {'; '.join(diffs)}" if diffs else head
