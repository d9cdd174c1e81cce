"""The ledger written out as GS1 EPCIS 2.0 JSON-LD, and the CBV 2.0 event hash of generated events.

Why this exists: customers, suppliers and auditors exchange supply-chain facts as EPCIS 2.0 documents, and
events that lichain generates itself (demo chain, spreadsheets) need the identity a partner would compute for
them: the CBV 2.0 event hash of their EPCIS rendering. One renderer serves both, so the id a ledger event gets
is exactly the hash of the event as exported. The mapping (documented in ``docs/epcis.md``):

* lot commissioning → ``ObjectEvent`` ADD, bizStep ``commissioning``, lot master data in ``ilmd``;
* run → ``TransformationEvent`` (bizStep ``commissioning``: CBV 2.0 has no "transforming"), output-lot master
  data in ``ilmd`` under ``lichain:lots``, run data in the ``lichain:run`` extension;
* shipment → ``ObjectEvent`` OBSERVE, bizStep ``shipping``, source/destination lists, ``lichain:shipment``;
* retraction → the retracted event re-stated with an ``errorDeclaration`` (EPCIS 2.0 §7.4.1);
* sites, materials, factor overrides → ``epcisHeader.epcisMasterData`` vocabularies.

Masses are exact: integer mg are written as kg (``KGM``) numbers that survive a float round trip, or as
integer ``MGM`` when a kg float could not carry every digit (≥ 10⁹ kg with a sub-kg part).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TextIO

from lichain.core.codec import body_to_json, canonical_payload, content_event_id, format_time
from lichain.core.errors import NotFoundError
from lichain.core.model import (
    Activity,
    BatteryRegistration,
    CellSpec,
    CustodyClaim,
    DiligencePolicy,
    Event,
    EventKind,
    FactorOverride,
    KeyStatement,
    Lot,
    Material,
    Retraction,
    RiskMeasure,
    Run,
    Shipment,
    Site,
    SiteRisk,
    SupplierPcf,
    VerbatimEvent,
)
from lichain.io.epcis_hash import event_hash
from lichain.io.epcis_master import factor_element, material_element, site_element
from lichain.io.epcis_verbatim import exported
from lichain.io.epcis_vocab import (
    EPCIS_CONTEXT,
    ERROR_REASONS,
    GS1_EPCIS_CONTEXT,
    LICHAIN_CONTEXT,
    SDT_LOCATION,
    SDT_OWNING_PARTY,
    URI,
    VTYPE_CLASS,
    VTYPE_FACTOR,
    VTYPE_LOCATION,
    decimal_text,
    fraction_text,
    kg_text,
    to_uri,
)

__all__ = ["assign_event_id", "event_json", "render_event", "write_epcis", "write_epcis_stream"]

_EXACT_FLOAT_MG = 10**15  # below this, mg / 10⁶ has ≤ 15 significant digits and a float repr keeps them all
_EPCIS_KINDS = (EventKind.LOT, EventKind.RUN, EventKind.SHIPMENT)
_time = lru_cache(maxsize=1 << 12)(format_time)  # a run's end is its eventTime, endedAt and outputs' producedAt


def _quantity(lot_id: str, mg: int) -> dict[str, Any]:
    """A quantity element whose JSON number converts back to exactly ``mg`` milligrams."""
    uri = to_uri(lot_id, "lot")
    if mg % 1_000_000 == 0:
        return {"epcClass": uri, "quantity": mg // 1_000_000, "uom": "KGM"}
    if abs(mg) < _EXACT_FLOAT_MG:
        return {"epcClass": uri, "quantity": mg / 1_000_000, "uom": "KGM"}
    return {"epcClass": uri, "quantity": mg, "uom": "MGM"}


def _activity(a: Activity) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if a.electricity:
        els = []
        for e in a.electricity:
            el: dict[str, Any] = {"kwh": decimal_text(e.kwh), "source": e.source}
            if e.instrument is not None:
                el["instrument"] = e.instrument
            if e.factor_key is not None:
                el["factorKey"] = e.factor_key
            els.append(el)
        out["electricity"] = els
    if a.fuels:
        out["fuels"] = [{"kind": f.kind, "mj": decimal_text(f.mj)} for f in a.fuels]
    if a.reagents:
        out["reagents"] = [
            {"name": r.name, "kg": decimal_text(r.kg)}
            | ({"factorKey": r.factor_key} if r.factor_key is not None else {})
            for r in a.reagents
        ]
    if a.water_m3 is not None:
        out["waterM3"] = decimal_text(a.water_m3)
    if a.process_kg_co2e is not None:
        out["processKgCo2e"] = decimal_text(a.process_kg_co2e)
    if a.readings:
        out["readings"] = dict(a.readings)
    return out


def _lot_data(lot: Lot) -> dict[str, Any]:
    """Lot master data, plain keys (prefixed with ``lichain:`` at the top of an ILMD)."""
    d: dict[str, Any] = {
        "material": lot.material,
        "massKg": kg_text(lot.mass_mg),
        "producedAt": _time(lot.produced_at),
        "origin": lot.origin,
        "assay": {e: fraction_text(v) for e, v in lot.assay.items()},
    }
    if lot.quality:
        d["quality"] = dict(lot.quality)
    if lot.assay_method is not None:
        d["assayMethod"] = lot.assay_method
    if lot.assay_lab is not None:
        d["assayLab"] = lot.assay_lab
    if lot.activity is not None:
        d["activity"] = _activity(lot.activity)
    return d


def _head(event_type: str, ev: Event) -> dict[str, Any]:
    d: dict[str, Any] = {
        "type": event_type,
        "eventTime": _time(ev.time),
        "eventTimeZoneOffset": "+00:00",
    }
    if ev.event_id:
        d["eventID"] = ev.event_id
    return d


def _lot_event(ev: Event, lot: Lot) -> dict[str, Any]:
    d = _head("ObjectEvent", ev)
    site = to_uri(lot.site, "site")
    d["quantityList"] = [_quantity(lot.id, lot.mass_mg)]
    d["action"] = "ADD"
    d["bizStep"] = "commissioning"
    d["readPoint"] = {"id": site}
    d["bizLocation"] = {"id": site}
    d["ilmd"] = {"lichain:" + k: v for k, v in _lot_data(lot).items()}
    return d


def _run_event(ev: Event, run: Run) -> dict[str, Any]:
    d = _head("TransformationEvent", ev)
    site = to_uri(run.site, "site")
    d["inputQuantityList"] = [_quantity(c.lot, c.mass_mg) for c in run.inputs]
    d["outputQuantityList"] = [_quantity(o.id, o.mass_mg) for o in run.outputs]
    d["transformationID"] = to_uri(run.id, "run")
    d["bizStep"] = "commissioning"
    d["readPoint"] = {"id": site}
    d["bizLocation"] = {"id": site}
    lots: dict[str, Any] = {}
    for o in run.outputs:
        data = _lot_data(o)
        if o.site != run.site:
            data["site"] = o.site
        lots[o.id] = data
    d["ilmd"] = {"lichain:lots": lots}
    ext: dict[str, Any] = {
        "kind": run.kind,
        "startedAt": _time(run.started_at),
        "endedAt": _time(run.ended_at),
        "allocation": run.allocation,
    }
    if run.losses_mg:
        ext["lossesKg"] = {e: kg_text(v) for e, v in run.losses_mg.items()}
    if not run.activity.is_empty():
        ext["activity"] = _activity(run.activity)
    if run.output_values:
        ext["outputValues"] = {k: decimal_text(v) for k, v in run.output_values.items()}
    d["lichain:run"] = ext
    return d


def _shipment_event(ev: Event, s: Shipment) -> dict[str, Any]:
    d = _head("ObjectEvent", ev)
    origin = to_uri(s.from_site, "site")
    d["quantityList"] = [_quantity(s.lot, s.mass_mg)]
    d["action"] = "OBSERVE"
    d["bizStep"] = "shipping"
    d["readPoint"] = {"id": origin}
    d["sourceList"] = [{"type": SDT_LOCATION, "source": origin}]
    dest: list[dict[str, str]] = [{"type": SDT_LOCATION, "destination": to_uri(s.to_site, "site")}]
    ext: dict[str, Any] = {"id": s.id, "mode": s.mode, "distanceKm": decimal_text(s.distance_km),
                           "shippedAt": _time(s.shipped_at)}  # fmt: skip
    if s.to_organisation is not None:
        dest.append({"type": SDT_OWNING_PARTY, "destination": to_uri(s.to_organisation, "org")})
        ext["toOrganisation"] = s.to_organisation
    d["destinationList"] = dest
    d["lichain:shipment"] = ext
    return d


def render_event(event: Event, target: Event | None = None) -> dict[str, Any]:
    """The EPCIS 2.0 JSON-LD event of a lot, run, shipment or retraction (with its ``eventID`` if it has one).

    Parameters
    ----------
    event : Event
        A ``lot``, ``run``, ``shipment`` or ``retraction`` event.
    target : Event, optional
        For a retraction: the retracted event, which the error declaration re-states (EPCIS 2.0 §7.4.1).

    Returns
    -------
    dict
        One ``ObjectEvent`` or ``TransformationEvent`` as plain JSON values.

    Raises
    ------
    ValueError
        If the event kind has no EPCIS event (master data: see :func:`write_epcis`) or a retraction's target
        is missing or is not a lot, run or shipment.
    """
    body = event.body
    if isinstance(body, Lot):
        return _lot_event(event, body)
    if isinstance(body, Run):
        return _run_event(event, body)
    if isinstance(body, Shipment):
        return _shipment_event(event, body)
    if isinstance(body, Retraction):
        if target is None or target.kind not in _EPCIS_KINDS or target.event_id != body.target_event_id:
            raise ValueError(
                f"retraction {event.event_id}: its target {body.target_event_id} must be given as a "
                "lot, run or shipment event"
            )
        d = render_event(target)
        decl: dict[str, Any] = {"declarationTime": _time(body.declared_at)}
        if body.reason is not None:
            if body.reason in ERROR_REASONS or URI.match(body.reason):
                decl["reason"] = body.reason
            else:
                decl["lichain:reason"] = body.reason
        if body.corrective_event_ids:
            decl["correctiveEventIDs"] = list(body.corrective_event_ids)
        decl["lichain:eventID"] = event.event_id or assign_event_id(event)
        if event.time != body.declared_at:
            decl["lichain:eventTime"] = _time(event.time)
        d["errorDeclaration"] = decl
        return d
    raise ValueError(f"a {event.kind.value} event is master data, not an EPCIS event")


def assign_event_id(event: Event) -> str:
    """The id an event without one gets: the CBV 2.0 event hash of its EPCIS rendering.

    Parameters
    ----------
    event : Event
        Usually with ``event_id == ""`` (demo generator, spreadsheets); an existing id is ignored.

    Returns
    -------
    str
        ``ni:///sha-256;…?ver=CBV2.0`` for lots, runs and shipments (GS1 CBV 2.0 §8.9, computed with
        :func:`lichain.io.epcis_hash.event_hash` under :data:`EPCIS_CONTEXT`); a content ``urn:uuid:``
        (:func:`lichain.core.codec.content_event_id`) for master data and retractions, which have no EPCIS
        event of their own.
    """
    if event.kind in _EPCIS_KINDS:
        d = render_event(event)
        d.pop("eventID", None)
        return event_hash(d, EPCIS_CONTEXT)
    return content_event_id(event.kind, canonical_payload(event.body))


class _Writer:
    """Renders a stream of ledger events; collects master data for the header."""

    def __init__(self, resolve: Callable[[str], Event | None] | None) -> None:
        self.resolve = resolve
        self.seen: dict[str, Event] = {}
        self.sites: list[dict[str, Any]] = []
        self.materials: list[dict[str, Any]] = []
        self.factors: list[dict[str, Any]] = []
        self.count = 0

    def master(self, body: Site | Material, event_id: str = "", time: datetime | None = None) -> None:
        event_id = event_id or content_event_id(
            EventKind.SITE if isinstance(body, Site) else EventKind.MATERIAL, canonical_payload(body)
        )
        if isinstance(body, Site):
            self.sites.append(site_element(body, event_id, time))
        else:
            self.materials.append(material_element(body, event_id, time))
        self.count += 1

    def event(self, ev: Event) -> dict[str, Any] | None:
        body = ev.body
        if isinstance(body, Site | Material):
            self.master(body, ev.event_id, ev.time)
            return None
        if isinstance(body, FactorOverride):
            eid = ev.event_id or assign_event_id(ev)
            self.factors.append(factor_element(body, eid, ev.time))
            self.count += 1
            return None
        if isinstance(body, VerbatimEvent):  # an EPCIS event the lot graph does not model: as received
            self.count += 1
            return exported(body)
        if isinstance(body, CustodyClaim):
            self.count += 1
            return {"type": CLAIM_EVENT_TYPE, "eventTime": _time(ev.time), "eventTimeZoneOffset": "+00:00",
                    "eventID": ev.event_id or assign_event_id(ev), "lichain:claim": body_to_json(body)}
        if type(body) in EXTENSION_EVENTS:
            self.count += 1
            etype, member = EXTENSION_EVENTS[type(body)]
            return {"type": etype, "eventTime": _time(ev.time), "eventTimeZoneOffset": "+00:00",
                    "eventID": ev.event_id or assign_event_id(ev), f"lichain:{member}": body_to_json(body)}
        from lichain.io.process_epcis import quality_element  # CoAs, specifications, deviations, SPC, batches

        ext = quality_element(ev, ev.event_id or assign_event_id(ev))
        if ext is not None:
            self.count += 1
            return ext
        if not ev.event_id and not isinstance(body, Retraction):
            ev = Event(assign_event_id(ev), ev.kind, ev.time, ev.body)
        target = None
        if isinstance(body, Retraction):
            t = body.target_event_id
            target = self.seen.get(t) or (self.resolve(t) if self.resolve is not None else None)
            if target is None:
                raise NotFoundError(
                    f"retraction {ev.event_id}: retracted event {t} is neither earlier in the "
                    "stream nor found by `resolve`"
                )
        elif self.resolve is None:
            self.seen[ev.event_id] = ev
        self.count += 1
        return render_event(ev, target)

    def header(self) -> dict[str, Any] | None:
        vocabularies = [{"type": t, "vocabularyElementList": els} for t, els in
                        ((VTYPE_LOCATION, self.sites), (VTYPE_CLASS, self.materials), (VTYPE_FACTOR, self.factors))
                        if els]  # fmt: skip
        return {"epcisMasterData": {"vocabularyList": vocabularies}} if vocabularies else None


#: lichain's extension event for chain-of-custody claims: not a GS1 event type, so other parties' EPCIS systems
#: will not take it; lichain writes it only when the ledger holds claims, inline to keep the ledger's order.
CLAIM_EVENT_TYPE = "lichain:CustodyClaim"
#: lichain's extension event for a supplier's PCF of a purchased lot (same terms as the claim event above).
PCF_EVENT_TYPE = "lichain:SupplierPcf"
#: lichain's extension event for a dated due-diligence statement about a site (same terms as above).
RISK_EVENT_TYPE = "lichain:SiteRisk"
#: lichain's extension event for a dated statement about a document-signing key (same terms as above).
KEY_EVENT_TYPE = "lichain:SigningKey"
#: lichain's extension events for the due-diligence management records (same terms as above).
POLICY_EVENT_TYPE = "lichain:DiligencePolicy"
MEASURE_EVENT_TYPE = "lichain:RiskMeasure"
#: lichain's extension events for a cell maker's cell data and for battery ids registered in a cell lot.
CELL_SPEC_EVENT_TYPE = "lichain:CellSpec"
BATTERY_EVENT_TYPE = "lichain:BatteryRegistration"
#: Extension event type and member name of each body kind carried as one canonical JSON object.
EXTENSION_EVENTS: dict[type, tuple[str, str]] = {
    SupplierPcf: (PCF_EVENT_TYPE, "supplierPcf"), SiteRisk: (RISK_EVENT_TYPE, "siteRisk"),
    CellSpec: (CELL_SPEC_EVENT_TYPE, "cellSpec"), BatteryRegistration: (BATTERY_EVENT_TYPE, "batteryRegistration"),
    DiligencePolicy: (POLICY_EVENT_TYPE, "diligencePolicy"), RiskMeasure: (MEASURE_EVENT_TYPE, "riskMeasure"),
    KeyStatement: (KEY_EVENT_TYPE, "signingKey"),
}


def event_json(event: Event, resolve: Callable[[str], Event | None] | None = None) -> dict[str, Any] | None:
    """One ledger event as :func:`write_epcis` writes it into the event list; None for master data (header).

    ``resolve`` finds a retraction's target (``event_id → Event``), as for :func:`write_epcis`.
    """
    return _Writer(resolve).event(event)


def _document_head(created: datetime | None) -> dict[str, Any]:
    return {
        "@context": [GS1_EPCIS_CONTEXT, json.loads(json.dumps(LICHAIN_CONTEXT))],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _time(created or datetime.now(UTC)),
    }


def _prime(w: _Writer, sites: Iterable[Site | Event], materials: Iterable[Material | Event]) -> None:
    for item in (*sites, *materials):
        if isinstance(item, Event):
            w.event(item)
        else:
            w.master(item)


def write_epcis(
    events: Iterable[Event],
    sites: Iterable[Site | Event] = (),
    materials: Iterable[Material | Event] = (),
    *,
    created: datetime | None = None,
    resolve: Callable[[str], Event | None] | None = None,
) -> dict[str, Any]:
    """The events as one EPCIS 2.0 ``EPCISDocument`` (plain JSON values, ready for ``json.dumps``).

    Parameters
    ----------
    events : iterable of Event
        Ledger events in order. Site, material and factor-override events go to the master data header; lots,
        runs and shipments become events; a retraction re-states its target with an ``errorDeclaration``.
        Events with ``event_id == ""`` get :func:`assign_event_id`.
    sites, materials : iterable of Site / Material (or their events)
        More master data for the header (bodies get a content id and no ``lichain:eventTime``).
    created : datetime, optional
        ``creationDate`` of the document (default: now).
    resolve : callable, optional
        ``event_id → Event`` for retraction targets that are not earlier in ``events``. Without it the writer
        remembers the events it has written (memory grows with the stream).

    Returns
    -------
    dict
        The document, with ``@context`` = GS1's context by URL plus lichain's context inline.

    Raises
    ------
    NotFoundError
        A retraction's target cannot be found.
    """
    w = _Writer(resolve)
    _prime(w, sites, materials)
    event_list = [d for ev in events if (d := w.event(ev)) is not None]
    doc = _document_head(created)
    header = w.header()
    if header is not None:
        doc["epcisHeader"] = header
    doc["epcisBody"] = {"eventList": event_list}
    return doc


def write_epcis_stream(
    events: Iterable[Event],
    fp: TextIO,
    sites: Iterable[Site | Event] = (),
    materials: Iterable[Material | Event] = (),
    *,
    created: datetime | None = None,
    resolve: Callable[[str], Event | None] | None = None,
) -> int:
    """Write the events as one EPCIS 2.0 document to ``fp`` without holding the event list in memory.

    Parameters
    ----------
    events, sites, materials, created, resolve
        As for :func:`write_epcis`.
    fp : text file
        Receives compact JSON, one event per line. The master data header is written after the body (JSON
        member order carries no meaning), so master data events may appear anywhere in ``events``.

    Returns
    -------
    int
        Number of ledger events written (events plus master data elements).
    """
    w = _Writer(resolve)
    _prime(w, sites, materials)
    enc = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
    head = enc.encode(_document_head(created))
    fp.write(head[:-1] + ',"epcisBody":{"eventList":[')
    sep = "\n"
    for ev in events:
        d = w.event(ev)
        if d is not None:
            fp.write(sep)
            fp.write(enc.encode(d))
            sep = ",\n"
    fp.write("\n]}")
    header = w.header()
    if header is not None:
        fp.write(',\n"epcisHeader":' + enc.encode(header))
    fp.write("}\n")
    return w.count
