"""Canonical JSON form of events, content-derived event ids, and the hash chain.

Every event is stored as a canonical JSON payload (sorted keys, no whitespace, decimals as strings, times in
UTC ISO 8601). The same payload bytes feed the hash chain, so ``verify`` can recompute it from the store alone
on any backend.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import fields
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from lichain.core.model import (
    Activity,
    Allocation,
    BatteryRegistration,
    CellSpec,
    Consumption,
    CustodyClaim,
    DiligencePolicy,
    Electricity,
    Event,
    EventBody,
    EventKind,
    FactorOverride,
    Fuel,
    KeyStatement,
    Lot,
    Material,
    Reagent,
    Retraction,
    RiskMeasure,
    Run,
    Shipment,
    Site,
    SiteRisk,
    SupplierPcf,
    VerbatimEvent,
)
from lichain.core.quality_model import Certificate, Deviation, ProcessBatch, SpcAlarm, Specification

__all__ = [
    "BODY_KINDS",
    "GENESIS",
    "body_from_json",
    "body_to_json",
    "canonical_json",
    "canonical_payload",
    "chain_hash",
    "content_event_id",
    "event_from_payload",
    "format_time",
    "kind_of",
    "parse_time",
    "record_hash",
]

#: The chain hash that precedes the first event.
GENESIS = "0" * 64

#: The event kind of each body type.
BODY_KINDS: dict[type, EventKind] = {
    Site: EventKind.SITE,
    Material: EventKind.MATERIAL,
    Lot: EventKind.LOT,
    Run: EventKind.RUN,
    Shipment: EventKind.SHIPMENT,
    Retraction: EventKind.RETRACTION,
    FactorOverride: EventKind.FACTOR_OVERRIDE,
    CustodyClaim: EventKind.CUSTODY_CLAIM,
    SupplierPcf: EventKind.SUPPLIER_PCF,
    SiteRisk: EventKind.SITE_RISK,
    DiligencePolicy: EventKind.DILIGENCE_POLICY,
    RiskMeasure: EventKind.RISK_MEASURE,
    KeyStatement: EventKind.SIGNING_KEY,
    Specification: EventKind.SPECIFICATION,
    Certificate: EventKind.COA,
    Deviation: EventKind.DEVIATION,
    SpcAlarm: EventKind.SPC_ALARM,
    ProcessBatch: EventKind.PROCESS_BATCH,
    CellSpec: EventKind.CELL_SPEC,
    BatteryRegistration: EventKind.BATTERY_REGISTRATION,
    VerbatimEvent: EventKind.EPCIS_VERBATIM,
}
_NS = uuid.UUID("6f1d2c1e-8a53-5d0e-9a57-6c6963686169")  # lichain's UUIDv5 namespace


def kind_of(body: EventBody) -> EventKind:
    """The event kind that records ``body``."""
    return BODY_KINDS[type(body)]


@lru_cache(maxsize=65536)  # events of one batch share few distinct times: formatting is a hot path of ingest
def format_time(t: datetime) -> str:
    """UTC ISO 8601 with a ``Z`` and microseconds only when present."""
    if t.tzinfo is not UTC:
        t = t.astimezone(UTC)
    text = f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    if t.microsecond:
        text += f".{t.microsecond:06d}".rstrip("0")
    return text + "Z"


def parse_time(text: str) -> datetime:
    """Parse an ISO 8601 time with offset (``Z`` accepted); raises ValueError when it has no offset."""
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if t.tzinfo is None:
        raise ValueError(f"time {text!r} has no UTC offset")
    return t.astimezone(UTC)


def _mg_kg(mg: int) -> str:
    """Integer mg → exact kg decimal string (fast path of ``_dec(mg_to_kg(mg))``)."""
    if mg >= 0:
        q, r = divmod(mg, 1_000_000)
        return f"{q}.{r:06d}".rstrip("0") if r else str(q)
    q, r = divmod(-mg, 1_000_000)
    return f"-{q}.{r:06d}".rstrip("0") if r else f"-{q}"


def _ppb_fraction(ppb: int) -> str:
    """Integer parts per 10⁹ → exact fraction decimal string."""
    q, r = divmod(ppb, 1_000_000_000)
    return f"{q}.{r:09d}".rstrip("0") if r else str(q)


def _dec(d: Decimal) -> str:
    text = format(d.normalize(), "f")
    return text if text != "-0" else "0"


def _activity_to_json(a: Activity) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if a.electricity:
        out["electricity"] = [
            {k: v for k, v in (("kwh", _dec(e.kwh)), ("source", e.source), ("instrument", e.instrument),
                               ("factor_key", e.factor_key)) if v is not None}
            for e in a.electricity
        ]
    if a.fuels:
        out["fuels"] = [{"kind": f.kind, "mj": _dec(f.mj)} for f in a.fuels]
    if a.reagents:
        out["reagents"] = [
            {k: v for k, v in (("name", r.name), ("kg", _dec(r.kg)), ("factor_key", r.factor_key)) if v is not None}
            for r in a.reagents
        ]
    if a.water_m3 is not None:
        out["water_m3"] = _dec(a.water_m3)
    if a.process_kg_co2e is not None:
        out["process_kg_co2e"] = _dec(a.process_kg_co2e)
    if a.readings:
        out["readings"] = dict(a.readings)
    return out


def _activity_from_json(d: Mapping[str, Any]) -> Activity:
    return Activity(
        electricity=tuple(
            Electricity(Decimal(e["kwh"]), e.get("source", "grid"), e.get("instrument"), e.get("factor_key"))
            for e in d.get("electricity", ())
        ),
        fuels=tuple(Fuel(f["kind"], Decimal(f["mj"])) for f in d.get("fuels", ())),
        reagents=tuple(Reagent(r["name"], Decimal(r["kg"]), r.get("factor_key")) for r in d.get("reagents", ())),
        water_m3=Decimal(d["water_m3"]) if "water_m3" in d else None,
        process_kg_co2e=Decimal(d["process_kg_co2e"]) if "process_kg_co2e" in d else None,
        readings=tuple(sorted(d.get("readings", {}).items())),
    )


def _lot_to_json(lot: Lot) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": lot.id,
        "material": lot.material,
        "site": lot.site,
        "produced_at": format_time(lot.produced_at),
        "mass_kg": _mg_kg(lot.mass_mg),
        "assay": {e: _ppb_fraction(v) for e, v in sorted(lot.assay.items())},
        "origin": lot.origin,
    }
    if lot.quality:
        out["quality"] = dict(sorted(lot.quality.items()))
    if lot.assay_method:
        out["assay_method"] = lot.assay_method
    if lot.assay_lab:
        out["assay_lab"] = lot.assay_lab
    if lot.activity is not None and not lot.activity.is_empty():
        out["activity"] = _activity_to_json(lot.activity)
    return out


def _mg(kg: str) -> int:
    return int(Decimal(kg) * 1_000_000)


def _ppb(f: str) -> int:
    return int(Decimal(f) * 1_000_000_000)


def _lot_from_json(d: Mapping[str, Any]) -> Lot:
    return Lot(
        id=d["id"],
        material=d["material"],
        site=d["site"],
        produced_at=parse_time(d["produced_at"]),
        mass_mg=_mg(d["mass_kg"]),
        assay={e: _ppb(v) for e, v in d.get("assay", {}).items()},
        origin=d.get("origin", "virgin"),
        quality=dict(d.get("quality", {})),
        assay_method=d.get("assay_method"),
        assay_lab=d.get("assay_lab"),
        activity=_activity_from_json(d["activity"]) if "activity" in d else None,
    )


def _claim_to_json(c: CustodyClaim) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": c.id, "site": c.site, "model": c.model,
        "period_start": format_time(c.period_start), "period_end": format_time(c.period_end),
        "allocations": [{"lot": a.lot, "element": a.element,
                         "pre_consumer_kg": _mg_kg(a.pre_consumer_mg),
                         "post_consumer_kg": _mg_kg(a.post_consumer_mg)} for a in c.allocations],
    }
    if c.rolling_average:
        out["rolling_average"] = {e: {"pre_consumer": _ppb_fraction(pre),
                                      "post_consumer": _ppb_fraction(post)}
                                  for e, (pre, post) in sorted(c.rolling_average.items())}
    return out


def _claim_from_json(d: Mapping[str, Any]) -> CustodyClaim:
    return CustodyClaim(
        d["id"], d["site"], parse_time(d["period_start"]), parse_time(d["period_end"]), d["model"],
        tuple(Allocation(a["lot"], a["element"], _mg(a["pre_consumer_kg"]), _mg(a["post_consumer_kg"]))
              for a in d.get("allocations", ())),
        {e: (_ppb(v["pre_consumer"]), _ppb(v["post_consumer"])) for e, v in d.get("rolling_average", {}).items()},
    )


def _pcf_to_json(p: SupplierPcf) -> dict[str, Any]:
    """Canonical JSON form of a supplier PCF (optional fields only when present)."""
    out: dict[str, Any] = {"lot": p.lot, "value": _dec(p.value), "unit": p.unit, "supplier": p.supplier,
                           "document": p.document, "boundary": p.boundary, "standard": p.standard}
    if p.data_quality_rating is not None:
        out["data_quality_rating"] = _dec(p.data_quality_rating)
    if p.primary_data_share is not None:
        out["primary_data_share"] = _dec(p.primary_data_share)
    if p.valid_from is not None:
        out["valid_from"] = format_time(p.valid_from)
    if p.valid_until is not None:
        out["valid_until"] = format_time(p.valid_until)
    return out


def _pcf_from_json(d: Mapping[str, Any]) -> SupplierPcf:
    """Inverse of :func:`_pcf_to_json`."""
    def opt(k: str) -> Decimal | None:
        return Decimal(d[k]) if d.get(k) is not None else None

    return SupplierPcf(
        d["lot"], Decimal(d["value"]), d["supplier"], d["document"], d.get("unit", "kg CO2e/kg"),
        d.get("boundary", "cradle-to-gate"), d.get("standard", "ISO 14067:2018"), opt("data_quality_rating"),
        opt("primary_data_share"), parse_time(d["valid_from"]) if d.get("valid_from") else None,
        parse_time(d["valid_until"]) if d.get("valid_until") else None,
    )


def _risk_to_json(r: SiteRisk) -> dict[str, Any]:
    """Canonical JSON form of a site risk statement (optional fields only when present)."""
    out: dict[str, Any] = {"id": r.id, "site": r.site, "kind": r.kind, "status": r.status,
                           "valid_from": format_time(r.valid_from), "source": r.source}
    if r.valid_to is not None:
        out["valid_to"] = format_time(r.valid_to)
    for k in ("category", "scheme", "reference"):
        v = getattr(r, k)
        if v is not None:
            out[k] = v
    return out


def _risk_from_json(d: Mapping[str, Any]) -> SiteRisk:
    """Inverse of :func:`_risk_to_json`."""
    return SiteRisk(d["id"], d["site"], d["kind"], d["status"], parse_time(d["valid_from"]), d["source"],
                    parse_time(d["valid_to"]) if d.get("valid_to") else None, d.get("category"), d.get("scheme"),
                    d.get("reference"))


#: Time fields of the management-system records (policy adopted, measure status date and due date).
_RECORD_TIMES = frozenset({"adopted", "valid_from", "due"})


def _record_to_json(b: DiligencePolicy | RiskMeasure) -> dict[str, Any]:
    """Canonical JSON form of a due-diligence policy or risk measure (fields present only when set)."""
    out: dict[str, Any] = {}
    for f in fields(b):
        v = getattr(b, f.name)
        if v is not None:
            out[f.name] = format_time(v) if isinstance(v, datetime) else v
    return out


def _record_from_json(cls: type[DiligencePolicy] | type[RiskMeasure], d: Mapping[str, Any]
                      ) -> DiligencePolicy | RiskMeasure:
    """Inverse of :func:`_record_to_json`."""
    kwargs: dict[str, Any] = {k: parse_time(v) if k in _RECORD_TIMES else v for k, v in d.items()}
    return cls(**kwargs)
def _key_to_json(k: KeyStatement) -> dict[str, Any]:
    """Canonical JSON form of a signing-key statement (optional fields only when present)."""
    out: dict[str, Any] = {"kid": k.kid, "organisation": k.organisation, "x": k.x, "status": k.status,
                           "at": format_time(k.at)}
    return {**out, **{f: getattr(k, f) for f in ("reason", "successor") if getattr(k, f) is not None}}


def body_to_json(body: EventBody) -> dict[str, Any]:
    """A plain-JSON dict of an event body (decimals as strings, times as UTC ISO 8601)."""
    if isinstance(body, Lot):
        return _lot_to_json(body)
    if isinstance(body, Run):
        out: dict[str, Any] = {
            "id": body.id,
            "site": body.site,
            "kind": body.kind,
            "started_at": format_time(body.started_at),
            "ended_at": format_time(body.ended_at),
            "inputs": [{"lot": c.lot, "mass_kg": _mg_kg(c.mass_mg)} for c in body.inputs],
            "outputs": [_lot_to_json(o) for o in body.outputs],
        }
        if body.losses_mg:
            out["losses_kg"] = {e: _mg_kg(v) for e, v in sorted(body.losses_mg.items())}
        if not body.activity.is_empty():
            out["activity"] = _activity_to_json(body.activity)
        if body.allocation != "mass":
            out["allocation"] = body.allocation
            out["output_values"] = {k: _dec(v) for k, v in sorted(body.output_values.items())}
        return out
    if isinstance(body, Site):
        site: dict[str, Any] = {
            "id": body.id, "name": body.name, "kind": body.kind, "country": body.country,
            "organisation": body.organisation, "grid_region": body.grid_region,
            "certifications": list(body.certifications), "risk": list(body.risk),
        }
        if body.ledger_owner:  # only when set: the canonical payload of every other site is unchanged
            site["ledger_owner"] = True
        return site
    if isinstance(body, Material):
        return {"code": body.code, "name": body.name, "stage": body.stage, "formula": body.formula}
    if isinstance(body, Shipment):
        return {
            "id": body.id, "lot": body.lot, "mass_kg": _mg_kg(body.mass_mg),
            "from_site": body.from_site, "to_site": body.to_site, "shipped_at": format_time(body.shipped_at),
            "mode": body.mode, "distance_km": _dec(body.distance_km), "to_organisation": body.to_organisation,
        }
    if isinstance(body, Retraction):
        return {
            "target_event_id": body.target_event_id, "declared_at": format_time(body.declared_at),
            "reason": body.reason, "corrective_event_ids": list(body.corrective_event_ids),
        }
    if isinstance(body, FactorOverride):
        return {
            "key": body.key, "value": _dec(body.value), "unit": body.unit, "source": body.source,
            "site": body.site,
            "valid_from": format_time(body.valid_from) if body.valid_from else None,
            "valid_to": format_time(body.valid_to) if body.valid_to else None,
        }
    if isinstance(body, CustodyClaim):
        return _claim_to_json(body)
    if isinstance(body, SupplierPcf):
        return _pcf_to_json(body)
    if isinstance(body, SiteRisk):
        return _risk_to_json(body)
    if isinstance(body, DiligencePolicy | RiskMeasure):
        return _record_to_json(body)
    if isinstance(body, KeyStatement):
        return _key_to_json(body)
    from lichain.core.quality_codec import QUALITY_BODIES, quality_to_json  # manufacturing and quality events

    if isinstance(body, QUALITY_BODIES):
        return quality_to_json(body)
    if isinstance(body, CellSpec | BatteryRegistration):
        from lichain.core.passport import record_to_json  # local: passport builds on this module

        return record_to_json(body)
    if isinstance(body, VerbatimEvent):  # as received: the EPCIS event's own JSON, under its prefixes
        return {"context": body.context, "event": body.event}
    raise TypeError(f"not an event body: {type(body).__name__}")


def body_from_json(kind: EventKind | str, d: Mapping[str, Any]) -> EventBody:
    """Inverse of :func:`body_to_json` for stored (already valid) payloads."""
    kind = EventKind(kind)
    if kind is EventKind.LOT:
        return _lot_from_json(d)
    if kind is EventKind.RUN:
        return Run(
            id=d["id"], site=d["site"], kind=d["kind"],
            started_at=parse_time(d["started_at"]), ended_at=parse_time(d["ended_at"]),
            inputs=tuple(Consumption(c["lot"], _mg(c["mass_kg"])) for c in d["inputs"]),
            outputs=tuple(_lot_from_json(o) for o in d["outputs"]),
            losses_mg={e: _mg(v) for e, v in d.get("losses_kg", {}).items()},
            activity=_activity_from_json(d.get("activity", {})),
            allocation=d.get("allocation", "mass"),
            output_values={k: Decimal(v) for k, v in d.get("output_values", {}).items()},
        )
    if kind is EventKind.SITE:
        return Site(d["id"], d["name"], d["kind"], d["country"], d["organisation"], d.get("grid_region"),
                    tuple(d.get("certifications", ())), tuple(d.get("risk", ())), d.get("ledger_owner") is True)
    if kind is EventKind.MATERIAL:
        return Material(d["code"], d["name"], d["stage"], d.get("formula"))
    if kind is EventKind.SHIPMENT:
        return Shipment(d["id"], d["lot"], _mg(d["mass_kg"]), d["from_site"], d["to_site"],
                        parse_time(d["shipped_at"]), d.get("mode", "sea_container"),
                        Decimal(d.get("distance_km", "0")), d.get("to_organisation"))
    if kind is EventKind.RETRACTION:
        return Retraction(d["target_event_id"], parse_time(d["declared_at"]), d.get("reason"),
                          tuple(d.get("corrective_event_ids", ())))
    if kind is EventKind.CUSTODY_CLAIM:
        return _claim_from_json(d)
    if kind is EventKind.SUPPLIER_PCF:
        return _pcf_from_json(d)
    if kind is EventKind.SITE_RISK:
        return _risk_from_json(d)
    if kind is EventKind.DILIGENCE_POLICY:
        return _record_from_json(DiligencePolicy, d)
    if kind is EventKind.RISK_MEASURE:
        return _record_from_json(RiskMeasure, d)
    if kind is EventKind.SIGNING_KEY:
        return KeyStatement(d["kid"], d["organisation"], d["x"], d["status"], parse_time(d["at"]), d.get("reason"),
                            d.get("successor"))
    if kind in (EventKind.CELL_SPEC, EventKind.BATTERY_REGISTRATION):
        from lichain.core.passport import record_from_json

        return record_from_json(CellSpec if kind is EventKind.CELL_SPEC else BatteryRegistration, d)
    if kind is EventKind.EPCIS_VERBATIM:
        return VerbatimEvent(dict(d["event"]), dict(d.get("context", {})))
    if kind is not EventKind.FACTOR_OVERRIDE:  # manufacturing and quality events
        from lichain.core.quality_codec import quality_from_json

        return quality_from_json(kind.value, d)  # type: ignore[return-value]
    return FactorOverride(
        d["key"], Decimal(d["value"]), d["unit"], d["source"], d.get("site"),
        parse_time(d["valid_from"]) if d.get("valid_from") else None,
        parse_time(d["valid_to"]) if d.get("valid_to") else None,
    )


def canonical_payload(body: EventBody) -> str:
    """The canonical JSON text of a body: the bytes that are stored and hashed."""
    return canonical_json(body_to_json(body))


def canonical_json(d: Mapping[str, Any]) -> str:
    """The canonical JSON text of a body already in its :func:`body_to_json` form."""
    return json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_event_id(kind: EventKind | str, payload: str) -> str:
    """A deterministic ``urn:uuid:`` (UUIDv5 of kind and payload) for events that declare no eventID."""
    return "urn:uuid:" + str(uuid.uuid5(_NS, f"{EventKind(kind).value}\n{payload}"))


def chain_hash(prev: str, event_id: str, kind: str, time: str, payload: str) -> str:
    """SHA-256 link of the hash chain: H(prev ‖ event_id ‖ kind ‖ time ‖ payload), hex."""
    h = hashlib.sha256()
    h.update(f"{prev}\n{event_id}\n{kind}\n{time}\n".encode())
    h.update(payload.encode())
    return h.hexdigest()


def record_hash(prev: str, chain: str, recorded_at: str, source: str | None) -> str:
    """SHA-256 link of the record chain: H(prev ‖ chain_hash ‖ recorded_at ‖ source), hex.

    The content chain (:func:`chain_hash`) is portable: the same events give the same head in any ledger. The
    record chain covers what only this ledger knows, when and from which document each event was recorded.
    """
    return hashlib.sha256(f"{prev}\n{chain}\n{recorded_at}\n{source or ''}".encode()).hexdigest()


def event_from_payload(event_id: str, kind: str, time: str, payload: str) -> Event:
    """Rebuild an :class:`Event` from its stored columns."""
    k = EventKind(kind)
    return Event(event_id, k, parse_time(time), body_from_json(k, json.loads(payload)))
