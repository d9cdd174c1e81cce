"""Use case: the due-diligence view of one lot: where each element came from and what risk it passed through.

For every element of the lot (Co, Ni, Li, Mn, …): its origin by mine (source lots' sites), by processor (share
of the element that passed through each processing site of its upstream) and by country, and the share that
passed through a site *while* the site carried a risk (an open red flag, a CAHRA listing, artisanal mining, a
lapsed or suspended audit: :mod:`lichain.core.diligence`). A lot's stay at the site where it was made runs from
its production until the last of its mass left that site (consumed there or shipped away; still there: until
now), so a flag raised after a lot left a mine does not taint it, and one in force while it was there does.
Sites of the upstream with no risk statement on record are listed as not assessed: no statement is not "no risk".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from lichain.analysis.diligence import through_share
from lichain.analysis.snapshot import Snapshot
from lichain.analysis.trace import aggregate, trace_up
from lichain.core.codec import format_time
from lichain.core.diligence import ANNEX_X_CATEGORIES, OECD_ANNEX_II, RiskInterval, risk_intervals
from lichain.core.ports import Movement
from lichain.services.snapshot import load_snapshot, lot_position
from lichain.storage.sql import SqlStore

__all__ = ["DiligenceReport", "ElementDiligence", "FlagHit", "OriginShare", "diligence", "lot_risks"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class OriginShare:
    """A mine, processor or country and the fraction of the lot's element from (or through) it [kg kg⁻¹]."""

    name: str
    share: float
    element_kg: float


@dataclass(frozen=True, slots=True)
class ElementDiligence:
    """One element of the lot: its mass [kg], origins, and the share that passed through a site at risk.

    ``sources`` are the sites of the source lots (mines, concentrators, recyclers' feedstock), ``processors`` the
    sites whose runs the element passed through (share of the element through each; they overlap), ``countries``
    the source lots' countries.
    """

    element: str
    element_kg: float
    at_risk_share: float
    sources: tuple[OriginShare, ...]
    processors: tuple[OriginShare, ...]
    countries: tuple[OriginShare, ...]


@dataclass(frozen=True, slots=True)
class FlagHit:
    """A risk in force at an upstream site while material of this lot was there.

    ``lots`` counts the upstream lots made at the site during the risk; ``share`` is, per element, the fraction
    of this lot's element that passed through them.
    """

    site: str
    id: str
    kind: str
    status: str
    category: str | None
    category_label: str | None
    start: str
    end: str | None
    source: str
    reference: str | None
    lots: int
    share: dict[str, float]


@dataclass(frozen=True, slots=True)
class DiligenceReport:
    """Outcome of ``lichain diligence LOT`` (the ``diligence --json`` shape)."""

    lot: str
    material: str
    elements: tuple[ElementDiligence, ...]
    flags: tuple[FlagHit, ...]
    sites_not_assessed: tuple[str, ...]
    method: str


_METHOD = ("Element-mass-weighted shares over the lot graph. A lot is at risk when it was made at a site that "
           "carried a risk (open or mitigating red flag, CAHRA listing, artisanal mining, lapsed, suspended or "
           "non-conformant audit) at some time between its production and the moment the last of it left that "
           "site; the share at risk is the fraction of the element that passed through such a lot. OECD Due "
           "Diligence Guidance (2016) Annex II; Regulation (EU) 2023/1542 Art. 48-52 and Annex X.")


def _stay(movements: list[Movement], home: str, produced: datetime, now: datetime) -> tuple[datetime, datetime]:
    """[production, last departure from ``home``]; still partly there: until ``now``."""
    left = [m for m in movements if m.site == home and m.mass_mg < 0]
    stock = sum(m.mass_mg for m in movements if m.site == home)
    if stock > 0 or not left:
        return produced, now
    return produced, max(m.at for m in left)


def _shares(groups: dict[str, dict[str, object]], e: str) -> tuple[OriginShare, ...]:
    out = []
    for name, g in groups.items():
        share = g["share"][e]  # type: ignore[index]
        kg = g["element_kg"][e]  # type: ignore[index]
        if kg > 0:
            out.append(OriginShare(name, float(share), float(kg)))
    return tuple(sorted(out, key=lambda o: -o.share))


def _at_root(snap: Snapshot, e: str, mask: np.ndarray, root: int) -> float:
    v = float(through_share(snap, e, mask).values[root])
    return v if np.isfinite(v) else 0.0


_BY_SITE: dict[str, tuple[int, dict[str, list[RiskInterval]]]] = {}  # url -> (version, every site's intervals)


def _intervals_by_site(store: SqlStore, sites: set[str], version: int | None) -> dict[str, list[RiskInterval]]:
    """The risk intervals of ``sites`` by site; with ``version`` (a sequence number that moves whenever a site
    risk statement or a retraction is recorded), every site's, read once per version and kept."""
    got = _BY_SITE.get(store.url) if version is not None else None
    if got is not None and got[0] == version:
        return got[1]
    by_site: dict[str, list[RiskInterval]] = {}
    for iv in risk_intervals(store.site_risks(None if version is not None else sorted(sites))):
        by_site.setdefault(iv.site, []).append(iv)
    if version is not None:
        _BY_SITE[store.url] = (version, by_site)
    return by_site


def lot_risks(store: SqlStore, snap: Snapshot, lots: np.ndarray, *, now: datetime | None = None,
              version: int | None = None) -> dict[int, list[RiskInterval]]:
    """For lots of ``snap`` (positions): the risks in force at each one's site while it was there (at risk only).

    ``version``: a sequence number that moves whenever a site risk statement or a retraction is recorded (e.g.
    :func:`lichain.storage.footprint_sql.last_seq_of` over those kinds and more): the sites' intervals are then
    read once per version.
    """
    now = now or datetime.now(UTC)
    site_of = {int(i): snap.site_ids[int(snap.lot_site[i])] for i in lots if snap.lot_site[i] >= 0}
    by_site = _intervals_by_site(store, set(site_of.values()), version)
    wanted = [i for i, site in site_of.items() if site in by_site]
    moves = store.movements([snap.lot_id(i) for i in wanted]) if wanted else {}
    out: dict[int, list[RiskInterval]] = {}
    for i in wanted:
        site = site_of[i]
        produced = _EPOCH + timedelta(seconds=int(snap.lot_time[i]))
        start, end = _stay(moves.get(snap.lot_id(i), []), site, produced, now)
        found = [iv for iv in by_site[site] if iv.overlaps(start, end)]
        if found:
            out[i] = found
    return out


def diligence(store: SqlStore, lot_id: str, *, now: datetime | None = None, snap: Snapshot | None = None
              ) -> DiligenceReport:
    """The due-diligence view of one lot (see the module documentation).

    ``snap``: a snapshot holding the lot's upstream as the ledger's head has it, e.g. the lot's upstream closure
    alone (:func:`lichain.analysis.closure.upstream_part`, the same report at per-lot cost); default the ledger's.
    """
    snap = load_snapshot(store).snapshot if snap is None else snap
    root = lot_position(snap, lot_id)
    tr = trace_up(snap, root)
    lots = np.asarray(tr.lots)
    elements = [e for k, e in enumerate(snap.elements) if snap.element_kg[root, k] > 0]
    sites = {int(s) for s in snap.lot_site[lots] if s >= 0}
    site_ids = {s: snap.site_ids[s] for s in sites}
    hits = lot_risks(store, snap, lots, now=now)
    statements = store.site_risks(sorted(site_ids.values()))
    masks: dict[tuple[str, str], np.ndarray] = {}
    union = np.zeros(snap.n_lots, np.bool_)
    for i, ivs in hits.items():
        union[i] = True
        for iv in ivs:
            masks.setdefault((iv.site, iv.id), np.zeros(snap.n_lots, np.bool_))[i] = True
    leaves = aggregate(snap, tr, "site")
    countries = aggregate(snap, tr, "country")
    processor_sites = sorted({site_ids[int(s)] for i, s in zip(lots, snap.lot_site[lots], strict=True)
                              if s >= 0 and not snap.is_source[i]})
    proc_masks = {p: np.isin(np.arange(snap.n_lots), lots) & (snap.lot_site == snap.site_ids.index(p))
                  for p in processor_sites}
    out_elements = []
    for e in elements:
        k = snap.element_index(e)
        procs = tuple(sorted((OriginShare(p, _at_root(snap, e, m, root),
                                          _at_root(snap, e, m, root) * float(snap.element_kg[root, k]))
                              for p, m in proc_masks.items()), key=lambda o: -o.share))
        out_elements.append(ElementDiligence(e, float(snap.element_kg[root, k]), _at_root(snap, e, union, root),
                                             _shares(leaves, e), tuple(p for p in procs if p.share > 0),
                                             _shares(countries, e)))
    flags = []
    seen: set[tuple[str, str, datetime]] = set()
    for ivs in hits.values():
        for iv in ivs:
            key = (iv.site, iv.id, iv.start)
            if key in seen:
                continue
            seen.add(key)
            m = masks[(iv.site, iv.id)]
            label = OECD_ANNEX_II.get(iv.category or "") or ANNEX_X_CATEGORIES.get(iv.category or "")
            flags.append(FlagHit(iv.site, iv.id, iv.kind, iv.status, iv.category, label, format_time(iv.start),
                                 None if iv.end is None else format_time(iv.end), iv.source, iv.reference,
                                 int(m.sum()), {e: _at_root(snap, e, m, root) for e in elements}))
    assessed = {r.site for r in statements}
    leaf_sites = {site_ids[int(snap.lot_site[i])] for i in lots[np.asarray(tr.leaf)] if snap.lot_site[i] >= 0}
    not_assessed = tuple(sorted((leaf_sites | set(processor_sites)) - assessed))
    return DiligenceReport(snap.lot_id(root), snap.material_codes[snap.lot_material[root]], tuple(out_elements),
                           tuple(sorted(flags, key=lambda f: (-max(f.share.values(), default=0.0), f.site))),
                           not_assessed, _METHOD)
