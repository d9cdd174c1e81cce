"""Per-site sums of the ESG report: energy, Scope 1/2 emissions, water, losses, inputs and products of a period.

Why a module of its own: the summing (activity rows resolved to factors once per datum context, exact ``Decimal``
until JSON) is the heavy half of :mod:`lichain.services.esg`; the report module shapes and splits what this
sums. Rows come from :mod:`lichain.storage.esg_sql`; definitions are in ``docs/esg.md``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from lichain.core.emissions import PHYSICAL_SOURCES, line_factor
from lichain.core.factors import Factor, FactorProblem, FactorResolver
from lichain.core.model import DEFAULT_ELEMENTS, FactorOverride, Site
from lichain.core.period import Period
from lichain.storage.esg_sql import read_esg_rows
from lichain.storage.sql import SqlStore, to_us

__all__ = ["Acc", "read_period", "recycled_inputs"]

_ZERO = Decimal(0)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNITS = {"electricity": "kwh", "fuel": "mj", "water": "m3", "process": "kgco2e"}


# --- per-site sums --------------------------------------------------------------------------------------
def _decimals() -> defaultdict[str, Decimal]:
    return defaultdict(Decimal)


@dataclass
class Acc:
    """Everything summed for one site: energy [kWh, MJ], emissions [kg CO2e], water [m³], masses [mg]."""

    site: Site
    runs: int = 0
    commissioned: int = 0
    elec: defaultdict[str, Decimal] = field(default_factory=_decimals)  # source → kWh
    fuel: defaultdict[str, Decimal] = field(default_factory=_decimals)  # kind → MJ
    water: Decimal = _ZERO
    s1: defaultdict[str, Decimal] = field(default_factory=_decimals)  # cause → kg CO2e
    s2_loc: defaultdict[str, Decimal] = field(default_factory=_decimals)  # source → kg CO2e
    s2_mkt: defaultdict[str, Decimal] = field(default_factory=_decimals)
    losses: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))  # element → mg
    scrap_mg: int = 0
    inflow: list[tuple[int, int]] = field(default_factory=list)  # (lot idx, mg) entering the site
    recycled: dict[str, list[float]] = field(default_factory=dict)  # element → [all, pre, post] [mg·ppb]
    products: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # material → [(lot idx, mg)]
    made_recycled: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # material → el → [all, rec]
    problems: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, message) → activity rows
    complete: bool = True

    def problem(self, p: FactorProblem, n: int = 1) -> None:
        self.problems[(p.kind, p.message)] = self.problems.get((p.kind, p.message), 0) + n
        self.complete &= p.kind != "missing"


def _time(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(us))


def _scope1_factor(r: FactorResolver, keys: list[str], per: str, site: Site, t: datetime,
                   what: str) -> tuple[Decimal, list[Factor], list[FactorProblem]]:
    """First emission factor per ``per`` among ``keys``; a ``basis`` note when it is not combustion-only."""
    for k in keys:
        f = r.resolve(k, site=site.id, time=t)
        if isinstance(f, Factor) and f.is_emission and f.per == per:
            if "combustion" in k or "combustion" in f.basis:
                return f.value, [f], []
            note = (f"{what}: no combustion-only factor, {k} ({f.basis or 'basis not stated'}) used; "
                    "Scope 1 includes upstream emissions")
            return f.value, [f], [FactorProblem("basis", (k,), note)]
    miss = FactorProblem("missing", tuple(keys), f"{what}: no emission factor ({' / '.join(keys)})")
    return _ZERO, [], [miss]


def _activities(acc: Acc, rows: list[Any], r: FactorResolver, used: dict[Factor, None]) -> None:
    """Sum activity rows ``(kind, name, amount, unit, factor_key, instrument, time_us)`` of one site.

    Rows are summed per datum context and override period first, so each context is resolved once.
    """
    bounds = [to_us(b) for b in r.boundaries()]
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for kind, name, amount, unit, fk, inst, t_us in rows:
        g = groups.setdefault((kind, name, unit, fk, inst, bisect_right(bounds, t_us)), [_ZERO, t_us, 0])
        g[0] += Decimal(amount)
        g[2] += 1
    site = acc.site
    for (kind, name, unit, fk, inst, _), (amt, t_us, n) in groups.items():
        t, what = _time(t_us), f"{kind} {name} at site {site.id}"
        fs: list[Factor] = []
        ps: list[FactorProblem] = []
        if kind in _UNITS and _UNITS[kind] != unit.casefold().replace(" ", "").replace("³", "3"):
            ps = [FactorProblem("missing", (), f"{what}: unit {unit!r} not understood, datum left out")]
        elif kind == "water":
            acc.water += amt
        elif kind == "process":
            acc.s1["process"] += amt
        elif kind == "fuel":
            acc.fuel[name] += amt
            v, fs, ps = _scope1_factor(r, [f"fuel:{name}:combustion", f"fuel:{name}"], "mj", site, t, what)
            acc.s1["fuels"] += amt * v
        elif kind == "electricity" and name in PHYSICAL_SOURCES:  # an owned captive plant: Scope 1
            acc.elec[name] += amt
            base = PHYSICAL_SOURCES[name]
            keys = [*([fk] if fk else []), f"{base}:combustion", base]
            v, fs, ps = _scope1_factor(r, keys, "kwh", site, t, what)
            acc.s1["captive_electricity"] += amt * v
        elif kind == "electricity":
            acc.elec[name] += amt
            lf = line_factor(kind, name, fk, inst, site, t, r)
            acc.s2_loc[name] += amt * lf.location
            acc.s2_mkt[name] += amt * lf.market
            fs, ps = list(lf.factors), list(lf.problems)
        # reagents are purchased goods (Scope 3): not an indicator of this report
        used.update(dict.fromkeys(fs))
        for p in ps:
            acc.problem(p, n)


# --- reading --------------------------------------------------------------------------------------------
def read_period(store: SqlStore, period: Period, accs: dict[str, Acc], used: dict[Factor, None]) -> dict[str, Any]:
    """Fill ``accs`` (site id → sums) from the period's live runs and commissioned lots."""
    rows = read_esg_rows(store, to_us(period.start), to_us(period.end))
    resolver = FactorResolver(overrides=[
        FactorOverride(o.key, Decimal(o.value), o.unit, o.source, o.site,
                       None if o.valid_from_us is None else _time(o.valid_from_us),
                       None if o.valid_to_us is None else _time(o.valid_to_us)) for o in rows.overrides])
    stage, names = {m[0]: m[1] for m in rows.materials}, {m[0]: m[2] for m in rows.materials}
    site_of = {r.id: Site(r.id, r.name, r.kind, r.country, r.organisation, r.grid_region) for r in rows.sites}

    def acc(sid: str) -> Acc:
        if sid not in accs:
            accs[sid] = Acc(site_of.get(sid) or Site(sid, sid, "", "", ""))
        return accs[sid]

    for sid, n in rows.run_count:
        acc(sid).runs = n
    for sid, n in rows.source_count:
        acc(sid).commissioned = n
    per_site: dict[str, list[Any]] = defaultdict(list)
    for r in rows.activities:
        per_site[r[0]].append(tuple(r[1:]))
    for sid, act in per_site.items():
        _activities(acc(sid), act, resolver, used)
    for sid, el, mg in rows.losses:
        acc(sid).losses[el] += mg
    for sid, idx, mat, mg, run_idx in rows.outputs:
        if stage.get(mat) != "scrap":
            acc(sid).products.setdefault(mat, []).append((idx, mg))
        elif run_idx is not None:  # scrap made by the site's runs (received scrap is an input, not waste)
            acc(sid).scrap_mg += mg
    for sid, li, mg, made_site, made_run in rows.inputs:
        if made_site != sid or made_run is None:  # lots made by a run at this site are not inputs to the site
            acc(sid).inflow.append((li, mg))
    return {"names": names, "stage": stage, "resolver": resolver, "assay": rows.assay,
            "organisations": sorted({r.organisation for r in rows.sites})}


# --- other services -------------------------------------------------------------------------------------
def recycled_inputs(store: SqlStore, accs: list[Acc], assay: dict[int, dict[str, int]]) -> None:
    """Recycled element mass entering each site: element mass of each input × its physical pre-/post-consumer
    share, propagated over the lot graph (:func:`lichain.analysis.propagate.origin_shares`)."""
    from lichain.analysis.shares import ORIGINS, origin_shares
    from lichain.services.snapshot import load_snapshot

    if not any(a.inflow or a.products for a in accs):
        return
    ls = load_snapshot(store)
    snap, sidx = ls.snapshot, ls.store_lot_idx
    pre, post = ORIGINS.index("pre_consumer"), ORIGINS.index("post_consumer")
    shares = {e: origin_shares(snap, e) for e in DEFAULT_ELEMENTS if e in snap.elements}
    for a in accs:  # recycled content of the lots the site made: element mass × the lot's own physical share
        for mat, made in a.products.items():
            pos = np.minimum(np.searchsorted(sidx, np.asarray([li for li, _ in made], np.int64)),
                             max(len(sidx) - 1, 0)).tolist()
            for (li, mg), j in zip(made, pos, strict=True):
                known = len(sidx) > 0 and int(sidx[j]) == li
                for e, sh in shares.items():
                    q = mg * assay.get(li, {}).get(e, 0)
                    if q:
                        v = a.made_recycled.setdefault(mat, {}).setdefault(e, [0, 0.0])
                        v[0] += q
                        if known and sh.defined[j]:
                            v[1] += q * float(sh.values[j, pre] + sh.values[j, post])
    for a in accs:
        lots = np.asarray([li for li, _ in a.inflow], np.int64)
        pos = np.minimum(np.searchsorted(sidx, lots), max(len(sidx) - 1, 0)).tolist()
        for (li, mg), j in zip(a.inflow, pos, strict=True):
            known = len(sidx) > 0 and int(sidx[j]) == li
            for e, sh in shares.items():
                q = mg * assay.get(li, {}).get(e, 0)
                if q:
                    v = a.recycled.setdefault(e, [0, 0.0, 0.0])
                    v[0] += q
                    if known and sh.defined[j]:
                        v[1] += q * float(sh.values[j, pre])
                        v[2] += q * float(sh.values[j, post])
