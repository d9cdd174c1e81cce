"""The Smelter List, Mine List and per-metal figures of a customer declaration, from the delivered lots.

Why a module of its own: :mod:`lichain.services.emrt` assembles the declaration (questions, products, what is
missing); this module walks the sites behind the delivered metal. Processors are the refineries and recyclers
the metal passed through (RMI: smelters, refiners and processors; the precursor and cathode plants after them are
"downstream" in RMI's sense and are not listed); mines are the sites of the virgin source lots (an integrated
brine and carbonate operation appears in both lists). Shares come from :class:`lichain.services.emrt_calc.Delivered`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from lichain.core.codec import format_time
from lichain.core.diligence import RiskInterval
from lichain.core.diligence_emrt import (
    METAL_NAMES,
    MetalSummary,
    MineRow,
    MissingField,
    RiskShare,
    SmelterRow,
)
from lichain.core.diligence_status import audit_status_at
from lichain.services.emrt_calc import RECYCLED_CLASSES, Bool, Delivered
from lichain.storage.sql import SqlStore

__all__ = ["Lists", "SiteFacts", "build_lists", "site_facts"]

_EPS = 1e-9
_PROCESSOR_KINDS = ("refinery", "recycler")
_ID_SOURCE = "lichain site id (no RMI identification number on record)"


@dataclass(frozen=True, slots=True)
class Lists:
    """What :func:`build_lists` found: per-metal figures, the two lists, and the fields it could not fill."""

    metals: tuple[MetalSummary, ...]
    smelters: tuple[SmelterRow, ...]
    mines: tuple[MineRow, ...]
    missing: tuple[MissingField, ...]
    material_names: dict[str, str]


@dataclass(frozen=True, slots=True)
class SiteFacts:
    """A declared site as the lists show it (name, kind, country, operator, declared certifications)."""

    id: str
    name: str
    kind: str
    country: str
    organisation: str
    certifications: tuple[str, ...]


def site_facts(store: SqlStore) -> dict[str, SiteFacts]:
    from lichain.storage.lists_sql import declared_payloads, site_rows

    rows = site_rows(store)
    payloads = declared_payloads(store, "site", [r.id for r in rows])
    return {r.id: SiteFacts(r.id, r.name, r.kind, r.country, r.organisation,
                        tuple(json.loads(payloads[r.id]).get("certifications", ())) if r.id in payloads else ())
            for r in rows}


class _Walk:
    """Masks of the ledger's sites and risks, and the per-metal shares over the delivered lots."""

    def __init__(self, store: SqlStore, dl: Delivered, at: datetime, now: datetime,
                 next_steps: dict[str, str]) -> None:
        from lichain.services.diligence import lot_risks

        snap = dl.snap
        self.dl, self.next_steps = dl, next_steps
        self.sites = site_facts(store)
        statements = store.site_risks(list(self.sites))
        self.cahra_assessed = {r.site for r in statements if r.kind == "cahra"}
        self.audits: dict[str, list[str]] = defaultdict(list)
        for a in audit_status_at(statements, at):
            self.audits[a.site].append(f"{a.label()} ({a.id})")
        stated = [snap.site_ids.index(s) for s in {r.site for r in statements} if s in snap.site_ids]
        cand = np.flatnonzero(np.isin(snap.lot_site, stated)) if stated else np.zeros(0, np.int64)
        self.risk_masks: dict[tuple[str, str], tuple[RiskInterval, Bool]] = {}
        self.union = np.zeros(snap.n_lots, np.bool_)
        self.cahra = np.zeros(snap.n_lots, np.bool_)
        for i, ivs in lot_risks(store, snap, cand, now=now).items():
            self.union[i] = True
            for iv in ivs:
                self.cahra[i] |= iv.kind == "cahra"
                self.risk_masks.setdefault((iv.site, iv.id), (iv, np.zeros(snap.n_lots, np.bool_)))[1][i] = True
        n = len(snap.site_ids)
        virgin = dl.reset & (snap.lot_origin == 0)
        self.processors = {s: dl.site_lots(k) for k, s in enumerate(snap.site_ids)
                           if s in self.sites and self.sites[s].kind in _PROCESSOR_KINDS}
        self.mines = {snap.site_ids[k]: dl.site_lots(k) & virgin for k in range(n)
                      if (dl.site_lots(k) & virgin).any()}
        self.any_processor = np.zeros(snap.n_lots, np.bool_)
        for m in self.processors.values():
            self.any_processor |= m

    def risks(self, e: str, site: str) -> tuple[RiskShare, ...]:
        out = []
        for (s, _), (iv, mask) in sorted(self.risk_masks.items()):
            if s != site:
                continue
            share = self.dl.weighted(e, self.dl.through(e, mask))
            if share > _EPS:
                out.append(RiskShare(iv.id, iv.kind, iv.status, iv.category, format_time(iv.start),
                                     None if iv.end is None else format_time(iv.end), share))
        return tuple(out)

    def metal(self, e: str) -> tuple[MetalSummary, list[SmelterRow], list[MineRow]] | None:
        dl = self.dl
        total = float(dl.element_kg(e).sum())
        if total <= 0:
            return None
        name = METAL_NAMES.get(e, e)
        origins = dl.origins(e)
        p_share = {p: dl.weighted(e, dl.through(e, m)) for p, m in self.processors.items()}
        p_share = {p: v for p, v in p_share.items() if v > _EPS}
        from_m = {m: dl.from_sources(e, mask) for m, mask in self.mines.items()}
        m_share = {m: dl.weighted(e, v) for m, v in from_m.items()}
        m_share = {m: v for m, v in m_share.items() if v > _EPS}
        feeds: dict[str, list[str]] = defaultdict(list)  # processor -> mines
        recycled_in: dict[str, float] = {}
        for p in p_share:
            pm = self.processors[p]
            for m in m_share:
                if dl.weighted(e, dl.via(e, pm, from_m[m])) > _EPS:
                    feeds[p].append(m)
            rec = 0.0
            for c, word in RECYCLED_CLASSES.items():
                part = dl.weighted(e, dl.via(e, pm, origins[:, c]))
                if part > _EPS:
                    feeds[p].append(word)
                    rec += part
            recycled_in[p] = rec
        smelters = []
        for p, share in sorted(p_share.items(), key=lambda kv: -kv[1]):
            s = self.sites[p]
            mines = tuple(self.sites[m].name if m in self.sites else m for m in feeds[p] if m in self.sites) + tuple(
                w for w in feeds[p] if w in RECYCLED_CLASSES.values())
            countries = tuple(sorted({self.sites[m].country for m in feeds[p] if m in self.sites}))
            countries += tuple(w for w in feeds[p] if w in RECYCLED_CLASSES.values())
            smelters.append(SmelterRow(
                name, e, s.name, s.country, s.id, _ID_SOURCE, None, None, None, None, None, self.next_steps.get(p),
                mines, countries, "Yes" if recycled_in[p] >= share * (1 - 1e-9) else "No",
                f"{100 * share:.2f} % of the delivered {name.lower()} passed through this site", s.kind,
                s.organisation, share, share * total, tuple(self.audits.get(p, ())), s.certifications,
                self.risks(e, p)))
        mines_rows = []
        for m, share in sorted(m_share.items(), key=lambda kv: -kv[1]):
            s = self.sites[m]
            via = tuple(self.sites[p].name for p in p_share if m in feeds[p])
            note = ("source lots made at a processing site: an integrated operation whose own extraction is not "
                    "recorded separately" if s.kind in _PROCESSOR_KINDS else None)
            mines_rows.append(MineRow(
                name, e, via, s.name, s.id, _ID_SOURCE, s.country, None, None, None, None, None,
                self.next_steps.get(m), note, s.kind, s.organisation, share, share * total,
                tuple(self.audits.get(m, ())), s.certifications, self.risks(e, m)))
        unassessed = tuple(sorted(x for x in {*p_share, *m_share} if x not in self.cahra_assessed))
        summary = MetalSummary(
            name, e, total, dl.weighted(e, origins[:, 1] + origins[:, 2]),
            dl.weighted(e, dl.through(e, self.any_processor)), dl.weighted(e, dl.through(e, self.union)),
            dl.weighted(e, dl.through(e, self.cahra)), unassessed)
        return summary, smelters, mines_rows




def build_lists(store: SqlStore, dl: Delivered, at: datetime, now: datetime,
                next_steps: dict[str, str] | None = None) -> Lists:
    """Per-metal figures and the Smelter and Mine Lists of the delivered lots (audit status at ``at``)."""
    from lichain.storage.lists_sql import material_rows

    walk = _Walk(store, dl, at, now, next_steps or {})
    metals, smelters, mines = [], [], []
    order = sorted(dl.snap.elements, key=lambda e: METAL_NAMES.get(e, e))
    for e in order:
        got = walk.metal(e)
        if got is not None:
            metals.append(got[0])
            smelters += got[1]
            mines += got[2]
    missing = []
    for sheet, what in (("Smelter List", "Smelter"), ("Mine List", "Mine Facility")):
        if (smelters if sheet == "Smelter List" else mines):
            missing += [
                MissingField(sheet, f"{what} Identification Number (RMI)", "no RMI identification number is "
                             "recorded; the lichain site id is given with its source"),
                MissingField(sheet, f"{what} Street / City / State-Province", "site addresses are not recorded "
                             "in the ledger"),
                MissingField(sheet, f"{what} Contact Name / Email", "site contacts are not recorded in the ledger")]
    names = {r.code: r.name for r in material_rows(store)}
    return Lists(tuple(metals), tuple(smelters), tuple(mines), tuple(missing), names)
