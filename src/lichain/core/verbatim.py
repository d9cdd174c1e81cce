"""Bounds on an EPCIS event kept verbatim: size, control characters, invisible characters in identifiers.

Why this exists: an event the lot graph does not model (:class:`lichain.core.model.VerbatimEvent`) is stored as
received, so the field rules of modelled events (lot ids, masses, element symbols) do not apply to it; what still
matters is that it fits the record and that the values a query matches on (EPCs, classes, locations, business
steps, event ids) and the member names are text that looks like what it is. Free text (comments, sensor string
values) may hold tabs and line breaks, no other control character. Locations are JSON pointers relative to the
event, like those of :func:`lichain.core.fieldcheck.field_problems`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from lichain.core.limits import FORMAT_CHARS
from lichain.core.model import VerbatimEvent

__all__ = ["IDENTIFIER_MEMBERS", "MAX_VERBATIM_CHARS", "MAX_VERBATIM_TEXT", "verbatim_problems"]

#: Longest event kept verbatim, as canonical JSON [characters]: GS1's largest example event is 3 k characters.
MAX_VERBATIM_CHARS = 1 << 20
#: Longest string inside an event kept verbatim [characters].
MAX_VERBATIM_TEXT = 64 * 1024
#: Members whose values identify something (EPCIS 2.0 §7.3: EPCs, classes, locations, parties, vocabulary terms):
#: no control or invisible format character, so two ids that look alike are alike.
IDENTIFIER_MEMBERS = frozenset({
    "eventID", "parentID", "epcList", "childEPCs", "inputEPCList", "outputEPCList", "epcClass", "id", "bizStep",
    "disposition", "set", "unset", "bizTransaction", "source", "destination", "transformationID", "deviceID",
    "type", "uom", "action", "sensorMetadata", "microorganism", "chemicalSubstance",
})  # fmt: skip

_ID_BAD = re.compile(f"[\x00-\x1f\x7f-\x9f\ud800-\udfff{FORMAT_CHARS}]")
_TEXT_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _esc(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _char(text: str, m: re.Match[str]) -> str:
    c = m[0]
    name = unicodedata.name(c, "a control character" if unicodedata.category(c) == "Cc" else "unnamed")
    return f"U+{ord(c):04X} ({name}) at character {m.start() + 1}"


class _Screen:
    def __init__(self) -> None:
        self.out: list[tuple[str, str]] = []

    def key(self, key: str, ptr: str) -> None:
        m = _ID_BAD.search(key)
        if m is not None:
            self.out.append((ptr, f"member name {key[:40]!r} holds {_char(key, m)}: names must be plain text"))

    def value(self, value: Any, ptr: str, identifier: bool) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                p = f"{ptr}/{_esc(k)}"
                self.key(k, p)
                self.value(v, p, k in IDENTIFIER_MEMBERS)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self.value(v, f"{ptr}/{i}", identifier)
        elif isinstance(value, str):
            if len(value) > MAX_VERBATIM_TEXT:
                self.out.append((ptr, f"text is {len(value):,} characters long; the limit is {MAX_VERBATIM_TEXT:,}"))
                return
            m = (_ID_BAD if identifier else _TEXT_BAD).search(value)
            if m is not None:
                what = "identifier" if identifier else "text"
                self.out.append((ptr, f"{what} holds {_char(value, m)}"
                                      + (": ids that look alike must be alike" if identifier else "")))


def verbatim_problems(body: VerbatimEvent, payload: str) -> list[tuple[str, str]]:
    """Every bound an event kept verbatim breaks: (pointer suffix relative to the event, reason).

    Parameters
    ----------
    body : VerbatimEvent
        The event as it would be stored.
    payload : str
        Its canonical JSON (what the hash chain covers), whose length is bounded by :data:`MAX_VERBATIM_CHARS`.
    """
    if len(payload) > MAX_VERBATIM_CHARS:
        return [("", f"event is {len(payload):,} characters long as canonical JSON; an event kept verbatim may "
                     f"have at most {MAX_VERBATIM_CHARS:,}")]
    s = _Screen()
    s.value(body.event, "", False)
    for prefix, iri in body.context.items():
        s.key(prefix, "/@context")
        s.value(iri, f"/@context/{_esc(prefix)}", True)
    return s.out
