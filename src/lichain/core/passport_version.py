"""Versions of a battery passport: a digest of what it says, and the link from each version to the one before.

Why this exists: a passport is issued, then its source data change (a corrected cell-maker statement, a new
emission factor, a supplier PCF that changes the footprint). The new passport must not silently replace the old
one: it gets the next version number and names the previous version's digest, and the old document still checks
as what it was (its stated digest is recomputed from its own content). The digest covers the passport's content
(identity, level, format, aspects, missing inputs, withheld fields, the statement it rests on) and not its
version fields nor the chain head it was computed at, so appending unrelated events makes no new version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from lichain.core.codec import canonical_json

__all__ = ["CONTENT_KEYS", "content_digest", "digest_matches", "next_version"]

#: Members of a passport document that its digest covers.
CONTENT_KEYS: tuple[str, ...] = ("passport_id", "battery_id", "lot", "format", "level", "status",
                                 "predecessor_passport", "aspects", "missing_inputs", "withheld", "spec_event")


def content_digest(doc: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of the canonical JSON of the document's content members."""
    body = {k: doc.get(k) for k in CONTENT_KEYS}
    return "sha256:" + hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def digest_matches(doc: Mapping[str, Any]) -> bool:
    """True when the document's stated ``digest`` is the digest of its content (it is what it says it was)."""
    return doc.get("digest") == content_digest(doc)


def next_version(previous: Mapping[str, Any] | None, current: Mapping[str, Any]
                 ) -> tuple[int, dict[str, Any] | None]:
    """Version number and previous-version link of a passport with ``digest``, given the last issued one.

    No previous: version 1. Same content as the previous: its version and link again (nothing changed). Else the
    next number, linked to the previous version's number and digest. ``current`` holds the new passport's
    ``passport_id``, ``level``, ``format`` and ``digest``. A previous passport of another battery, level or format,
    or one whose digest does not match its content, is refused (ValueError).
    """
    if previous is None:
        return 1, None
    for key in ("passport_id", "level", "format"):
        if previous.get(key) != current[key]:
            raise ValueError(f"the previous passport's {key} is {previous.get(key)!r}, not {current[key]!r}: "
                             "versions link passports of one battery at one level in one format")
    digest = current["digest"]
    if not digest_matches(previous):
        raise ValueError("the previous passport's digest does not match its content: it was altered")
    version = previous.get("version")
    if not isinstance(version, int) or version < 1:
        raise ValueError("the previous passport has no version number")
    if previous.get("digest") == digest:
        link = previous.get("previous")
        return version, dict(link) if isinstance(link, Mapping) else None
    return version + 1, {"version": version, "digest": previous["digest"]}
