"""Use cases that list the ledger's master data and shipments, and check names a person typed.

Why this exists: "which sites, materials and organisations does the ledger know?" and "which lots did we send
to (or receive from) whom?" are everyday questions; each is one function here returning frozen, typed results
(the ``--json`` shapes, and the REST API's response models). A name that is not on record is refused with the
closest known names (difflib), so a typo never reads as "nothing found". The SQL lives in
:mod:`lichain.storage.lists_sql`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from lichain.core.codec import format_time
from lichain.core.errors import NotFoundError
from lichain.core.quantities import mg_to_kg
from lichain.storage import lists_sql as q
from lichain.storage.sql import SqlStore

__all__ = [
    "MaterialInfo",
    "MaterialList",
    "OrganisationInfo",
    "OrganisationList",
    "ShipmentInfo",
    "ShipmentList",
    "SiteInfo",
    "SiteList",
    "count_lots",
    "list_materials",
    "list_organisations",
    "list_shipments",
    "list_sites",
    "require_material",
    "require_organisation",
    "require_site",
    "require_stage",
    "suggest",
    "unknown",
    "unknown_lot",
]


@dataclass(frozen=True, slots=True)
class SiteInfo:
    """A declared site: what it is, where, who operates it, and how many live lots it produced."""

    id: str
    name: str
    kind: str
    country: str
    organisation: str
    grid_region: str | None
    lots: int


@dataclass(frozen=True, slots=True)
class SiteList:
    """Every declared site, ordered by id (the ``sites --json`` shape)."""

    sites: tuple[SiteInfo, ...]


@dataclass(frozen=True, slots=True)
class MaterialInfo:
    """A declared material with its live lots: count and total mass [kg]."""

    code: str
    name: str
    stage: str
    formula: str | None
    lots: int
    mass_kg: float


@dataclass(frozen=True, slots=True)
class MaterialList:
    """Every declared material, ordered by code (the ``materials --json`` shape)."""

    materials: tuple[MaterialInfo, ...]


@dataclass(frozen=True, slots=True)
class OrganisationInfo:
    """An organisation on record: the sites it operates (may be none: a receiver named only on shipments)."""

    name: str
    sites: tuple[str, ...]
    countries: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OrganisationList:
    """Every organisation on record, ordered by name (the ``organisations --json`` shape)."""

    organisations: tuple[OrganisationInfo, ...]


@dataclass(frozen=True, slots=True)
class ShipmentInfo:
    """A live shipment: its lot, mass [kg], time (UTC), both ends and, for a chosen organisation, the direction.

    ``direction`` is ``received`` (shipped to the organisation), ``sent`` (shipped from one of its sites),
    ``internal`` (both), or ``null`` when no organisation was chosen.
    """

    id: str
    lot: str
    material: str
    mass_kg: float
    shipped_at: str
    from_site: str
    from_organisation: str
    to_site: str
    to_organisation: str
    mode: str
    direction: str | None


@dataclass(frozen=True, slots=True)
class ShipmentList:
    """Live shipments in shipping order (the ``shipments --json`` shape): ``total`` in all, from ``offset``."""

    organisation: str | None
    total: int
    offset: int
    shipments: tuple[ShipmentInfo, ...]


def _edits(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def suggest(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """Known names closest to ``name``: case-insensitive difflib ratio ≥ 0.6, fewest edits first."""
    by_lower: dict[str, str] = {}
    for k in known:
        by_lower.setdefault(k.casefold(), k)
    key = name.casefold()
    m = difflib.SequenceMatcher()
    m.set_seq2(key)
    scored = []
    for k in by_lower:
        m.set_seq1(k)
        if m.real_quick_ratio() >= 0.6 and m.quick_ratio() >= 0.6 and (r := m.ratio()) >= 0.6:
            scored.append((r, k))
    scored.sort(reverse=True)
    near = [k for r, k in scored[:50] if r >= scored[0][0] - 0.05] if scored else []
    near.sort(key=lambda h: (_edits(key, h), h))  # many ids tie on the ratio: fewest edits decide
    return [by_lower[h] for h in near[:n]]


def unknown(what: str, name: str, known: Iterable[str]) -> NotFoundError:
    """The error for a name not on record, naming the closest known names when there are any."""
    hints = suggest(name, known)
    if not hints:
        return NotFoundError(f"unknown {what} {name!r}")
    return NotFoundError(f"unknown {what} {name!r}; did you mean " + " or ".join(repr(h) for h in hints) + "?")


def list_sites(store: SqlStore) -> SiteList:
    """Every declared site with its live lot count."""
    return SiteList(tuple(SiteInfo(r.id, r.name, r.kind, r.country, r.organisation, r.grid_region, r.lots)
                          for r in q.site_rows(store)))


def list_materials(store: SqlStore) -> MaterialList:
    """Every declared material with its live lots' count and mass."""
    return MaterialList(tuple(MaterialInfo(r.code, r.name, r.stage, r.formula, r.lots, float(mg_to_kg(r.mass_mg)))
                              for r in q.material_rows(store)))


def list_organisations(store: SqlStore) -> OrganisationList:
    """Site operators and receivers named on shipments, with their sites and countries."""
    sites: dict[str, list[q.SiteRow]] = {}
    for r in q.site_rows(store):
        sites.setdefault(r.organisation, []).append(r)
    for name in q.organisation_names(store):
        sites.setdefault(name, [])
    return OrganisationList(tuple(
        OrganisationInfo(name, tuple(r.id for r in rows), tuple(sorted({r.country for r in rows})))
        for name, rows in sorted(sites.items())))


def _known_organisations(store: SqlStore) -> set[str]:
    return {r.organisation for r in q.site_rows(store)} | set(q.organisation_names(store))


def require_organisation(store: SqlStore, name: str) -> str:
    """``name`` if an organisation of that exact name is on record, else :class:`NotFoundError` with hints."""
    known = _known_organisations(store)
    if name not in known:
        raise unknown("organisation", name, known)
    return name


def require_site(store: SqlStore, site: str) -> str:
    """``site`` if declared, else :class:`NotFoundError` naming the closest site ids."""
    known = [r.id for r in q.site_rows(store)]
    if site not in known:
        raise unknown("site", site, known)
    return site


def require_material(store: SqlStore, code: str) -> str:
    """``code`` if declared, else :class:`NotFoundError` naming the closest material codes."""
    known = [r.code for r in q.material_rows(store)]
    if code not in known:
        raise unknown("material", code, known)
    return code


def require_stage(stage: str) -> str:
    """``stage`` if it is one of the model's material stages, else :class:`NotFoundError` naming the closest."""
    from lichain.core.model import Stage

    known = [s.value for s in Stage]
    if stage not in known:
        raise unknown("stage", stage, known)
    return stage


def _fragments(lot_id: str) -> list[str]:
    """Pieces of a mistyped lot id likely to survive the typo, most distinctive (longest) first: its segments
    between separators, and its first and last four characters."""
    parts = [p for p in re.split(r"[/:._\-]", lot_id) if len(p) >= 3]
    return sorted({*parts, lot_id[:4], lot_id[-4:]} - {""}, key=lambda f: (-len(f), f))


def unknown_lot(store: SqlStore, lot_id: str, also: Sequence[str] = ()) -> NotFoundError:
    """The error for an unknown lot, naming close lot ids (found among ids sharing a piece of it)."""
    candidates = q.lot_ids_like(store, _fragments(lot_id))
    return unknown("lot", lot_id, [*candidates, *also])


def _time(us: int) -> str:
    return format_time(datetime.fromtimestamp(us // 1_000_000, UTC).replace(microsecond=us % 1_000_000))


def _direction(r: q.ShipmentRow, organisation: str | None) -> str | None:
    if organisation is None:
        return None
    to, frm = r.to_organisation == organisation, r.from_organisation == organisation
    return "internal" if to and frm else "received" if to else "sent"


def list_shipments(store: SqlStore, organisation: str | None = None, *, limit: int | None = 100,
                   offset: int = 0) -> ShipmentList:
    """Live shipments to or from ``organisation`` (all when None), oldest first; unknown names are refused."""
    if organisation is not None:
        require_organisation(store, organisation)
    rows, total = q.shipment_rows(store, organisation, limit=limit, offset=offset)
    return ShipmentList(organisation, total, offset, tuple(
        ShipmentInfo(r.id, r.lot, r.material, float(mg_to_kg(r.mass_mg)), _time(r.shipped_us), r.from_site,
                     r.from_organisation, r.to_site, r.to_organisation, r.mode, _direction(r, organisation))
        for r in rows))


def count_lots(store: SqlStore, *, stage: str | None = None, site: str | None = None, material: str | None = None,
               customer: str | None = None, operators: Sequence[str] | None = None) -> int:
    """How many live lots match the ``lots`` filters (to say how many a limited listing left out)."""
    return q.count_lots(store, stage=stage, site=site, material=material, customer=customer, operators=operators)
