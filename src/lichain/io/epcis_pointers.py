"""Where a field of lichain's canonical event sits in its EPCIS 2.0 form, as a JSON pointer (RFC 6901).

Why this exists: the ledger rules name a bad field by its place in the canonical event (``/outputs/0/assay/Qq``,
``/mass_kg``), which is not where the user wrote it in an EPCIS document (``/ilmd/lichain:lots/<lot>/assay/Qq``,
``/quantityList/0/quantity``). This module maps one to the other for every kind of event the EPCIS reader takes
(the inverse of :mod:`lichain.io.epcis_write`), so every refusal of an EPCIS document points at a member that
exists in it. A field with no place of its own in the document (master data, declarations) points at its event.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from lichain.core.errors import Problem
from lichain.core.model import (
    CustodyClaim,
    EventBody,
    LocatedEvent,
    Lot,
    Run,
    Shipment,
)
from lichain.io.epcis_fields import esc
from lichain.io.epcis_write import EXTENSION_EVENTS

__all__ = ["document_pointer", "relocate"]

#: Canonical snake_case keys written in camelCase in lichain's EPCIS extensions.
_CAMEL = {
    "produced_at": "producedAt", "mass_kg": "massKg", "assay_method": "assayMethod", "assay_lab": "assayLab",
    "water_m3": "waterM3", "process_kg_co2e": "processKgCo2e", "factor_key": "factorKey",
    "started_at": "startedAt", "ended_at": "endedAt", "losses_kg": "lossesKg", "output_values": "outputValues",
    "distance_km": "distanceKm", "shipped_at": "shippedAt", "to_organisation": "toOrganisation",
}  # fmt: skip
_LOT_DATA = frozenset({"material", "mass_kg", "produced_at", "origin", "assay", "quality", "assay_method",
                       "assay_lab", "activity", "site"})
_RUN_EXT = frozenset({"kind", "started_at", "ended_at", "allocation", "losses_kg", "activity", "output_values"})
_SHIPMENT_EXT = frozenset({"id", "mode", "distance_km", "shipped_at", "to_organisation"})


def _tail(parts: list[str]) -> str:
    return "".join("/" + _CAMEL.get(p, p) for p in parts)


def _lot_data(prefix: str, parts: list[str]) -> str | None:
    if parts and parts[0] in _LOT_DATA:
        return prefix + _tail(parts)
    return None


def _lot(parts: list[str]) -> str | None:
    if parts[0] == "id":
        return "/quantityList/0/epcClass"
    if parts[0] == "site":
        return "/bizLocation/id"
    if parts[0] in _LOT_DATA:  # top-level ILMD members carry the lichain: prefix
        return "/ilmd/lichain:" + _CAMEL.get(parts[0], parts[0]) + _tail(parts[1:])
    return None


def _run(run: Run, parts: list[str]) -> str | None:
    head = parts[0]
    if head == "id":
        return "/transformationID"
    if head == "site":
        return "/bizLocation/id"
    if head in _RUN_EXT:
        return "/lichain:run" + _tail(parts)
    if head in ("inputs", "outputs") and len(parts) >= 2 and parts[1].isdigit():
        i = int(parts[1])
        q = f"/{'input' if head == 'inputs' else 'output'}QuantityList/{i}"
        if len(parts) == 2:
            return q
        if head == "inputs":
            return q + {"lot": "/epcClass", "mass_kg": "/quantity"}.get(parts[2], "")
        if parts[2] == "id":
            return q + "/epcClass"
        if parts[2] == "site" and i < len(run.outputs) and run.outputs[i].site == run.site:
            return "/bizLocation/id"  # an output made where the run is has no site of its own in the document
        if i < len(run.outputs):
            return _lot_data(f"/ilmd/lichain:lots/{esc(run.outputs[i].id)}", parts[2:])
    return None


def _shipment(parts: list[str]) -> str | None:
    head = parts[0]
    if head in _SHIPMENT_EXT:
        return "/lichain:shipment" + _tail(parts)
    return {"lot": "/quantityList/0/epcClass", "mass_kg": "/quantityList/0/quantity",
            "from_site": "/sourceList/0/source", "to_site": "/destinationList/0/destination"}.get(head)


def document_pointer(body: EventBody, suffix: str) -> str:
    """The pointer, relative to the event's place in the document, of the canonical field at ``suffix``.

    ``suffix`` is a JSON-pointer suffix of the canonical event (``""`` for the event itself); the result is
    ``""`` when the field has no place of its own in the EPCIS form.
    """
    parts = suffix.split("/")[1:]
    if not parts:
        return ""
    found: str | None = None
    if isinstance(body, Lot):
        found = _lot(parts)
    elif isinstance(body, Run):
        found = _run(body, parts)
    elif isinstance(body, Shipment):
        found = _shipment(parts)
    elif isinstance(body, CustodyClaim):
        found = "/lichain:claim" + suffix
    elif type(body) in EXTENSION_EVENTS:  # one canonical body under its member (the writer's own table)
        found = f"/lichain:{EXTENSION_EVENTS[type(body)][1]}" + suffix
    else:
        from lichain.io.process_epcis import member_pointer

        found = member_pointer(body, suffix)
    return found or ""


def relocate(problems: Iterable[Problem], located: Sequence[LocatedEvent]) -> list[Problem]:
    """Problems of EPCIS events with each canonical field suffix replaced by its pointer in the document."""
    bodies = {le.location: le.event.body for le in located}
    out = []
    for p in problems:
        loc = p.location
        cut = len(loc)
        while cut > 0 and loc[:cut] not in bodies:  # the longest event location the problem's starts with
            cut = loc.rfind("/", 0, cut)
        if cut > 0:
            loc = loc[:cut] + document_pointer(bodies[loc[:cut]], loc[cut:])
        out.append(Problem(loc, p.message) if loc != p.location else p)
    return out
