"""Field-level bounds of one event (texts, identifiers, times, masses, element symbols), as located problems.

Why this exists: the ledger rules (:mod:`lichain.core.validate`) reason about lots, runs and balances; before them
every stored value must fit what the ledger can hold and be plausible (:mod:`lichain.core.limits`). The walk
runs over the event's canonical JSON, so every text field of every kind of event is covered, including the ones
added later. Locations are JSON-pointer suffixes relative to the event (``/outputs/0/id``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from lichain.core.codec import body_to_json, parse_time
from lichain.core.limits import (
    ELEMENT_SYMBOLS,
    MAX_CHARS,
    MAX_MASS_KG,
    gs1_lot_problem,
    ledger_now,
    text_problem,
    time_problem,
)
from lichain.core.model import Event
from lichain.core.quantities import MG_PER_KG

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


def _walk(value: Any, ptr: str, key: str) -> Iterator[tuple[str, str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, f"{ptr}/{k}", k)
            if isinstance(k, str) and key in ("assay", "losses_kg"):
                yield f"{ptr}/{k}", "__element__", k
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, f"{ptr}/{i}", key)
    else:
        yield ptr, key, value


def _what(kind: str, ptr: str, key: str) -> str:
    if key == "id":
        if "/outputs/" in ptr:
            return "lot id"
        return _ID_OF.get(kind, f"{kind} id")
    if key == "kind":
        return "run kind" if kind == "run" else "site kind"
    return _WHAT.get(key, "text")


def field_problems(ev: Event, now: datetime | None = None,
                   body: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    """Every value of ``ev`` outside the ledger's bounds: (pointer suffix, reason).

    ``body`` is the event's :func:`~lichain.core.codec.body_to_json` form when the caller has it already.
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
    for ptr, key, value in _walk(body if body is not None else body_to_json(ev.body), "", ""):
        if key == "__element__":
            if value not in ELEMENT_SYMBOLS:
                out.append((ptr, f"{value!r} is not an element symbol (IUPAC periodic table)"))
            continue
        if not isinstance(value, str):
            continue
        what = _what(kind, ptr, key)
        p = text_problem(value, what, MAX_CHARS.get(what))
        if p:
            out.append((ptr, p))
            continue
        if what == "lot id":
            p = gs1_lot_problem(value)
            if p:
                out.append((ptr, p))
        if key.endswith(_TIMES):
            try:
                p = time_problem(parse_time(value), key.replace("_", " "), now)
            except ValueError:
                p = None
            if p:
                out.append((ptr, p))
        elif key in _MASSES or ptr.startswith("/losses_kg/"):
            try:
                mg = round(float(value) * 1e6)
            except ValueError:
                continue
            if mg > _MAX_MG:
                out.append((ptr, f"mass {value} kg exceeds the largest mass the ledger stores, {MAX_MASS_KG:,} kg "
                                  "(2^63 - 1 mg)"))
    return out
