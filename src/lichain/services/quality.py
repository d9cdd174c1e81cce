"""Use case: a lot's quality (``lichain quality LOT``): its certificates of analysis judged against the material
specification each names, its status (in specification, out of specification, released under deviation, not
certified), and the deviations recorded for it.

Why this exists: quality and customers ask one question per lot ("may this lot ship / be consumed, and on what
evidence"); the answer is read from the hash-chained quality events with the same rule the ledger applies at
write time (:mod:`lichain.core.quality`), so what the view says is what the ledger enforces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lichain.core.codec import format_time
from lichain.core.errors import NotFoundError
from lichain.core.quality import QualityBook, failures

__all__ = ["CertificateView", "DeviationView", "LotQuality", "PropertyCheck", "lot_quality"]


@dataclass(frozen=True, slots=True)
class PropertyCheck:
    """One measured property against its limits (decimal text as recorded) [unit]."""

    property: str
    value: str
    unit: str
    low: str | None
    high: str | None
    ok: bool


@dataclass(frozen=True, slots=True)
class CertificateView:
    """A certificate of analysis of the lot and its values against the specification it names."""

    id: str
    lab: str
    issued_at: str
    spec_version: str
    method: str | None
    latest: bool
    in_spec: bool
    values: tuple[PropertyCheck, ...]


@dataclass(frozen=True, slots=True)
class DeviationView:
    """A deviation recorded for the lot."""

    id: str
    approved_by: str
    reason: str
    declared_at: str
    properties: tuple[str, ...]
    run: str | None


@dataclass(frozen=True, slots=True)
class LotQuality:
    """``lichain quality LOT``: status is in_spec, out_of_spec, released_under_deviation or not_certified."""

    lot: str
    material: str
    status: str
    failing: tuple[str, ...]
    certificates: tuple[CertificateView, ...]
    deviations: tuple[DeviationView, ...]


def _resolve(store: Any, lot: str) -> str:
    from lichain.services.query import canonical_lot_id

    for cand in (lot, canonical_lot_id(lot)):
        if store.lots([cand]):
            return cand
    raise NotFoundError(f"unknown lot {lot}")


def lot_quality(store: Any, lot: str) -> LotQuality:
    """The quality view of one lot (see the module doc); NotFoundError when the lot is not on record."""
    lot_id = _resolve(store, lot)
    book = QualityBook(store.quality_records([lot_id], [lot_id]), ())
    status = book.status(lot_id)
    views = []
    coas = book.coas.get(lot_id, [])
    latest = status[0] if status else None
    for c in coas:
        spec = book.spec_of(c)
        limits = {lim.prop: lim for lim in spec.limits} if spec else {}
        bad = {f.prop for f in failures(c, spec)} if spec else set()
        checks = tuple(PropertyCheck(m.prop, str(m.value), m.unit,
                                     str(limits[m.prop].low) if m.prop in limits and limits[m.prop].low is not None
                                     else None,
                                     str(limits[m.prop].high) if m.prop in limits and limits[m.prop].high is not None
                                     else None, m.prop not in bad) for m in c.values)
        views.append(CertificateView(c.id, c.lab, format_time(c.issued_at), c.spec_version, c.method, c is latest,
                                     not bad, checks))
    devs = tuple(DeviationView(d.id, d.approved_by, d.reason, format_time(d.declared_at), d.properties, d.run)
                 for d in book.deviations.get(lot_id, []))
    failing = tuple(str(f) for f in status[1]) if status else ()
    if status is None:
        state = "not_certified"
    elif not failing:
        state = "in_spec"
    elif any(not d.properties or {f.prop for f in status[1]} <= set(d.properties)
             for d in book.deviations.get(lot_id, [])):
        state = "released_under_deviation"
    else:
        state = "out_of_spec"
    return LotQuality(lot_id, book.materials.get(lot_id, "?"), state, failing, tuple(views), devs)
