"""EPCIS master data for the ledger: sites, materials and factor overrides as header vocabularies, both ways.

Why this exists: sites and materials are not EPCIS events but master data (EPCIS 2.0 §6.5, ``epcisHeader.
epcisMasterData.vocabularyList``): sites are ``BusinessLocation`` elements (CBV ``name``/``countryCode`` plus
lichain attributes), materials are ``EPCClass`` elements, and factor overrides use lichain's own vocabulary type
so an exported ledger replays its results. Elements of other parties without lichain's defining attribute
(``lichain:kind`` for a site, ``lichain:stage`` for a material) carry no ledger fact and are left alone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lichain.core.codec import canonical_payload, content_event_id, format_time
from lichain.core.model import Event, EventKind, FactorOverride, Material, Site
from lichain.core.validate import LocatedEvent
from lichain.io.epcis_fields import Ext, FieldReader, canonical
from lichain.io.epcis_vocab import (
    LICHAIN_NS,
    MDA_COUNTRY,
    MDA_NAME,
    VTYPE_CLASS,
    VTYPE_FACTOR,
    VTYPE_LOCATION,
    decimal_text,
    from_uri,
    to_uri,
)

__all__ = ["MasterDataReader", "factor_element", "material_element", "site_element"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MDA = {MDA_NAME: "@name", "urn:epcglobal:cbv:mda:name": "@name", "cbvmda:name": "@name",
        MDA_COUNTRY: "@country", "urn:epcglobal:cbv:mda:countryCode": "@country", "cbvmda:countryCode": "@country"}  # fmt: skip


def _attr(name: str, value: Any) -> dict[str, Any]:
    return {"id": name, "attribute": value}


def site_element(s: Site, event_id: str, time: datetime | None) -> dict[str, Any]:
    """A ``BusinessLocation`` vocabulary element of a site (with its event id and time when given)."""
    attrs = [_attr(MDA_NAME, s.name), _attr(MDA_COUNTRY, s.country), _attr("lichain:kind", s.kind),
             _attr("lichain:organisation", s.organisation)]  # fmt: skip
    if s.grid_region is not None:
        attrs.append(_attr("lichain:gridRegion", s.grid_region))
    if s.certifications:
        attrs.append(_attr("lichain:certifications", list(s.certifications)))
    if s.risk:
        attrs.append(_attr("lichain:risk", list(s.risk)))
    if s.ledger_owner:
        attrs.append(_attr("lichain:ledgerOwner", True))
    return _with_identity({"id": to_uri(s.id, "site"), "attributes": attrs}, event_id, time)


def material_element(m: Material, event_id: str, time: datetime | None) -> dict[str, Any]:
    """An ``EPCClass`` vocabulary element of a material (with its event id and time when given)."""
    attrs = [_attr("lichain:name", m.name), _attr("lichain:stage", m.stage)]
    if m.formula is not None:
        attrs.append(_attr("lichain:formula", m.formula))
    return _with_identity({"id": to_uri(m.code, "material"), "attributes": attrs}, event_id, time)


def factor_element(f: FactorOverride, event_id: str, time: datetime | None) -> dict[str, Any]:
    """A ``lichain:FactorOverride`` vocabulary element; its id is the override's event id."""
    attrs = [_attr("lichain:key", f.key), _attr("lichain:value", decimal_text(f.value)), _attr("lichain:unit", f.unit),
             _attr("lichain:source", f.source)]  # fmt: skip
    if f.site is not None:
        attrs.append(_attr("lichain:site", f.site))
    if f.valid_from is not None:
        attrs.append(_attr("lichain:validFrom", format_time(f.valid_from)))
    if f.valid_to is not None:
        attrs.append(_attr("lichain:validTo", format_time(f.valid_to)))
    return _with_identity({"id": event_id, "attributes": attrs}, "", time)


def _with_identity(element: dict[str, Any], event_id: str, time: datetime | None) -> dict[str, Any]:
    attrs = element["attributes"]
    if event_id:
        attrs.append(_attr("lichain:eventID", event_id))
    if time is not None:
        attrs.append(_attr("lichain:eventTime", format_time(time)))
    return element


class MasterDataReader(FieldReader):
    """Reads the master data header into site, material and factor-override events (listed in ``master``)."""

    def __init__(self, source: str) -> None:
        super().__init__(source)
        self.master: list[LocatedEvent] = []
        self.created = _EPOCH  # the document's creationDate: time of master data without lichain:eventTime

    def header(self, header: Any) -> None:
        if not isinstance(header, dict):
            self.add("/epcisHeader", "epcisHeader must be an object")
            return
        md = header.get("epcisMasterData")
        if md is None:
            return
        vl = md.get("vocabularyList") if isinstance(md, dict) else None
        base = "/epcisHeader/epcisMasterData/vocabularyList"
        if not isinstance(vl, list):
            self.add(base, "vocabularyList must be a list")
            return
        for v, voc in enumerate(vl):
            vp = f"{base}/{v}"
            if not isinstance(voc, dict) or not isinstance(voc.get("vocabularyElementList", []), list):
                self.add(vp, "a vocabulary must be an object with a vocabularyElementList")
                continue
            vtype = voc.get("type")
            if isinstance(vtype, str) and (name := self.local(vtype)) is not None:
                vtype = LICHAIN_NS + name
            for e, el in enumerate(voc.get("vocabularyElementList", [])):
                ep = f"{vp}/vocabularyElementList/{e}"
                try:
                    self.element(vtype, el, ep)
                except UnicodeEncodeError as exc:  # a lone surrogate cannot be hashed or stored
                    self.add(ep, f"text holds a lone surrogate (U+{ord(exc.object[exc.start]):04X}): not valid "
                                 "Unicode")

    def element(self, vtype: Any, el: Any, ptr: str) -> None:
        if not isinstance(el, dict) or not isinstance(el.get("id"), str):
            self.add(ptr, "a vocabulary element must be an object with an 'id'")
            return
        attrs: Ext = {}
        raw = el.get("attributes", [])
        for k, a in enumerate(raw if isinstance(raw, list) else []):
            if not isinstance(a, dict) or not isinstance(a.get("id"), str):
                self.add(f"{ptr}/attributes/{k}", "an attribute must be an object {id, attribute}")
                continue
            name = self.local(a["id"]) or _MDA.get(a["id"])
            if name is not None:
                attrs[name] = (a.get("attribute"), f"{ptr}/attributes/{k}/attribute")
        if not isinstance(raw, list):
            self.add(f"{ptr}/attributes", "attributes must be a list")
        n = len(self.problems)
        body: Site | Material | FactorOverride | None
        if vtype == VTYPE_LOCATION and "kind" in attrs:
            kind = EventKind.SITE
            body = self.site(el["id"], attrs, ptr)
        elif vtype == VTYPE_CLASS and "stage" in attrs:
            kind = EventKind.MATERIAL
            body = self.material(el["id"], attrs, ptr)
        elif vtype == VTYPE_FACTOR:
            kind = EventKind.FACTOR_OVERRIDE
            body = self.factor(attrs, ptr)
        else:
            return  # master data of other parties (names, addresses): no ledger fact, nothing to check
        t = self.time(*attrs["eventTime"], "eventTime") if "eventTime" in attrs else self.created
        eid = el["id"] if kind is EventKind.FACTOR_OVERRIDE else None
        if "eventID" in attrs:
            eid = self.text(*attrs["eventID"], "eventID", empty=False)
        if len(self.problems) > n or body is None or t is None:
            return
        eid = eid or content_event_id(kind, canonical_payload(body))
        self.master.append(LocatedEvent(f"{self.src}#{ptr}", Event(eid, kind, t, body)))

    def need(self, attrs: Ext, name: str, ptr: str, what: str) -> str | None:
        if name not in attrs:
            self.add(ptr, f"{what} without {name}")
            return None
        return self.text(*attrs[name], name)

    def strings(self, attrs: Ext, name: str) -> tuple[str, ...]:
        if name not in attrs:
            return ()
        v, p = attrs[name]
        if isinstance(v, str):
            return (v,)
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            self.add(p, f"{name} must be a list of strings")
            return ()
        return tuple(v)

    def site(self, uri: str, attrs: Ext, ptr: str) -> Site | None:
        self.unknown({k: v for k, v in attrs.items() if not k.startswith("@")},
                     frozenset({"name", "country", "kind", "organisation", "gridRegion", "certifications", "risk",
                                "ledgerOwner", "eventID", "eventTime"}), "site master data")  # fmt: skip
        name = self.need(attrs, "@name" if "@name" in attrs else "name", ptr, "site")
        country = self.need(attrs, "@country" if "@country" in attrs else "country", ptr, "site")
        kind = self.need(attrs, "kind", ptr, "site")
        org = self.need(attrs, "organisation", ptr, "site")
        grid = self.text(*attrs["gridRegion"], "gridRegion") if "gridRegion" in attrs else None
        certs, risk = self.strings(attrs, "certifications"), self.strings(attrs, "risk")
        owner = False
        if "ledgerOwner" in attrs:
            v, p = attrs["ledgerOwner"]
            if isinstance(v, bool):
                owner = v
            else:
                self.add(p, "ledgerOwner must be true or false")
        if name is None or country is None or kind is None or org is None:
            return None
        return Site(from_uri(uri, "site"), name, kind, country, org, grid, certs, risk, owner)

    def material(self, uri: str, attrs: Ext, ptr: str) -> Material | None:
        self.unknown(attrs, frozenset({"name", "stage", "formula", "eventID", "eventTime"}), "material master data")
        name = self.need(attrs, "name", ptr, "material")
        stage = self.need(attrs, "stage", ptr, "material")
        formula = self.text(*attrs["formula"], "formula") if "formula" in attrs else None
        if name is None or stage is None:
            return None
        local = from_uri(uri, "material")
        return Material(local if local != uri else canonical(uri), name, stage, formula)

    def factor(self, attrs: Ext, ptr: str) -> FactorOverride | None:
        self.unknown(attrs, frozenset({"key", "value", "unit", "source", "site", "validFrom", "validTo", "eventID",
                                       "eventTime"}), "a factor override")  # fmt: skip
        key, unit, source = (self.need(attrs, k, ptr, "factor override") for k in ("key", "unit", "source"))
        value = self.dec(*attrs["value"], "value") if "value" in attrs else None
        if "value" not in attrs:
            self.add(ptr, "factor override without value")
        site = self.text(*attrs["site"], "site") if "site" in attrs else None
        vf = self.time(*attrs["validFrom"], "validFrom") if "validFrom" in attrs else None
        vt = self.time(*attrs["validTo"], "validTo") if "validTo" in attrs else None
        if key is None or unit is None or source is None or value is None:
            return None
        return FactorOverride(key, value, unit, source, site, vf, vt)
