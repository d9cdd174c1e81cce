"""Field-level bounds of one event (texts, identifiers, times, masses, element symbols), as located problems.

Why this exists: the ledger rules (:mod:`lichain.core.validate`) reason about lots, runs and balances; before them
every stored value must fit what the ledger can hold and be plausible (:mod:`lichain.core.limits`). The walk
runs over the event's canonical JSON, so every text field of every kind of event is covered, including the ones
added later. Locations are JSON-pointer suffixes relative to the event (``/outputs/0/id``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from lichain.core.codec import body_to_json, canonical_json, parse_time
from lichain.core.limits import (
    ELEMENT_SYMBOLS,
    FORMAT_CHARS,
    MAX_CHARS,
    MAX_MASS_KG,
    MAX_TEXT_CHARS,
    gs1_lot_problem,
    ledger_now,
    text_problem,
    time_problem,
)
from lichain.core.model import Event, VerbatimEvent
from lichain.core.quantities import MG_PER_KG
from lichain.core.verbatim import verbatim_problems

__all__ = ["field_problems"]

_MAX_MG = int(MAX_MASS_KG * MG_PER_KG)
_WHAT = {
    "lot": "lot id", "site": "site id", "from_site": "site id", "to_site": "site id", "material": "material code",
    "code": "material code", "name": "name", "organisation": "organisation", "to_organisation": "organisation",
    "grid_region": "grid region", "formula": "formula", "mode": "transport mode", "key": "factor key",
    "source": "source", "reason": "reason", "target_event_id": "event id", "corrective_event_ids": "event id",
    "certifications": "certification", "risk": "certification", "instrument": "instrument",
    "factor_key": "factor key", "assay_method": "name", "assay_lab": "name",
}  # fmt: skip
_ID_OF = {"lot": "lot id", "run": "run id", "shipment": "shipment id", "custody_claim": "claim id",
          "site": "site id"}
_TIMES = ("_at", "valid_from", "valid_to", "period_start", "period_end")
_MASSES = ("mass_kg", "kg", "pre_consumer_kg", "post_consumer_kg")


def _what(kind: str, ptr: str, key: str) -> str:
    if key == "id":
        if "/outputs/" in ptr:
            return "lot id"
        return _ID_OF.get(kind, f"{kind} id")
    if key == "kind":
        return "run kind" if kind == "run" else "site kind"
    return _WHAT.get(key, "text")


#: In an event's canonical JSON (``ensure_ascii=False``) a control character below U+0020 is written as an
#: escape, U+007F–U+009F and surrogates as themselves: no match means no string of the event holds one. A match
#: (or an escaped backslash before ``n``, or an invisible format character) only sends the event through the per-string check.
_PAYLOAD_SUSPECT = re.compile(f"\\\\(?:u00[01]|[bfnrt])|[\x7f-\x9f\ud800-\udfff{FORMAT_CHARS}]")
#: Strings this short under keys with no rule of their own fit every column and need no per-string call.
_SHORTEST_LIMIT = min(MAX_CHARS.values())
_SPECIAL_KEYS = frozenset(_MASSES)


class _Walk:
    """One event's walk: containers get their JSON pointer, leaves only when they hold a problem."""

    __slots__ = ("clean", "kind", "now", "out")

    def __init__(self, kind: str, now: datetime, out: list[tuple[str, str]], clean: bool) -> None:
        self.kind, self.now, self.out, self.clean = kind, now, out, clean

    def plain(self, value: str, key: str) -> bool:
        """True when ``value`` under ``key`` cannot break any rule: short, clean text with no rule of its own."""
        return (self.clean and len(value) <= _SHORTEST_LIMIT and key not in _SPECIAL_KEYS
                and not key.endswith(_TIMES))

    def container(self, value: Any, ptr: str, key: str) -> None:
        if isinstance(value, dict):
            elements = key in ("assay", "losses_kg")
            for k, v in value.items():
                if isinstance(v, str):
                    if not self.plain(v, k) or key == "losses_kg":  # a declared loss is a mass, however short
                        self.leaf(v, ptr, k)
                elif isinstance(v, (dict, list)):
                    self.container(v, f"{ptr}/{k}", k)
                if elements and k not in ELEMENT_SYMBOLS:
                    self.out.append((f"{ptr}/{k}", f"{k!r} is not an element symbol (IUPAC periodic table)"))
        else:
            for i, v in enumerate(value):
                if isinstance(v, str):
                    if not self.plain(v, key):
                        self.leaf(v, ptr, key, i)
                elif isinstance(v, (dict, list)):
                    self.container(v, f"{ptr}/{i}", key)

    def leaf(self, value: str, parent: str, key: str, index: int | None = None) -> None:
        what = _what(self.kind, parent + "/", key)
        limit = MAX_CHARS.get(what)
        if self.clean:
            n = limit if limit is not None else MAX_TEXT_CHARS
            p = f"{what} is {len(value):,} characters long; the limit is {n:,}" if len(value) > n else None
        else:
            p = text_problem(value, what, limit)
        ptr = ""
        if p or what == "lot id" or key.endswith(_TIMES) or key in _MASSES or parent.startswith("/losses_kg"):
            ptr = f"{parent}/{key}" if index is None else f"{parent}/{index}"
        if p:
            self.out.append((ptr, p))
            return
        if what == "lot id" and value.startswith("https://id.gs1.org/"):
            p = gs1_lot_problem(value)
            if p:
                self.out.append((ptr, p))
        if key.endswith(_TIMES):
            try:
                p = time_problem(parse_time(value), key.replace("_", " "), self.now)
            except ValueError:
                p = None
            if p:
                self.out.append((ptr, p))
        elif key in _MASSES or ptr.startswith("/losses_kg/"):
            try:
                mg = round(float(value) * 1e6)
            except ValueError:
                return
            if mg > _MAX_MG:
                self.out.append((ptr, f"mass {value} kg exceeds the largest mass the ledger stores, "
                                      f"{MAX_MASS_KG:,} kg (2^63 - 1 mg)"))


def field_problems(ev: Event, now: datetime | None = None, body: Mapping[str, Any] | None = None,
                   payload: str | None = None) -> list[tuple[str, str]]:
    """Every value of ``ev`` outside the ledger's bounds: (pointer suffix, reason).

    ``body`` and ``payload`` are the event's :func:`~lichain.core.codec.body_to_json` form and its canonical JSON
    when the caller has them already.
    """
    out: list[tuple[str, str]] = []
    now = now or ledger_now()  # the clock is read once per event, not once per time field
    kind = ev.kind.value
    p = text_problem(ev.event_id, "event id")
    if p:
        out.append(("", p))
    p = time_problem(ev.time, "event time", now)
    if p:
        out.append(("", p))
    body = body if body is not None else body_to_json(ev.body)
    text = payload if payload is not None else canonical_json(body)
    if isinstance(ev.body, VerbatimEvent):  # kept as received: its own bounds (lichain.core.verbatim)
        return out + verbatim_problems(ev.body, text)
    if text.isascii():  # the usual case: only an escape or DEL can hide a control character
        clean = "\\" not in text and "\x7f" not in text
    else:
        clean = _PAYLOAD_SUSPECT.search(text) is None
    _Walk(kind, now, out, clean).container(body, "", "")
    return out
