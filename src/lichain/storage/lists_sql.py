"""Read queries behind the CLI's master-data and shipment lists: sites, materials, organisations, shipments.

Why a module of its own: the list use cases (:mod:`lichain.services.lists`) hold no SQL; every query they need
lives here, built with SQLAlchemy Core and bound parameters only. Retracted events are left out as everywhere
else (their rows stay on record in ``events``). Raw units: masses in mg, times in µs since the Unix epoch (UTC).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select

from lichain.storage import schema as s
from lichain.storage.sql import SqlStore

__all__ = [
    "MaterialRow",
    "ShipmentRow",
    "SiteRow",
    "count_lots",
    "declared_payloads",
    "delivered_lots",
    "lot_ids_like",
    "material_rows",
    "organisation_names",
    "shipment_rows",
    "site_rows",
]


@dataclass(frozen=True, slots=True)
class SiteRow:
    """A declared site with its live lot count."""

    id: str
    name: str
    kind: str
    country: str
    organisation: str
    grid_region: str | None
    lots: int


@dataclass(frozen=True, slots=True)
class MaterialRow:
    """A declared material with its live lots: count and total mass [mg]."""

    code: str
    name: str
    stage: str
    formula: str | None
    lots: int
    mass_mg: int


@dataclass(frozen=True, slots=True)
class ShipmentRow:
    """A live shipment with its lot and both ends' organisations (mass [mg], time [µs])."""

    id: str
    lot: str
    material: str
    mass_mg: int
    shipped_us: int
    from_site: str
    from_organisation: str
    to_site: str
    to_organisation: str
    mode: str


def _live(seq_col: Any) -> Any:
    return ~seq_col.in_(select(s.retractions.c.target_seq))


def site_rows(store: SqlStore) -> list[SiteRow]:
    """Every declared site, ordered by id, with how many live lots it produced."""
    n = (select(s.lots.c.site, func.count().label("n")).where(_live(s.lots.c.event_seq))
         .group_by(s.lots.c.site).subquery())
    q = (select(s.sites.c.id, s.sites.c.name, s.sites.c.kind, s.sites.c.country, s.sites.c.organisation,
                s.sites.c.grid_region, func.coalesce(n.c.n, 0).label("n"))
         .outerjoin(n, n.c.site == s.sites.c.id).order_by(s.sites.c.id))
    with store.read() as conn:
        return [SiteRow(r.id, r.name, r.kind, r.country, r.organisation, r.grid_region, int(r.n))
                for r in conn.execute(q)]


def material_rows(store: SqlStore) -> list[MaterialRow]:
    """Every declared material, ordered by code, with its live lots' count and total mass."""
    n = (select(s.lots.c.material, func.count().label("n"), func.sum(s.lots.c.mass_mg).label("mg"))
         .where(_live(s.lots.c.event_seq)).group_by(s.lots.c.material).subquery())
    q = (select(s.materials.c.code, s.materials.c.name, s.materials.c.stage, s.materials.c.formula,
                func.coalesce(n.c.n, 0).label("n"), func.coalesce(n.c.mg, 0).label("mg"))
         .outerjoin(n, n.c.material == s.materials.c.code).order_by(s.materials.c.code))
    with store.read() as conn:
        return [MaterialRow(r.code, r.name, r.stage, r.formula, int(r.n), int(r.mg)) for r in conn.execute(q)]


def organisation_names(store: SqlStore) -> list[str]:
    """Organisations named on live shipments as receivers (sites' operators come with :func:`site_rows`)."""
    col = s.shipments.c.to_organisation
    q = select(col).where(col.is_not(None), _live(s.shipments.c.event_seq)).distinct()
    with store.read() as conn:
        return sorted(str(x) for x in conn.execute(q).scalars())


def _shipments_query(organisation: str | None) -> Any:
    sh = s.shipments
    src, dst = s.sites.alias("src"), s.sites.alias("dst")
    to_org = func.coalesce(sh.c.to_organisation, dst.c.organisation)
    q = (select(sh.c.id, s.lots.c.id.label("lot"), s.lots.c.material, sh.c.mass_mg, sh.c.shipped_us, sh.c.from_site,
                src.c.organisation.label("from_org"), sh.c.to_site, to_org.label("to_org"), sh.c.mode)
         .join(s.lots, s.lots.c.idx == sh.c.lot_idx)
         .join(src, src.c.id == sh.c.from_site).join(dst, dst.c.id == sh.c.to_site)
         .where(_live(sh.c.event_seq)))
    if organisation is not None:
        q = q.where(or_(to_org == organisation, src.c.organisation == organisation))
    return q


def shipment_rows(store: SqlStore, organisation: str | None = None, *, limit: int | None = None,
                  offset: int = 0) -> tuple[list[ShipmentRow], int]:
    """Live shipments (to or from ``organisation`` when given) in shipping order, and how many there are in all.

    A shipment goes to the organisation named on it, else to the receiving site's operator; it comes from the
    sending site's operator.
    """
    q = _shipments_query(organisation)
    page = q.order_by(s.shipments.c.shipped_us, s.shipments.c.idx).offset(offset)
    if limit is not None:
        page = page.limit(limit)
    with store.read() as conn:
        total = int(conn.execute(select(func.count()).select_from(q.subquery())).scalar_one())
        rows = [ShipmentRow(r.id, r.lot, r.material, int(r.mass_mg), int(r.shipped_us), r.from_site, r.from_org,
                            r.to_site, r.to_org, r.mode) for r in conn.execute(page)]
    return rows, total


def delivered_lots(organisation: str) -> Any:
    """A sub-select of the ``idx`` of lots with a live shipment to ``organisation`` (for ``lots --customer``)."""
    sh, dst = s.shipments, s.sites
    to_org = func.coalesce(sh.c.to_organisation, dst.c.organisation)
    return (select(sh.c.lot_idx).join(dst, dst.c.id == sh.c.to_site)
            .where(to_org == organisation, _live(sh.c.event_seq)))


def lot_ids_like(store: SqlStore, fragments: Iterable[str], cap: int = 2000, each: int = 500) -> list[str]:
    """Lot ids containing one of ``fragments`` (at most ``each`` per fragment, in the order given, ``cap`` in all):
    candidates for a did-you-mean."""
    found: dict[str, None] = {}
    with store.read() as conn:
        for f in fragments:
            if not f or len(found) >= cap:
                continue
            q = select(s.lots.c.id).where(s.lots.c.id.contains(f, autoescape=True)).limit(each)
            found.update(dict.fromkeys(str(x) for x in conn.execute(q).scalars()))
    return list(found)[:cap]


def declared_payloads(store: SqlStore, kind: str, ids: Iterable[str]) -> dict[str, str]:
    """Canonical payloads of the stored declarations of sites (``kind`` "site") or materials among ``ids``."""
    table, key = (s.sites, s.sites.c.id) if kind == "site" else (s.materials, s.materials.c.code)
    wanted = sorted(set(ids))
    out: dict[str, str] = {}
    if not wanted:
        return out
    q = (select(key.label("key"), s.events.c.payload).join(s.events, s.events.c.seq == table.c.event_seq)
         .where(key.in_(wanted)))
    with store.read() as conn:
        for r in conn.execute(q):
            out[r.key] = r.payload
    return out


def count_lots(store: SqlStore, *, stage: str | None = None, site: str | None = None, material: str | None = None,
               customer: str | None = None, operators: Sequence[str] | None = None) -> int:
    """How many live lots ``lots`` would list with these filters and no limit."""
    from lichain.storage.queries import lot_filters

    q = (select(func.count()).select_from(s.lots).join(s.materials, s.materials.c.code == s.lots.c.material)
         .where(_live(s.lots.c.event_seq)))
    q = lot_filters(q, stage=stage, site=site, material=material, customer=customer,
                    operators=operators)  # the same as `lots` lists
    with store.read() as conn:
        return int(conn.execute(q).scalar_one())
