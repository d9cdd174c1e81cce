"""EPCIS events the lot graph does not model, captured verbatim: the rule that decides, their stored form and id.

Why this exists: an EPCIS repository captures every well-formed event and uses the ones it understands. The
ledger does the same: an event that does not claim lichain semantics (an observation, an aggregation, a sensor
report, a business step the lot graph has no meaning for) is kept exactly as received, in the hash chain and in
every export and query, and creates, moves or consumes no lot. An event that does claim lichain semantics is read
into the lot graph and refused with its location when it breaks a rule; it is never downgraded to verbatim.

The rule (``docs/ledger.md``, "Events kept verbatim"), :func:`claims_ledger`: an EPCIS event is **modelled** when

1. it has a member in lichain's namespace at its top level, in its ``ilmd`` or in its ``errorDeclaration``
   (any prefix bound to ``https://lichain.dev/ns/epcis#``, or an undeclared ``lichain:``), or
2. it is a TransformationEvent, or an ObjectEvent with bizStep ``commissioning`` or ``shipping``, that speaks
   only of kilograms of lots: its quantity lists name at least one quantity, every quantity is in a mass unit
   (KGM, TNE, GRM, MGM, LBR), and it lists no serialised items (``epcList``, ``inputEPCList``,
   ``outputEPCList``); or one of its quantity lists is not a list of objects (refused where it is malformed).

Every other event of the five EPCIS 2.0 types is **kept verbatim**. lichain's own extension event types are
always modelled; any other type is refused.

Stored form: the event object without an ``@context`` of its own, plus the namespace prefixes its member names
and values use, resolved from the document's and the event's inline ``@context`` (so the event keeps its meaning
outside its document). Numbers are kept as JSON numbers; one with more digits than a JSON double carries is
refused rather than rounded. Id: the CBV 2.0 event hash (:func:`lichain.io.epcis_hash.event_hash`) of the stored
form, computed without the document's ``ignoreFields`` so that an exported and re-imported event keeps its id;
an error declaration, which the event hash leaves out, gets the content id of its payload (as retractions do).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from lichain.core.codec import canonical_json, content_event_id
from lichain.core.model import EventKind, VerbatimEvent
from lichain.io.epcis_hash import event_hash, normalise_cbv
from lichain.io.epcis_vocab import MASS_UOMS

__all__ = ["STANDARD_TYPES", "VERBATIM_FIELDS", "bizstep", "captured", "claims_ledger", "exported", "verbatim_id",
           "verbatim_note"]  # fmt: skip

#: The event types of EPCIS 2.0 (§7.4).
STANDARD_TYPES = frozenset({"ObjectEvent", "AggregationEvent", "TransformationEvent", "TransactionEvent",
                            "AssociationEvent"})  # fmt: skip
_COMMON = frozenset({
    "type", "eventTime", "eventTimeZoneOffset", "recordTime", "eventID", "certificationInfo", "errorDeclaration",
    "readPoint", "bizLocation", "bizStep", "disposition", "persistentDisposition", "bizTransactionList",
    "sourceList", "destinationList", "sensorElementList",
})  # fmt: skip
_PARENT = frozenset({"parentID", "childEPCs", "childQuantityList", "action"})
#: The members each EPCIS 2.0 event type may have besides namespaced extensions (§7.4.2–7.4.6).
VERBATIM_FIELDS = {
    "ObjectEvent": _COMMON | {"epcList", "quantityList", "action", "ilmd"},
    "AggregationEvent": _COMMON | _PARENT,
    "AssociationEvent": _COMMON | _PARENT,
    "TransactionEvent": _COMMON | {"parentID", "epcList", "quantityList", "action"},
    "TransformationEvent": _COMMON | {"inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList",
                                      "transformationID", "ilmd"},
}  # fmt: skip
_CBV_STEP = "https://ref.gs1.org/cbv/BizStep-"
_MAPPED_STEPS = frozenset({_CBV_STEP + "commissioning", _CBV_STEP + "shipping"})
_WHAT = {"AggregationEvent": "aggregations", "AssociationEvent": "associations",
         "TransactionEvent": "business transactions"}
_EPC_LISTS = ("epcList", "inputEPCList", "outputEPCList")
_QTY_LISTS = {"ObjectEvent": ("quantityList",), "TransformationEvent": ("inputQuantityList", "outputQuantityList")}


def bizstep(value: Any) -> str | None:
    """A bizStep as its full CBV URI (or the private URI as written); None when absent or not a string."""
    return normalise_cbv(value, "bizStep") if isinstance(value, str) and value.strip() else None


def claims_ledger(ev: Mapping[str, Any], etype: str, lichain_key: Callable[[str], bool]) -> bool:
    """True when an event claims lichain semantics (the rule in the module docstring): it is modelled.

    ``lichain_key`` tells whether a member name is in lichain's namespace under the prefixes in force.
    """
    if any(lichain_key(k) for k in ev):
        return True
    for member in ("ilmd", "errorDeclaration"):
        obj = ev.get(member)
        if isinstance(obj, Mapping) and any(lichain_key(k) for k in obj):
            return True
    lists = _QTY_LISTS.get(etype)
    if lists is None or (etype == "ObjectEvent" and bizstep(ev.get("bizStep")) not in _MAPPED_STEPS):
        return False
    mass = False
    for name in lists:
        q = ev.get(name)
        if q is None:
            continue
        if not isinstance(q, list) or not all(isinstance(el, Mapping) for el in q):
            return True  # malformed: the lot-graph reader refuses it at its place
        if any(el.get("uom") not in MASS_UOMS for el in q):
            return False  # counts or other units: not kilograms of lots
        mass = mass or bool(q)
    return mass and not any(ev.get(name) for name in _EPC_LISTS)


def verbatim_note(ev: Mapping[str, Any], etype: str) -> str:
    """Why an event that :func:`claims_ledger` does not claim stays out of the lot graph (for the ingest report)."""
    if "errorDeclaration" in ev:
        return "error declaration of an event the lot graph does not model"
    sensor = " (sensor report)" if ev.get("sensorElementList") else ""
    if etype not in _QTY_LISTS:
        return f"{etype}{sensor}: the lot graph records lots, runs and shipments, not {_WHAT.get(etype, etype)}"
    step = bizstep(ev.get("bizStep"))
    if etype == "ObjectEvent" and step not in _MAPPED_STEPS:
        name = "none" if step is None else step.removeprefix(_CBV_STEP)
        return (f"ObjectEvent{sensor} with bizStep {name}: in the lot graph only commissioning (a new lot) and "
                "shipping (a lot moves) carry kilograms")
    return (f"{etype}{sensor} does not speak only of kilograms of lots: serialised items (EPCs), counts and "
            "other units carry no kilograms")


def _prefixes(value: Any, out: set[str]) -> None:
    """Collect the prefixes of member names and of CURIE-like string values."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            p, sep, _ = k.partition(":")
            if sep:
                out.add(p)
            _prefixes(v, out)
    elif isinstance(value, list):
        for v in value:
            _prefixes(v, out)
    elif isinstance(value, str):
        p, sep, _ = value.partition(":")
        if sep:
            out.add(p)


def _plain(value: Any, ptr: str, bad: list[str]) -> Any:
    """JSON values with decimals as floats; the pointer of a number a double cannot carry exactly goes to ``bad``."""
    if isinstance(value, dict):
        return {k: _plain(v, f"{ptr}/{k.replace('~', '~0').replace('/', '~1')}", bad) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, f"{ptr}/{i}", bad) for i, v in enumerate(value)]
    if isinstance(value, Decimal):
        f = float(value)
        if Decimal(repr(f)) != value:
            bad.append(ptr)
        return f
    return value


def captured(ev: Mapping[str, Any], prefixes: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """The stored form of an event: (event without its own ``@context``, the prefixes it uses, inexact numbers).

    ``prefixes`` are the inline prefix bindings in force for the event (document and event ``@context``).
    """
    bad: list[str] = []
    event = _plain({k: v for k, v in ev.items() if k != "@context"}, "", bad)
    used: set[str] = set()
    _prefixes(event, used)
    return event, {p: prefixes[p] for p in sorted(used) if p in prefixes}, bad


def verbatim_id(body: VerbatimEvent) -> str:
    """The event's ledger id: its CBV 2.0 event hash, or for an error declaration the content id of its payload."""
    if "errorDeclaration" in body.event:
        return content_event_id(EventKind.EPCIS_VERBATIM,
                                canonical_json({"context": body.context, "event": body.event}))
    return event_hash(body.event, [body.context] if body.context else None)


def exported(body: VerbatimEvent) -> dict[str, Any]:
    """The event as received, with the prefixes it uses as its own ``@context`` when it uses any."""
    return {"@context": dict(body.context), **body.event} if body.context else dict(body.event)
