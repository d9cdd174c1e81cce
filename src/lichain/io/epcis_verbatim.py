"""EPCIS events the lot graph does not model, captured verbatim: the rule that decides, their stored form and id.

Why this exists: an EPCIS repository captures every well-formed event and uses the ones it understands. The
ledger does the same: an event that does not claim lichain semantics (an observation, an aggregation, a sensor
report, a business step the lot graph has no meaning for) is kept exactly as received, in the hash chain and in
every export and query, and creates, moves or consumes no lot. An event that does claim lichain semantics is read
into the lot graph and refused with its location when it breaks a rule; it is never downgraded to verbatim.

The rule (``docs/ledger.md``, "Events kept verbatim"): an EPCIS event is **modelled** when

1. it has a member in lichain's namespace at its top level, in its ``ilmd`` or in its ``errorDeclaration``
   (any prefix bound to lichain's namespace, or an undeclared ``lichain:``) — :func:`claims_ledger`; or
2. it is a TransformationEvent, or an ObjectEvent with bizStep ``commissioning`` or ``shipping``
   (:func:`lot_graph_shape`), and it names a site (read point, business location, source or destination
   location), a lot or a lot's GTIN material (quantity ``epcClass``) that the ledger knows: on record, or declared
   or made earlier in the same document (:func:`names_of`; decided by :mod:`lichain.core.validate`).

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

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from lichain.core.codec import canonical_json, content_event_id
from lichain.core.errors import Problem
from lichain.core.model import Event, EventKind, VerbatimEvent
from lichain.core.validate import LocatedEvent
from lichain.io.epcis_fields import canonical, esc
from lichain.io.epcis_hash import event_hash, normalise_cbv
from lichain.io.epcis_master import MasterDataReader
from lichain.io.epcis_vocab import GS1_CONTEXTS, URI, from_uri

__all__ = ["STANDARD_TYPES", "VERBATIM_FIELDS", "VerbatimReader", "bizstep", "captured", "claims_ledger", "exported", "lot_graph_shape",
           "names_of", "verbatim_id", "verbatim_note"]  # fmt: skip

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
_TZ = re.compile(r"[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00)\Z", re.ASCII)
_CBV_STEP = "https://ref.gs1.org/cbv/BizStep-"
_MAPPED_STEPS = frozenset({_CBV_STEP + "commissioning", _CBV_STEP + "shipping"})
_WHAT = {"AggregationEvent": "aggregations", "AssociationEvent": "associations",
         "TransactionEvent": "business transactions"}
_DL_LOT_GTIN = re.compile(r"(https://id\.gs1\.org/01/\d{14})/10/")
_QTY_LISTS = {"ObjectEvent": ("quantityList",), "TransformationEvent": ("inputQuantityList", "outputQuantityList")}


def bizstep(value: Any) -> str | None:
    """A bizStep as its full CBV URI (or the private URI as written); None when absent or not a string."""
    return normalise_cbv(value, "bizStep") if isinstance(value, str) and value.strip() else None


def claims_ledger(ev: Mapping[str, Any], lichain_key: Callable[[str], bool]) -> bool:
    """Rule 1: the event has a member in lichain's namespace at its top level, in ``ilmd`` or ``errorDeclaration``.

    ``lichain_key`` tells whether a member name is in lichain's namespace under the prefixes in force.
    """
    if any(lichain_key(k) for k in ev):
        return True
    for member in ("ilmd", "errorDeclaration"):
        obj = ev.get(member)
        if isinstance(obj, Mapping) and any(lichain_key(k) for k in obj):
            return True
    return False


def lot_graph_shape(ev: Mapping[str, Any], etype: str) -> bool:
    """Rule 2's shape: a TransformationEvent, or an ObjectEvent with bizStep commissioning or shipping."""
    return etype == "TransformationEvent" or (
        etype == "ObjectEvent" and bizstep(ev.get("bizStep")) in _MAPPED_STEPS
    )


def _site(value: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(value, str) and value.strip():
        out.append(("site", from_uri(value.strip(), "site")))


def names_of(ev: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """What an event names that a ledger could know: sites (read point, business location, source/destination
    locations), lots and their GTIN material (quantity epcClasses), as the lot-graph reader would name them."""
    out: list[tuple[str, str]] = []
    for member in ("readPoint", "bizLocation"):
        loc = ev.get(member)
        if isinstance(loc, Mapping):
            _site(loc.get("id"), out)
    for name, member in (("sourceList", "source"), ("destinationList", "destination")):
        items = ev.get(name)
        for item in items if isinstance(items, list) else []:
            if isinstance(item, Mapping) and isinstance(t := item.get("type"), str) and t.endswith("location"):
                _site(item.get(member), out)
    for name in ("quantityList", "inputQuantityList", "outputQuantityList"):
        items = ev.get(name)
        for q in items if isinstance(items, list) else []:
            raw = q.get("epcClass") if isinstance(q, Mapping) else None
            if not isinstance(raw, str) or not raw.strip():
                continue
            local = from_uri(raw.strip(), "lot")
            lot = local if local != raw.strip() else canonical(raw.strip())
            out.append(("lot", lot))
            m = _DL_LOT_GTIN.match(lot)
            if m:
                out.append(("material", m[1]))
    return tuple(dict.fromkeys(out))


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
    return f"{etype}{sensor} names no site, lot or material of this ledger"


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


class VerbatimReader(MasterDataReader):
    """What the EPCIS event reader (:class:`lichain.io.epcis_read.EpcisReader`) does with events that claim no
    lichain semantics: the checks every EPCIS event gets, and the verbatim reading with its lot-graph alternative."""

    events: list[LocatedEvent]

    def event_body(self, ev: dict[str, Any], etype: str, ptr: str) -> None:
        """The lot-graph reading of an event (implemented by the event reader)."""
        raise NotImplementedError

    def lichain_key(self, key: str) -> bool:
        """True for a member name in lichain's namespace (or an undeclared ``lichain:``)."""
        return self.local(key) is not None or key.startswith("lichain:")

    def event_head(self, ev: dict[str, Any], etype: str, ptr: str) -> datetime | None:
        """Check what every EPCIS event has (members, times, id, action, vocabulary); return its eventTime."""
        fields = VERBATIM_FIELDS[etype]
        for key in ev:
            if key not in fields and not key.startswith("@") and ":" not in key:
                self.add(f"{ptr}/{esc(key)}", f"unknown field {key!r} for {etype} "
                                               "(extension fields must be namespaced, e.g. lichain:run)")
        time = self.time(ev.get("eventTime"), f"{ptr}/eventTime", "eventTime")
        tz = ev.get("eventTimeZoneOffset")
        if tz is None:
            self.add(f"{ptr}/eventTimeZoneOffset", "missing eventTimeZoneOffset")
        elif not isinstance(tz, str) or not _TZ.match(tz):
            self.add(f"{ptr}/eventTimeZoneOffset", f"eventTimeZoneOffset {tz!r} is not ±hh:mm within -14:00..+14:00")
        if "recordTime" in ev:
            self.time(ev["recordTime"], f"{ptr}/recordTime", "recordTime")
        event_id = ev.get("eventID")
        if event_id is not None and (not isinstance(event_id, str) or not URI.match(event_id)):
            self.add(f"{ptr}/eventID", f"eventID must be a URI, got {event_id!r}")
        action = ev.get("action")
        if etype != "TransformationEvent" and action not in ("ADD", "OBSERVE", "DELETE"):
            self.add(f"{ptr}/action", "missing action" if action is None else
                     f"action must be ADD, OBSERVE or DELETE, got {action!r}")
        if "disposition" in ev:
            self.cbv(ev["disposition"], "disposition", f"{ptr}/disposition")
        return time

    def unclaimed(self, ev: dict[str, Any], etype: str, ptr: str) -> None:
        """An event without lichain extensions: kept verbatim, unless shaped like a lot, run or shipment.

        Such an event is also read as a lot-graph event (or its problems are kept); the ledger rules use that
        reading when it names a site, lot or material the ledger knows (docs/ledger.md, "Events kept verbatim").
        """
        if not lot_graph_shape(ev, etype):
            self.verbatim(ev, etype, ptr)
            return
        n, m = len(self.problems), len(self.events)
        self.event_body(ev, etype, ptr)
        problems, self.problems = tuple(self.problems[n:]), self.problems[:n]
        modelled, self.events = self.events[m:], self.events[:m]
        if not self.verbatim(ev, etype, ptr, names_of(ev), modelled[0].event if modelled and not problems else None,
                             problems):
            del self.problems[n:]  # it cannot be kept verbatim: it is read as the lot-graph event it is shaped as
            self.problems += problems
            self.events += modelled

    def verbatim(self, ev: dict[str, Any], etype: str, ptr: str, names: tuple[tuple[str, str], ...] = (),
                 modelled: Event | None = None, modelled_problems: tuple[Problem, ...] = ()) -> bool:
        """An event the lot graph does not model: checked as EPCIS, then kept as received (docs/ledger.md)."""
        n = len(self.problems)
        time = self.event_head(ev, etype, ptr)
        if "bizStep" in ev:
            self.cbv(ev["bizStep"], "bizStep", f"{ptr}/bizStep")
        own = ev.get("@context")
        for k, item in enumerate(own if isinstance(own, list) else [] if own is None else [own]):
            if not isinstance(item, dict) and item not in GS1_CONTEXTS:
                self.add(f"{ptr}/@context" + (f"/{k}" if isinstance(own, list) else ""),
                         "an event's own @context may only declare prefixes inline (contexts are never fetched)")
        event, context, inexact = captured(ev, self.prefixes)
        for p in inexact[:1]:
            self.add(f"{ptr}{p}", "number has more significant digits than a JSON double carries: an event kept "
                                  "verbatim keeps its numbers exactly (send it as a string, or with fewer digits)")
        if len(self.problems) > n or time is None:
            return False
        body = VerbatimEvent(event, context, verbatim_note(ev, etype), names, modelled, modelled_problems)
        self.events.append(LocatedEvent(f"{self.src}#{ptr}", Event(verbatim_id(body), EventKind.EPCIS_VERBATIM,
                                                                   time, body)))
        return True
