"""GS1 EPCIS 2.0 JSON-LD into ledger events, read as the standard means it and never guessed at.

Why this exists: suppliers, recyclers and our own exports send EPCIS 2.0 documents; the ledger balances
kilograms of identified lots. In an event that claims lichain semantics, every fact that cannot enter a kg
balance without a guess is refused with a located problem (JSON pointer into the document) instead of being
dropped or approximated: a quantity without ``uom`` counts instances, a GTIN without lot is a product class,
serialised items carry no mass. An event that claims none (an observation, an aggregation, a sensor report …) is
kept verbatim, outside the lot graph (:mod:`lichain.io.epcis_verbatim` states the rule). The parser reports every
problem of a document in one pass; events are returned for the parts that parsed, but a caller writes nothing
while any problem is left (``lichain.services.ingest``).

Identifiers: an EPC URN and the GS1 Digital Link URI of the same lot are one lot. Lot and material ids pass
through :func:`lichain.io.epcis_hash.normalise_epc`, so the ledger stores the canonical Digital Link form
(``https://id.gs1.org/01/<GTIN-14>/10/<lot>``); other URIs are kept as written, and ids written by lichain
under ``https://lichain.dev/id/<kind>/`` are unwrapped to the local string they stand for. Site, run and
organisation ids are kept as written (site ids are free strings in the ledger).

JSON-LD: ``@context`` is never fetched. GS1's EPCIS context is recognised by URL (its terms are built into
this parser), lichain's own context (``src/lichain/data/epcis-context.jsonld``) by URL or inline, and any
inline prefix object is honoured for namespaced keys; other remote contexts are refused.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from lichain.core.codec import body_from_json, canonical_payload, content_event_id, parse_time
from lichain.core.errors import Problem
from lichain.core.model import (
    Activity,
    Consumption,
    Event,
    EventKind,
    Lot,
    Retraction,
    Run,
    Shipment,
)
from lichain.core.validate import LocatedEvent
from lichain.io.epcis_fields import LOT_KEYS, canonical, esc
from lichain.io.epcis_hash import event_hash
from lichain.io.epcis_verbatim import STANDARD_TYPES, VerbatimReader, claims_ledger
from lichain.io.epcis_vocab import GS1_CONTEXTS, LICHAIN_CONTEXT, LICHAIN_CONTEXT_URL, URI, from_uri
from lichain.io.epcis_write import (
    BATTERY_EVENT_TYPE,
    CELL_SPEC_EVENT_TYPE,
    CLAIM_EVENT_TYPE,
    KEY_EVENT_TYPE,
    MEASURE_EVENT_TYPE,
    PCF_EVENT_TYPE,
    POLICY_EVENT_TYPE,
    RISK_EVENT_TYPE,
)
from lichain.io.json_limits import JsonProblem, load_json
from lichain.io.process_epcis import is_quality_type, read_quality_event

__all__ = ["EVENT_LISTS", "EpcisReader", "read_epcis"]

#: JSON pointers of the event list in an EPCISDocument and in an EPCISQueryDocument.
EVENT_LISTS = ("/epcisBody/eventList", "/epcisBody/queryResults/resultsBody/eventList")

_UNSUPPORTED = ("AggregationEvent", "AssociationEvent", "TransactionEvent")
_RUN_KEYS = frozenset({"kind", "startedAt", "endedAt", "lossesKg", "activity", "allocation", "outputValues"})
_SHIP_KEYS = frozenset({"id", "mode", "distanceKm", "toOrganisation", "shippedAt"})


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return "a string" if isinstance(value, str) else type(value).__name__


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_PCF_KEYS = frozenset({"lot", "value", "unit", "supplier", "document", "boundary", "standard", "data_quality_rating",
                       "primary_data_share", "valid_from", "valid_until"})
#: Members of lichain:siteRisk (the canonical JSON form of :class:`lichain.core.model.SiteRisk`).
_KEY_KEYS = frozenset({"kid", "organisation", "x", "status", "at", "reason", "successor"})
_RISK_KEYS = frozenset({"id", "site", "kind", "status", "valid_from", "valid_to", "source", "category", "scheme",
                        "reference"})

#: lichain's due-diligence management record events: type → (member, kind, members, what it is).
_RECORDS = {
    POLICY_EVENT_TYPE: ("diligencePolicy", EventKind.DILIGENCE_POLICY, frozenset(
        {"id", "organisation", "title", "adopted", "reference", "public_url", "verification"}),
        "due-diligence policy"),
    MEASURE_EVENT_TYPE: ("riskMeasure", EventKind.RISK_MEASURE, frozenset(
        {"id", "site", "action", "owner", "status", "valid_from", "risk", "strategy", "due", "reference"}),
        "risk-mitigation measure"),
    KEY_EVENT_TYPE: ("signingKey", EventKind.SIGNING_KEY, _KEY_KEYS, "signing-key statement"),
}


class EpcisReader(VerbatimReader):
    """One pass over one document: located events and every problem found."""

    def __init__(self, source: str) -> None:
        super().__init__(source)
        self.events: list[LocatedEvent] = []
        self.context: Any = None
        self.ignore: list[str] = []

    # --- document ---------------------------------------------------------------------------------------------
    def read(self, data: str | bytes) -> None:
        if isinstance(data, bytes):
            enc = "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
            try:
                text = data.decode(enc)
            except UnicodeDecodeError as exc:
                self.problems.append(Problem(self.src, f"not {enc.upper()} text: undecodable byte at offset "
                                                       f"{exc.start}"))
                return
        else:
            text = data.removeprefix("\ufeff")
        try:
            doc = load_json(text)
        except JsonProblem as exc:
            self.problems.append(Problem(f"{self.src}:{exc.line}:{exc.column}", exc.message))
            return
        self.document(doc)

    def document(self, doc: Any) -> None:
        head = self.document_head(doc)
        if head is None:
            return
        base, events = head
        for i, ev in enumerate(events):
            self.event(ev, f"{base}/{i}")

    def document_head(self, doc: Any) -> tuple[str, list[Any]] | None:
        """Check everything but the events; return the event list's pointer and the list (None: unusable)."""
        if not isinstance(doc, dict):
            self.add("", "not an EPCIS document: expected a JSON object")
            return None
        dtype = doc.get("type")
        if dtype not in ("EPCISDocument", "EPCISQueryDocument"):
            self.add("/type", f"not an EPCIS 2.0 document: type is {dtype!r}, expected 'EPCISDocument' or "
                              "'EPCISQueryDocument'")
            return None
        self.read_context(doc)
        sv = doc.get("schemaVersion")
        if not isinstance(sv, str) or not re.fullmatch(r"2\.\d+(?:\.\d+)?", sv):
            self.add("/schemaVersion", f"schemaVersion must be an EPCIS 2.x version string such as '2.0', got {sv!r}")
        created = self.time(doc.get("creationDate"), "/creationDate", "creationDate")
        if created is not None:
            self.created = created
        self.ignore = [f for k, v in doc.items() if k.rpartition(":")[2] == "ignoreFields"
                       for f in (v if isinstance(v, list) else [v]) if isinstance(f, str)]  # fmt: skip
        if "epcisHeader" in doc:
            self.header(doc["epcisHeader"])
        body = doc.get("epcisBody")
        if not isinstance(body, dict):
            self.add("/epcisBody", "missing epcisBody object")
            return None
        base, events = EVENT_LISTS[0], body.get("eventList")
        if dtype == "EPCISQueryDocument":
            base = EVENT_LISTS[1]
            qr = body.get("queryResults")
            rb = qr.get("resultsBody") if isinstance(qr, dict) else None
            events = rb.get("eventList") if isinstance(rb, dict) else None
        if not isinstance(events, list):
            self.add(base, "missing event list (a JSON array)")
            return None
        return base, events

    def take(self) -> list[LocatedEvent]:
        """Master data (once) and the events read since the last call, in ledger order."""
        out = [*self.master, *self.events]
        self.master, self.events = [], []
        return out

    def read_context(self, doc: dict[str, Any]) -> None:
        ctx = doc.get("@context")
        if ctx is None:
            self.add("/@context", "missing @context: an EPCIS 2.0 JSON-LD document names GS1's EPCIS context")
            return
        self.context = ctx
        items = ctx if isinstance(ctx, list) else [ctx]
        gs1 = False
        for k, item in enumerate(items):
            p = f"/@context/{k}" if isinstance(ctx, list) else "/@context"
            if isinstance(item, str):
                if item in GS1_CONTEXTS:
                    gs1 = True
                elif item == LICHAIN_CONTEXT_URL:
                    self.bind(LICHAIN_CONTEXT)
                else:
                    self.add(p, f"unknown remote JSON-LD context {item!r}: contexts are never fetched; known are "
                                f"GS1's EPCIS 2.0 context and {LICHAIN_CONTEXT_URL}; declare other prefixes inline")
            elif isinstance(item, dict):
                self.bind(item)
            else:
                self.add(p, "a @context entry must be a URL or an object")
        if not gs1:
            self.add("/@context", "the @context does not name GS1's EPCIS 2.0 context "
                                  "(https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld)")

    # --- events -----------------------------------------------------------------------------------------------
    def event(self, ev: Any, ptr: str) -> None:
        try:
            self._event(ev, ptr)
        except UnicodeEncodeError as exc:  # a lone surrogate (JSON "\ud800") cannot be hashed or stored
            self.add(ptr, f"text holds a lone surrogate (U+{ord(exc.object[exc.start]):04X}): not valid Unicode")
        except (TypeError, AttributeError, KeyError, IndexError, ValueError, ArithmeticError) as exc:
            # a member of an unexpected JSON type that no specific check caught: a refusal at its event, never a crash
            self.add(ptr, f"malformed event: a member has an unexpected JSON type or value "
                          f"({type(exc).__name__}: {str(exc)[:120]})")

    def _event(self, ev: Any, ptr: str) -> None:
        if not isinstance(ev, dict):
            self.add(ptr, "an event must be a JSON object")
            return
        etype = ev.get("type")
        if not isinstance(etype, str):
            self.add(f"{ptr}/type", f"the event type must be a string, got {json_type(etype)}")
            return
        if etype == CLAIM_EVENT_TYPE:
            self.claim_event(ev, ptr)
            return
        if etype == PCF_EVENT_TYPE:
            self.pcf_event(ev, ptr)
            return
        if etype == RISK_EVENT_TYPE:
            self.risk_event(ev, ptr)
            return
        if etype in _RECORDS:
            member, kind, keys, what = _RECORDS[etype]
            self.extension_event(ev, ptr, etype, member, kind, keys, what)
            return
        if is_quality_type(etype):  # CoAs, specifications, deviations, SPC alarms, process batches
            got = read_quality_event(ev, ptr, self.add)
            if got is not None:
                self.events.append(LocatedEvent(f"{self.src}#{ptr}", got))
            return
        if etype in (CELL_SPEC_EVENT_TYPE, BATTERY_EVENT_TYPE):
            self.passport_event(ev, ptr, etype)
            return
        if etype not in STANDARD_TYPES:
            self.add(f"{ptr}/type", f"unknown event type {etype!r} (EPCIS 2.0: ObjectEvent, AggregationEvent, "
                                    "TransformationEvent, TransactionEvent, AssociationEvent)")
            return
        saved = self.prefixes, self.ours
        if isinstance(ev.get("@context"), dict | list):
            self.prefixes = dict(self.prefixes)
            for item in ev["@context"] if isinstance(ev["@context"], list) else [ev["@context"]]:
                if isinstance(item, dict):
                    self.bind(item)
        try:
            if not claims_ledger(ev, self.lichain_key):
                self.unclaimed(ev, etype, ptr)
            elif etype in _UNSUPPORTED:
                self.add(f"{ptr}/type", f"{etype} with lichain extensions is not supported by the ledger: it "
                                        "records lots (ObjectEvent ADD commissioning), runs (TransformationEvent) "
                                        "and shipments (ObjectEvent shipping); without them it is kept verbatim")
            else:
                self.event_body(ev, etype, ptr)
        finally:
            self.prefixes, self.ours = saved

    def extension_object(self, ev: dict[str, Any], ptr: str, name: str, keys: frozenset[str],
                         what: str) -> tuple[dict[str, Any], str]:
        """The event's ``lichain:<name>`` object (empty if absent) and its pointer; unknown keys are problems."""
        ext = self.ext(ev, ptr)
        self.unknown(ext, frozenset({name}), what)
        obj: dict[str, Any] = {}
        op = f"{ptr}/lichain:{name}"
        if name in ext:
            value, op = ext[name]
            if isinstance(value, dict):
                obj = value
                self.unknown({k: (v, f"{op}/{esc(k)}") for k, v in obj.items()}, keys, f"lichain:{name}")
            else:
                self.add(op, f"lichain:{name} must be an object")
        return obj, op

    def claim_event(self, ev: dict[str, Any], ptr: str) -> None:
        """lichain's own chain-of-custody claim (ISO 22095), carried inline so ledger order is kept."""
        body, eid, t = ev.get("lichain:claim"), ev.get("eventID"), ev.get("eventTime")
        if not isinstance(body, dict) or not isinstance(eid, str) or not isinstance(t, str):
            self.add(ptr, f"a {CLAIM_EVENT_TYPE} needs eventID, eventTime and a lichain:claim object")
            return
        try:
            claim = body_from_json(EventKind.CUSTODY_CLAIM, body)
            time = parse_time(t)
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            self.add(f"{ptr}/lichain:claim", f"malformed custody claim: {exc!r}")
            return
        self.events.append(LocatedEvent(f"{self.src}#{ptr}", Event(eid, EventKind.CUSTODY_CLAIM, time, claim)))

    def pcf_event(self, ev: dict[str, Any], ptr: str) -> None:
        """lichain's supplier PCF of a purchased lot, in its canonical JSON form (numbers as decimal strings)."""
        self.extension_event(ev, ptr, PCF_EVENT_TYPE, "supplierPcf", EventKind.SUPPLIER_PCF, _PCF_KEYS,
                             "supplier PCF")

    def risk_event(self, ev: dict[str, Any], ptr: str) -> None:
        """lichain's dated due-diligence statement about a site, in its canonical JSON form."""
        self.extension_event(ev, ptr, RISK_EVENT_TYPE, "siteRisk", EventKind.SITE_RISK, _RISK_KEYS,
                             "site risk statement")

    def passport_event(self, ev: dict[str, Any], ptr: str, etype: str) -> None:
        """A cell maker's cell data or a battery registration, in its canonical JSON form."""
        from lichain.core.passport import REGISTRATION_FIELDS, SPEC_FIELDS

        if etype == CELL_SPEC_EVENT_TYPE:
            self.extension_event(ev, ptr, etype, "cellSpec", EventKind.CELL_SPEC,
                                 frozenset(f.name for f in SPEC_FIELDS), "cell data")
        else:
            self.extension_event(ev, ptr, etype, "batteryRegistration", EventKind.BATTERY_REGISTRATION,
                                 frozenset(f.name for f in REGISTRATION_FIELDS), "battery registration")

    def extension_event(self, ev: dict[str, Any], ptr: str, etype: str, member: str, kind: EventKind,
                        keys: frozenset[str], what: str) -> None:
        """A lichain extension event carrying one canonical body as ``lichain:<member>`` (text values only)."""
        body, eid, t = ev.get(f"lichain:{member}"), ev.get("eventID"), ev.get("eventTime")
        if not isinstance(body, dict) or not isinstance(eid, str) or not isinstance(t, str):
            self.add(ptr, f"a {etype} needs eventID, eventTime and a lichain:{member} object")
            return
        op = f"{ptr}/lichain:{member}"
        unknown = sorted(set(body) - keys)
        if unknown:
            self.add(f"{op}/{esc(unknown[0])}", f"unknown field {unknown[0]!r} of lichain:{member} "
                                                f"(known: {', '.join(sorted(keys))})")
            return
        bad = [k for k, v in body.items() if v is not None and not isinstance(v, str)
               and not (k == "battery_ids" and isinstance(v, list) and all(isinstance(x, str) for x in v))]
        if bad:
            self.add(f"{op}/{esc(bad[0])}", f"{bad[0]} must be a string (numbers as decimal text, e.g. \"5.0\")")
            return
        try:
            parsed = body_from_json(kind, body)
            time = parse_time(t)
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            self.add(op, f"malformed {what}: {exc!r}")
            return
        self.events.append(LocatedEvent(f"{self.src}#{ptr}", Event(eid, kind, time, parsed)))

    def event_body(self, ev: dict[str, Any], etype: str, ptr: str) -> None:
        n = len(self.problems)
        time = self.event_head(ev, etype, ptr)
        step = self.cbv(ev["bizStep"], "bizStep", f"{ptr}/bizStep") if "bizStep" in ev else None
        if "errorDeclaration" in ev:
            self.retraction(ev, ptr, n)
            return
        if etype == "TransformationEvent":
            self.run(ev, ptr, time, n)
        elif step == "commissioning":
            self.commission(ev, ptr, time, n)
        elif step == "shipping":
            self.ship(ev, ptr, time, n)
        elif step == "receiving":
            self.unknown(self.ext(ev, ptr), frozenset(), "a receiving event")  # acknowledged; creates nothing
        elif "bizStep" not in ev:
            self.add(ptr, "an ObjectEvent without bizStep cannot be mapped (commissioning, shipping or receiving)")
        elif step is not None:
            self.add(f"{ptr}/bizStep", f"bizStep {ev['bizStep']!r} is not supported by the ledger: ObjectEvents "
                                       "map from commissioning (ADD), shipping (OBSERVE) and receiving")

    def event_id(self, ev: dict[str, Any]) -> str:
        eid = ev.get("eventID")
        return eid if isinstance(eid, str) else event_hash(ev, self.context, ignore_fields=self.ignore)

    def emit(self, ptr: str, n: int, kind: EventKind, ev: dict[str, Any], time: datetime | None,
             body: Lot | Run | Shipment | None) -> None:
        if len(self.problems) == n and body is not None and time is not None:
            self.events.append(LocatedEvent(f"{self.src}#{ptr}", Event(self.event_id(ev), kind, time, body)))

    def commission(self, ev: dict[str, Any], ptr: str, time: datetime | None, n: int) -> None:
        if ev.get("action") not in ("ADD", None):
            self.add(f"{ptr}/action", f"a commissioning event creates a lot: action must be ADD, got {ev['action']!r}")
        self.no_epcs(ev, "epcList", ptr)
        qs = self.quantities(ev, "quantityList", ptr)
        if not isinstance(ql := ev.get("quantityList"), list) or len(ql) != 1:
            self.add(f"{ptr}/quantityList", "a commissioning event must name exactly one lot with its mass "
                                            "(one quantity element)")
        self.unknown(self.ext(ev, ptr), frozenset(), "a commissioning event (lot data belongs in ilmd)")
        site = self.site_of(ev, ptr)
        ilmd = ev.get("ilmd", {})
        if not isinstance(ilmd, dict):
            self.add(f"{ptr}/ilmd", "ilmd must be an object")
            ilmd = {}
        md = self.ext(ilmd, f"{ptr}/ilmd")
        self.unknown(md, LOT_KEYS, "lot master data")
        lot = self.lot(qs[0][0], qs[0][1], md, site, time, f"{ptr}/ilmd") if len(qs) == 1 else None
        self.emit(ptr, n, EventKind.LOT, ev, time, lot)

    def run(self, ev: dict[str, Any], ptr: str, time: datetime | None, n: int) -> None:
        self.no_epcs(ev, "inputEPCList", ptr)
        self.no_epcs(ev, "outputEPCList", ptr)
        ins = self.quantities(ev, "inputQuantityList", ptr)
        outs = self.quantities(ev, "outputQuantityList", ptr)
        site = self.site_of(ev, ptr)
        r, rp = self.extension_object(ev, ptr, "run", _RUN_KEYS, "a TransformationEvent")
        ended = self.time(r["endedAt"], f"{rp}/endedAt", "endedAt") if "endedAt" in r else time
        started = self.time(r["startedAt"], f"{rp}/startedAt", "startedAt") if "startedAt" in r else ended
        kind = self.text(r.get("kind", "unspecified"), f"{rp}/kind", "kind", empty=False)
        allocation = self.text(r.get("allocation", "mass"), f"{rp}/allocation", "allocation", empty=False)
        losses: dict[str, int] = {}
        for e, v in self.obj(r, "lossesKg", rp).items():
            mg = self.kg(v, f"{rp}/lossesKg/{esc(e)}", f"loss of {e}")
            if mg is not None:
                losses[e] = mg
        values: dict[str, Decimal] = {}
        for lot, v in self.obj(r, "outputValues", rp).items():
            d = self.dec(v, f"{rp}/outputValues/{esc(lot)}", "output value")
            if d is not None:
                values[lot] = d
        activity = self.activity(r["activity"], f"{rp}/activity") if "activity" in r else Activity()
        tid = ev.get("transformationID")
        if tid is not None and not (isinstance(tid, str) and URI.match(tid)):
            self.add(f"{ptr}/transformationID", f"transformationID must be a URI, got {tid!r}")
        lots = self.output_master_data(ev, ptr)
        outputs: list[Lot] = []
        seen: set[str] = set()
        for lot_id, mg, qp in outs:
            if lot_id in seen:
                self.add(qp, f"output lot {lot_id} is listed twice")
            seen.add(lot_id)
            entry, lp = lots.pop(lot_id, ({}, f"{ptr}/ilmd"))
            md = {k: (v, f"{lp}/{esc(k)}") for k, v in entry.items()}
            self.unknown(md, LOT_KEYS | {"site"}, "output lot master data")
            o = self.lot(lot_id, mg, md, site, ended, lp)
            if o is not None:
                outputs.append(o)
        for lot_id, (_, lp) in lots.items():
            self.add(lp, f"master data for lot {lot_id}, which is not an output of this event")
        if (len(self.problems) > n or site is None or ended is None or started is None or kind is None
                or allocation is None or activity is None):  # fmt: skip
            return
        run_id = from_uri(tid, "run") if isinstance(tid, str) else self.event_id(ev)
        body = Run(run_id, site, kind, started, ended, tuple(Consumption(lot, mg) for lot, mg, _ in ins),
                   tuple(outputs), losses, activity, allocation, values)  # fmt: skip
        self.emit(ptr, n, EventKind.RUN, ev, time, body)

    def obj(self, r: dict[str, Any], name: str, ptr: str) -> dict[str, Any]:
        v = r.get(name, {})
        if not isinstance(v, dict):
            self.add(f"{ptr}/{name}", f"{name} must be an object")
            return {}
        return v

    def output_master_data(self, ev: dict[str, Any], ptr: str) -> dict[str, tuple[dict[str, Any], str]]:
        ilmd = ev.get("ilmd", {})
        if not isinstance(ilmd, dict):
            self.add(f"{ptr}/ilmd", "ilmd must be an object")
            return {}
        md = self.ext(ilmd, f"{ptr}/ilmd")
        self.unknown(md, frozenset({"lots"}), "a TransformationEvent's ilmd (per-lot data goes under lichain:lots)")
        if "lots" not in md:
            return {}
        lots, lp = md["lots"]
        if not isinstance(lots, dict):
            self.add(lp, "lichain:lots must be an object {lot id: master data}")
            return {}
        out: dict[str, tuple[dict[str, Any], str]] = {}
        for key, entry in lots.items():
            p = f"{lp}/{esc(key)}"
            if not isinstance(entry, dict):
                self.add(p, "lot master data must be an object")
                continue
            local = from_uri(key, "lot")
            out[local if local != key else canonical(key)] = (entry, p)
        return out

    def parties(self, ev: dict[str, Any], name: str, member: str, ptr: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for k, item in enumerate(self.items(ev, name, ptr)):
            p = f"{ptr}/{name}/{k}"
            kind = self.cbv(item.get("type"), "SDT", f"{p}/type")
            value = self.text(item.get(member), f"{p}/{member}", member, empty=False)
            if kind is None or value is None:
                continue
            if kind in out:
                self.add(p, f"two {kind} entries in {name}")
            out[kind] = value.strip()
        return out

    def ship(self, ev: dict[str, Any], ptr: str, time: datetime | None, n: int) -> None:
        if ev.get("action") not in ("OBSERVE", None):
            self.add(f"{ptr}/action", f"a shipping event moves an existing lot: action must be OBSERVE, "
                                      f"got {ev['action']!r}")
        self.no_epcs(ev, "epcList", ptr)
        qs = self.quantities(ev, "quantityList", ptr)
        if not isinstance(ql := ev.get("quantityList"), list) or len(ql) != 1:
            self.add(f"{ptr}/quantityList", "a shipping event must name exactly one lot with its mass "
                                            "(one quantity element per shipment)")
        src = self.parties(ev, "sourceList", "source", ptr)
        dst = self.parties(ev, "destinationList", "destination", ptr)
        origin = from_uri(src["location"], "site") if "location" in src else self.location(ev, "readPoint", ptr)
        if origin is None:
            self.add(ptr, "shipping event without origin: give a sourceList location or a readPoint")
        dest = from_uri(dst["location"], "site") if "location" in dst else None
        if dest is None:
            self.add(f"{ptr}/destinationList", "shipping event without a destination location "
                                               "(destinationList type location)")
        s, sp = self.extension_object(ev, ptr, "shipment", _SHIP_KEYS, "a shipping event")
        shipped = self.time(s["shippedAt"], f"{sp}/shippedAt", "shippedAt") if "shippedAt" in s else time
        mode = self.text(s.get("mode", Shipment.__dataclass_fields__["mode"].default), f"{sp}/mode", "mode")
        dist = self.dec(s.get("distanceKm", 0), f"{sp}/distanceKm", "distanceKm")
        org = s.get("toOrganisation")
        if org is not None:
            org = self.text(org, f"{sp}/toOrganisation", "toOrganisation")
        elif "owning_party" in dst:
            org = from_uri(dst["owning_party"], "org")
        sid = s.get("id")
        if sid is not None:
            sid = self.text(sid, f"{sp}/id", "id", empty=False)
        if (len(self.problems) > n or len(qs) != 1 or origin is None or dest is None or shipped is None
                or mode is None or dist is None):  # fmt: skip
            return
        body = Shipment(sid or self.event_id(ev), qs[0][0], qs[0][1], origin, dest, shipped, mode, dist, org)
        self.emit(ptr, n, EventKind.SHIPMENT, ev, time, body)

    def retraction(self, ev: dict[str, Any], ptr: str, n: int) -> None:
        p = f"{ptr}/errorDeclaration"
        decl = ev["errorDeclaration"]
        if not isinstance(decl, dict):
            self.add(p, "errorDeclaration must be an object")
            return
        declared = self.time(decl.get("declarationTime"), f"{p}/declarationTime", "declarationTime")
        reason = self.cbv(decl["reason"], "ER", f"{p}/reason") if "reason" in decl else None
        fixes = decl.get("correctiveEventIDs", [])
        if not isinstance(fixes, list) or not all(isinstance(x, str) and URI.match(x) for x in fixes):
            self.add(f"{p}/correctiveEventIDs", "correctiveEventIDs must be a list of event id URIs")
            fixes = []
        ext = self.ext(decl, p)
        self.unknown(ext, frozenset({"eventID", "eventTime", "reason"}), "an errorDeclaration")
        if "reason" in ext and reason is None and "reason" not in decl:
            reason = self.text(ext["reason"][0], ext["reason"][1], "reason")
        own_id = self.text(ext["eventID"][0], ext["eventID"][1], "eventID", empty=False) if "eventID" in ext else None
        t = self.time(ext["eventTime"][0], ext["eventTime"][1], "eventTime") if "eventTime" in ext else declared
        if len(self.problems) > n or declared is None or t is None:
            return
        body = Retraction(self.event_id(ev), declared, reason, tuple(fixes))
        eid = own_id or content_event_id(EventKind.RETRACTION, canonical_payload(body))
        self.events.append(LocatedEvent(f"{self.src}#{ptr}", Event(eid, EventKind.RETRACTION, t, body)))


def read_epcis(data: str | bytes, source: str) -> tuple[list[LocatedEvent], list[Problem]]:
    """Parse an EPCIS 2.0 JSON-LD document into ledger events, with every problem found in one pass.

    Parameters
    ----------
    data : str or bytes
        The document (bytes: UTF-8, with or without BOM, or UTF-16 with BOM).
    source : str
        Name used in locations, e.g. the file name: problems read ``<source>#/epcisBody/eventList/3/...``
        (a JSON pointer, RFC 6901) or ``<source>:<line>:<column>`` for invalid JSON.

    Returns
    -------
    events : list of LocatedEvent
        Master data (sites, materials, factor overrides) first, then lots, runs, shipments and retractions in
        document order; an event keeps its declared ``eventID``, one without gets the CBV 2.0 event hash.
        Only events without problems of their own are returned.
    problems : list of Problem
        Empty when the whole document can be taken; otherwise nothing of it should be written.
    """
    r = EpcisReader(source)
    r.read(data)
    return [*r.master, *r.events], r.problems
