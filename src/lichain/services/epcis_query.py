"""Use case: the EPCIS 2.0 event query over the ledger (the common subset of the standard's query parameters).

Why this exists: an ordinary EPCIS client asks a repository for events with the standard's query parameters
(EPCIS 2.0 §8.2.7.1, REST binding ``GET /events``). The ledger answers from its record: every recorded EPCIS
event (lots, runs, shipments, retractions, lichain's extension events, and the events kept verbatim) in ledger
order, written by the same writer as ``lichain export epcis``, so a queried event is the exported event.

Supported parameters: ``eventType``, ``GE_eventTime``, ``LT_eventTime``, ``MATCH_epc``, ``MATCH_epcClass``,
``MATCH_anyEPCClass``, ``EQ_bizStep``, ``EQ_action``, ``perPage`` and ``nextPageToken``; list values are
``|``-separated (the REST binding's pipe-delimited style). Matching (§8.2.7.1.1): an EPC or class matches when it
names the same identifier (URN and Digital Link forms are one, :func:`lichain.io.epcis_hash.normalise_epc`); a
pattern (``urn:epc:idpat:…:*`` or a GTIN's Digital Link without lot or serial) matches every lot and item of that
GTIN. Pages follow the ledger sequence, so a page token stays valid while the ledger grows: it carries the last
sequence number served and a digest of the query it belongs to.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lichain.core.codec import BODY_KINDS, event_from_payload, format_time, parse_time
from lichain.core.errors import ChoiceError
from lichain.core.model import Event, EventKind
from lichain.io.epcis_hash import normalise_cbv, normalise_epc
from lichain.io.epcis_vocab import GS1_EPCIS_CONTEXT, LICHAIN_CONTEXT
from lichain.io.epcis_write import (
    CLAIM_EVENT_TYPE,
    EXTENSION_EVENTS,
    PCF_EVENT_TYPE,
    RISK_EVENT_TYPE,
    event_json,
)
from lichain.io.process_epcis import EVENT_TYPES as QUALITY_EVENT_TYPES
from lichain.storage.epcis_sql import events_after
from lichain.storage.sql import SqlStore

__all__ = ["DEFAULT_PER_PAGE", "MAX_PER_PAGE", "PARAMETERS", "EventPage", "EventQuery", "query_events"]

#: Events per page when ``perPage`` is not given, and the most a page holds.
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 1_000
#: The query parameters understood (EPCIS 2.0 REST binding names).
PARAMETERS = ("eventType", "GE_eventTime", "LT_eventTime", "MATCH_epc", "MATCH_epcClass", "MATCH_anyEPCClass",
              "EQ_bizStep", "EQ_action", "perPage", "nextPageToken")  # fmt: skip

_VERBATIM = EventKind.EPCIS_VERBATIM.value
_KINDS_OF_TYPE = {
    "ObjectEvent": (EventKind.LOT.value, EventKind.SHIPMENT.value, EventKind.RETRACTION.value, _VERBATIM),
    "TransformationEvent": (EventKind.RUN.value, EventKind.RETRACTION.value, _VERBATIM),
    "AggregationEvent": (_VERBATIM,),
    "AssociationEvent": (_VERBATIM,),
    "TransactionEvent": (_VERBATIM,),
    CLAIM_EVENT_TYPE: (EventKind.CUSTODY_CLAIM.value,),
    PCF_EVENT_TYPE: (EventKind.SUPPLIER_PCF.value,),
    RISK_EVENT_TYPE: (EventKind.SITE_RISK.value,),
    # lichain's other extension events (due diligence, keys, passports; quality and process data)
    **{etype: (BODY_KINDS[cls].value,) for cls, (etype, _member) in EXTENSION_EVENTS.items()
       if etype not in (PCF_EVENT_TYPE, RISK_EVENT_TYPE)},
    **{etype: (kind,) for kind, (etype, _member) in QUALITY_EVENT_TYPES.items()},
}
_ALL_KINDS = tuple(sorted({k for kinds in _KINDS_OF_TYPE.values() for k in kinds}))
_ACTIONS = ("ADD", "OBSERVE", "DELETE")
_DL_GTIN = re.compile(r"https://id\.gs1\.org/01/\d{14}\Z")
_EPC_MEMBERS = ("epcList", "childEPCs")
_CLASS_MEMBERS = ("quantityList", "childQuantityList")
_ANY_CLASS_MEMBERS = (*_CLASS_MEMBERS, "inputQuantityList", "outputQuantityList")
_BATCH = 2_000


@dataclass(frozen=True, slots=True)
class EventQuery:
    """An EPCIS event query: every given condition must hold (lists: any of their values)."""

    event_types: tuple[str, ...] = ()
    ge_event_time: datetime | None = None
    lt_event_time: datetime | None = None
    match_epc: tuple[str, ...] = ()
    match_epc_class: tuple[str, ...] = ()
    match_any_epc_class: tuple[str, ...] = ()
    eq_biz_step: tuple[str, ...] = ()
    eq_action: tuple[str, ...] = ()
    per_page: int = DEFAULT_PER_PAGE
    next_page_token: str | None = None

    @staticmethod
    def from_params(params: Mapping[str, str | Sequence[str]]) -> EventQuery:
        """A query from the REST binding's parameters (values as given in a URL; lists ``|``-separated).

        Raises
        ------
        ChoiceError
            An unknown parameter or a value the standard does not allow, named with the parameter.
        """
        unknown = sorted(set(params) - set(PARAMETERS))
        if unknown:
            raise ChoiceError(f"unknown query parameter {unknown[0]!r} (supported: {', '.join(PARAMETERS)})")
        lists = {k: _values(v) for k, v in params.items()}
        types = lists.get("eventType", [])
        bad = [t for t in types if t not in _KINDS_OF_TYPE]
        if bad:
            raise ChoiceError(f"eventType {bad[0]!r} is not an EPCIS event type here (known: "
                              f"{', '.join(_KINDS_OF_TYPE)})")
        actions = lists.get("EQ_action", [])
        if any(a not in _ACTIONS for a in actions):
            raise ChoiceError(f"EQ_action must be ADD, OBSERVE or DELETE, got {'|'.join(actions)!r}")
        per_page = DEFAULT_PER_PAGE
        if "perPage" in lists:
            text = "".join(lists["perPage"])
            if not text.isdigit() or not 1 <= int(text) <= MAX_PER_PAGE:
                raise ChoiceError(f"perPage must be a whole number from 1 to {MAX_PER_PAGE:,}, got {text!r}")
            per_page = int(text)
        token = "".join(lists["nextPageToken"]) if "nextPageToken" in lists else None
        return EventQuery(tuple(types), _time(lists, "GE_eventTime"), _time(lists, "LT_eventTime"),
                          tuple(lists.get("MATCH_epc", [])), tuple(lists.get("MATCH_epcClass", [])),
                          tuple(lists.get("MATCH_anyEPCClass", [])), tuple(lists.get("EQ_bizStep", [])),
                          tuple(actions), per_page, token)  # fmt: skip

    def digest(self) -> str:
        """What identifies the query's result set (everything but the page size and token)."""
        key = [self.event_types, _iso(self.ge_event_time), _iso(self.lt_event_time), self.match_epc,
               self.match_epc_class, self.match_any_epc_class, self.eq_biz_step, self.eq_action]  # fmt: skip
        return hashlib.sha256(json.dumps(key).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class EventPage:
    """One page of an event query: EPCIS 2.0 event objects in ledger order, and the token of the next page.

    ``next_page_token`` is None on the last page. ``events`` are the objects ``lichain export epcis`` writes
    (events kept verbatim exactly as received); their namespaces are those of :meth:`document`'s context.
    """

    events: tuple[dict[str, Any], ...]
    next_page_token: str | None
    per_page: int

    def document(self, created: datetime) -> dict[str, Any]:
        """The page as an ``EPCISQueryDocument`` (EPCIS 2.0 §8.2.7.4, REST binding ``GET /events``)."""
        return {"@context": [GS1_EPCIS_CONTEXT, json.loads(json.dumps(LICHAIN_CONTEXT))],
                "type": "EPCISQueryDocument", "schemaVersion": "2.0", "creationDate": format_time(created),
                "epcisBody": {"queryResults": {"queryName": "SimpleEventQuery",
                                               "resultsBody": {"eventList": list(self.events)}}}}  # fmt: skip


def _values(value: str | Sequence[str]) -> list[str]:
    items = [value] if isinstance(value, str) else list(value)
    return [v.strip() for item in items for v in item.split("|") if v.strip()]


def _time(lists: Mapping[str, list[str]], name: str) -> datetime | None:
    if name not in lists:
        return None
    text = "".join(lists[name])
    try:
        return parse_time(text)
    except ValueError:
        raise ChoiceError(f"{name} must be an ISO 8601 date-time with a UTC offset, got {text!r}") from None


def _iso(t: datetime | None) -> str | None:
    return None if t is None else format_time(t)


def _token(after: int, digest: str) -> str:
    raw = json.dumps({"after": after, "q": digest}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(token: str | None, digest: str) -> int:
    if token is None:
        return 0
    try:
        d = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        after, q = d["after"], d["q"]
    except (ValueError, TypeError, KeyError):
        raise ChoiceError("nextPageToken is not a token this ledger issued") from None
    if q != digest or not isinstance(after, int) or after < 0:
        raise ChoiceError("nextPageToken belongs to another query (ask again without it)")
    return after


def _epc(value: Any) -> str:
    return normalise_epc(value.strip()) if isinstance(value, str) else ""


def _matches(candidates: list[str], wanted: Sequence[str]) -> bool:
    for w in wanted:
        pattern = _DL_GTIN.match(w) is not None
        if any(c == w or (pattern and c.startswith(w + "/")) for c in candidates):
            return True
    return False


def _classes(ev: Mapping[str, Any], members: Sequence[str]) -> list[str] | None:
    lists = [ev[m] for m in members if isinstance(ev.get(m), list)]
    if not lists:
        return None
    return [_epc(q.get("epcClass")) for items in lists for q in items if isinstance(q, Mapping)]


class _Filter:
    """The query's conditions with its identifiers normalised once."""

    def __init__(self, q: EventQuery) -> None:
        self.q = q
        self.types = set(q.event_types)
        self.epcs = [_epc(v) for v in q.match_epc]
        self.classes = [_epc(v) for v in q.match_epc_class]
        self.any_classes = [_epc(v) for v in q.match_any_epc_class]
        self.steps = {normalise_cbv(v, "bizStep") for v in q.eq_biz_step}

    def time_ok(self, ev: Event) -> bool:
        return ((self.q.ge_event_time is None or ev.time >= self.q.ge_event_time)
                and (self.q.lt_event_time is None or ev.time < self.q.lt_event_time))  # fmt: skip

    def json_ok(self, d: Mapping[str, Any]) -> bool:
        q = self.q
        if self.types and d.get("type") not in self.types:
            return False
        if q.eq_action and d.get("action") not in q.eq_action:
            return False
        if self.steps:
            step = d.get("bizStep")
            if not isinstance(step, str) or normalise_cbv(step, "bizStep") not in self.steps:
                return False
        if self.epcs:
            members = [d[m] for m in _EPC_MEMBERS if isinstance(d.get(m), list)]
            if not members or not _matches([_epc(e) for m in members for e in m], self.epcs):
                return False
        for wanted, names in ((self.classes, _CLASS_MEMBERS), (self.any_classes, _ANY_CLASS_MEMBERS)):
            if wanted:
                found = _classes(d, names)
                if found is None or not _matches(found, wanted):
                    return False
        return True


def _recorded(store: SqlStore, after: int, q: EventQuery) -> Iterator[tuple[int, Event]]:
    kinds = sorted({k for t in q.event_types for k in _KINDS_OF_TYPE[t]}) if q.event_types else list(_ALL_KINDS)
    while True:
        rows = events_after(store, after, kinds, since=q.ge_event_time, before=q.lt_event_time, limit=_BATCH)
        for r in rows:
            yield r.seq, event_from_payload(r.event_id, r.kind, r.time, r.payload)
        if len(rows) < _BATCH:
            return
        after = rows[-1].seq


def query_events(store: SqlStore, params: EventQuery | Mapping[str, str | Sequence[str]]) -> EventPage:
    """One page of the recorded EPCIS events that match a query, in ledger order.

    Parameters
    ----------
    store : SqlStore
        The ledger.
    params : EventQuery or mapping
        The query, or the REST binding's query parameters (see :meth:`EventQuery.from_params`).

    Returns
    -------
    EventPage
        At most ``perPage`` events as the EPCIS export writes them, and the token of the next page (None when
        this page is the last).

    Raises
    ------
    ChoiceError
        An unknown parameter, a value the standard does not allow, or a page token of another query.
    """
    q = params if isinstance(params, EventQuery) else EventQuery.from_params(params)
    digest = q.digest()
    after = _after(q.next_page_token, digest)
    f = _Filter(q)

    def resolve(event_id: str) -> Event | None:
        e = store.stored_event(event_id)
        return None if e is None else event_from_payload(e.event_id, e.kind, e.time, e.payload)

    out: list[dict[str, Any]] = []
    last = after
    for seq, ev in _recorded(store, after, q):
        if not f.time_ok(ev):
            continue
        d = event_json(ev, resolve)
        if d is None or not f.json_ok(d):
            continue
        if len(out) == q.per_page:  # one more match exists: this page is full and not the last
            return EventPage(tuple(out), _token(last, digest), q.per_page)
        out.append(d)
        last = seq
    return EventPage(tuple(out), None, q.per_page)
