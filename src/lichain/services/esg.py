"""Use case: the ESG management report of a period: per site energy, Scope 1/2, water, waste, circularity.

Why: the ESG team reports site indicators per period from the same ledger that records production, so every
number traces to recorded runs and activity data and replays exactly. The JSON this returns is the report;
the HTML page (:mod:`lichain.io.report_html`) and the CLI only render it. Definitions are in ``docs/esg.md``:

* a run belongs to the period by its **end time**; a commissioned source lot (e.g. mined ore) by its
  production time; retracted events are left out;
* **Scope 1** (GHG Protocol Corporate Standard, 2004): fuel combustion (``fuel:<kind>:combustion`` factors),
  direct process emissions, and electricity from **captive plants** (``captive_coal``, ``captive_gas``): the
  group operates them, so their stack emissions are its own, Scope 1 and never Scope 2;
* **Scope 2** (GHG Protocol Scope 2 Guidance, 2015): purchased electricity (grid, direct line, PPA, guarantees
  of origin), location- and market-based, with the footprint's factor rules
  (:func:`lichain.core.emissions.line_factor`); reagents, water supply and transport are Scope 3, left out;
* recycled input shares use the lot graph's physical shares
  (:func:`lichain.analysis.propagate.origin_shares`); recovery comes from
  :func:`lichain.services.circularity.recovery`, product footprints from
  :func:`lichain.services.footprint.ledger_footprint`.

Energy, emissions, water and waste are exact (``Decimal``) until they become JSON numbers, once, at the end.
"""

from __future__ import annotations

import difflib
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from lichain.core.emissions import PHYSICAL_SOURCES, line_factor
from lichain.core.errors import NotFoundError, PeriodError
from lichain.core.factors import Factor, FactorProblem, FactorResolver
from lichain.core.model import DEFAULT_ELEMENTS, FactorOverride, Site
from lichain.core.period import Period, parse_period
from lichain.services.esg_kpi import key_figures, previous_period
from lichain.storage.esg_sql import ledger_owners, read_esg_rows, site_rows
from lichain.storage.sql import SqlStore, to_us

__all__ = ["KWH_TO_MJ", "Period", "PeriodError", "esg_report", "parse_period"]

KWH_TO_MJ = Decimal("3.6")

_ZERO = Decimal(0)
_KG_PER_MG = Decimal(10) ** -6
_KG_PER_MG_PPB = Decimal(10) ** -15
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SCOPE1_CAUSES = ("fuels", "process", "captive_electricity")
_UNITS = {"electricity": "kwh", "fuel": "mj", "water": "m3", "process": "kgco2e"}
_METHOD = {
    "period": "runs by end time, commissioned source lots by production time; [start, end) in UTC",
    "scope1": "fuel combustion (combustion factors) + recorded process emissions + captive-plant electricity "
              "(a plant the group operates: Scope 1, GHG Protocol Corporate Standard)",
    "scope2": "purchased electricity (grid, direct line, PPA, guarantee of origin), location- and "
              "market-based (GHG Protocol Scope 2 Guidance 2015)",
    "recycled_input": "element mass of the inputs entering the site (consumed by its runs, not made at the "
                      "site) × their physical pre-/post-consumer share, element-weighted over the lot graph",
    "recovery": "circularity service: element in recovered salts ÷ element in black mass consumed, runs "
                "started in the period; targets of lichain.core.targets, indicative comparison",
    "organisation": "operational control: the reporting organisation's sites (Scope 1+2); other "
                    "organisations' sites reported apart under scope3_context",
    "kpis": "key figures over the reporting organisation's sites; trend against the previous period of the "
            "same calendar shape (esg_kpi)",
    "footprint": "footprint service: cradle-to-gate intensity per lot on lifecycle factors; per material the "
                 "mass-weighted mean over the lots the site made in the period",
}


# --- per-site sums --------------------------------------------------------------------------------------
def _decimals() -> defaultdict[str, Decimal]:
    return defaultdict(Decimal)


@dataclass
class _Acc:
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


def _activities(acc: _Acc, rows: list[Any], r: FactorResolver, used: dict[Factor, None]) -> None:
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
def _read(store: SqlStore, period: Period, accs: dict[str, _Acc], used: dict[Factor, None]) -> dict[str, Any]:
    """Fill ``accs`` (site id → sums) from the period's live runs and commissioned lots."""
    rows = read_esg_rows(store, to_us(period.start), to_us(period.end))
    resolver = FactorResolver(overrides=[
        FactorOverride(o.key, Decimal(o.value), o.unit, o.source, o.site,
                       None if o.valid_from_us is None else _time(o.valid_from_us),
                       None if o.valid_to_us is None else _time(o.valid_to_us)) for o in rows.overrides])
    stage, names = {m[0]: m[1] for m in rows.materials}, {m[0]: m[2] for m in rows.materials}
    site_of = {r.id: Site(r.id, r.name, r.kind, r.country, r.organisation, r.grid_region) for r in rows.sites}

    def acc(sid: str) -> _Acc:
        if sid not in accs:
            accs[sid] = _Acc(site_of.get(sid) or Site(sid, sid, "", "", ""))
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
def _recycled_inputs(store: SqlStore, accs: list[_Acc], assay: dict[int, dict[str, int]]) -> None:
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


def _recovery(store: SqlStore, p: Period) -> dict[str, Any]:
    """Recovery per recycler site from the circularity service (runs started in the period)."""
    from lichain.services.circularity import recovery

    r = recovery(store, period=f"{p.start.isoformat()}..{p.end.isoformat()}")
    return {x["site"]: {"runs": x["runs"], "basis": r["basis"], "status": r["status"],
                        "elements": x["elements"]} for x in r["recyclers"]}


def _footprints(store: SqlStore, lot_idx: list[int]) -> dict[int, tuple[float, float, bool]]:
    """Per-lot intensity (location, market [kg CO2e kg⁻¹], complete) from the footprint service."""
    from lichain.analysis.footprint import column
    from lichain.services.footprint import ledger_footprint

    if not lot_idx:
        return {}
    lf = ledger_footprint(store)
    want = np.asarray(sorted(set(lot_idx)), np.int64)
    n = len(lf.store_lot_idx)
    pos = np.minimum(np.searchsorted(lf.store_lot_idx, want), max(n - 1, 0))
    ok = (lf.store_lot_idx[pos] == want) if n else np.zeros(len(want), np.bool_)
    loc, mkt, inc = column("location"), column("market"), column("incomplete")
    return {int(i): (float(lf.x[j, loc]), float(lf.x[j, mkt]), bool(lf.x[j, inc] == 0))
            for i, j, good in zip(want.tolist(), pos.tolist(), ok.tolist(), strict=True) if good}


# --- JSON -----------------------------------------------------------------------------------------------
def _num(d: Decimal | int) -> float | int:
    d = Decimal(d)
    return int(d) if d == d.to_integral_value() else float(d)


def _nums(m: Mapping[str, Decimal | int], scale: Decimal = Decimal(1)) -> dict[str, float | int]:
    return {k: _num(Decimal(v) * scale) for k, v in sorted(m.items())}


def _energy(elec: dict[str, Decimal], fuel: dict[str, Decimal]) -> dict[str, Any]:
    e, f = sum(elec.values(), _ZERO), sum(fuel.values(), _ZERO)
    return {"electricity_kwh": _nums(elec), "electricity_kwh_total": _num(e), "fuel_mj": _nums(fuel),
            "fuel_mj_total": _num(f), "total_mj": _num(e * KWH_TO_MJ + f)}


def _emissions(s1: dict[str, Decimal], loc: dict[str, Decimal], mkt: dict[str, Decimal],
               complete: bool) -> dict[str, Any]:
    t1, tl, tm = (sum(x.values(), _ZERO) for x in (s1, loc, mkt))
    return {"scope1_kg_co2e": _num(t1),
            "scope1_by_cause_kg_co2e": {c: _num(s1.get(c, _ZERO)) for c in _SCOPE1_CAUSES},
            "scope2_location_kg_co2e": _num(tl), "scope2_market_kg_co2e": _num(tm),
            "scope2_location_by_source_kg_co2e": _nums(loc), "scope2_market_by_source_kg_co2e": _nums(mkt),
            "scope1_2_location_kg_co2e": _num(t1 + tl), "scope1_2_market_kg_co2e": _num(t1 + tm),
            "complete": complete}


def _waste(losses: dict[str, int], scrap_mg: int) -> dict[str, Any]:
    return {"element_losses_kg": _nums(losses, _KG_PER_MG),
            "element_losses_kg_total": _num(sum(losses.values()) * _KG_PER_MG),
            "scrap_output_kg": _num(scrap_mg * _KG_PER_MG)}


def _recycled(rec: dict[str, list[float]]) -> dict[str, Any]:
    k = float(_KG_PER_MG_PPB)
    return {el: {"consumed_kg": _num(int(t) * _KG_PER_MG_PPB), "recycled_kg": (pre + post) * k,
                 "pre_consumer_kg": pre * k, "post_consumer_kg": post * k, "share": (pre + post) / t,
                 "pre_consumer_share": pre / t, "post_consumer_share": post / t}
            for el, (t, pre, post) in sorted(rec.items())}


def _products(a: _Acc, ctx: dict[str, Any], fp: dict[int, tuple[float, float, bool]]) -> list[dict[str, Any]]:
    k = float(_KG_PER_MG_PPB)
    out = []
    for mat, lots in sorted(a.products.items()):
        got = [(fp[i], m) for i, m in lots if i in fp]
        w = sum(m for _, m in got)
        out.append({
            "material": mat, "name": ctx["names"].get(mat, mat), "stage": ctx["stage"].get(mat),
            "lots": len(lots),
            "mass_kg": _num(sum(m for _, m in lots) * _KG_PER_MG),
            "intensity_location_kg_co2e_per_kg": sum(v[0] * m for v, m in got) / w if w else None,
            "intensity_market_kg_co2e_per_kg": sum(v[1] * m for v, m in got) / w if w else None,
            "footprint_complete": all(v[2] for v, _ in got) and len(got) == len(lots) if w else None,
            "recycled_content": {e: {"element_kg": t * k, "recycled_kg": r * k, "share": r / t}
                                 for e, (t, r) in sorted(a.made_recycled.get(mat, {}).items())},
        })
    return out


def _site_json(a: _Acc, ctx: dict[str, Any], fp: dict[int, tuple[float, float, bool]],
               rec: dict[str, Any]) -> dict[str, Any]:
    st = a.site
    return {
        "id": st.id, "name": st.name, "kind": st.kind, "country": st.country, "grid_region": st.grid_region,
        "organisation": st.organisation, "runs": a.runs, "commissioned_lots": a.commissioned,
        "energy": _energy(a.elec, a.fuel), "emissions": _emissions(a.s1, a.s2_loc, a.s2_mkt, a.complete),
        "water_m3": _num(a.water), "waste": _waste(a.losses, a.scrap_mg),
        "recycled_input": _recycled(a.recycled), "recovery": rec.get(st.id),
        "products": _products(a, ctx, fp),
        "problems": [{"kind": k, "message": m, "count": n} for (k, m), n in sorted(a.problems.items())],
    }


def _totals(accs: list[_Acc]) -> dict[str, Any]:
    def add(attr: str) -> dict[str, Any]:
        out: defaultdict[str, Any] = defaultdict(int)
        for a in accs:
            for k, v in getattr(a, attr).items():
                out[k] += v
        return out

    return {"sites": len(accs), "energy": _energy(add("elec"), add("fuel")),
            "emissions": _emissions(add("s1"), add("s2_loc"), add("s2_mkt"), all(a.complete for a in accs)),
            "water_m3": _num(sum((a.water for a in accs), _ZERO)),
            "waste": _waste(add("losses"), sum(a.scrap_mg for a in accs))}


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


_BOUNDARY = ("operational control (GHG Protocol Corporate Standard, 2004, ch. 3): the reporting organisation's "
             "own sites form its Scope 1 and 2; suppliers' and customers' sites recorded in the ledger are shown "
             "apart as Scope 3 context and never summed into them")


def _organisation(store: SqlStore, organisation: str | None, known: list[str]) -> tuple[str, str]:
    """The reporting organisation and how it was chosen: ``organisation`` or the ledger owner of master data."""
    if organisation is not None:
        if organisation not in known:
            near = difflib.get_close_matches(organisation, known, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else f" (known: {', '.join(known) or 'none'})"
            raise NotFoundError(f"unknown organisation {organisation!r}{hint}")
        return organisation, "--organisation"
    owners = ledger_owners(store)
    if len(owners) == 1:
        org, sites = next(iter(owners.items()))
        return org, f"ledger owner declared in master data (site {', '.join(sites)})"
    if not owners and len(known) <= 1:  # one organisation recorded (or none yet): nothing to choose between
        return (known[0] if known else ""), "the only organisation in master data (no ledger owner declared)"
    if not owners:
        raise NotFoundError("no ledger owner declared in master data: mark a site of the reporting organisation "
                            "with ledger_owner (docs/ledger.md, 'Ledger owner') or pass --organisation")
    raise NotFoundError(f"master data declares several ledger owners ({', '.join(sorted(owners))}): pass "
                        "--organisation")


def _part(store: SqlStore, p: Period, org: str) -> tuple[list[_Acc], list[_Acc], dict[str, Any],
                                                          dict[Factor, None]]:
    """The period's sums per site, split into the organisation's sites and the others."""
    accs: dict[str, _Acc] = {}
    used: dict[Factor, None] = {}
    ctx = _read(store, p, accs, used)
    order = sorted(accs.values(), key=lambda a: (a.site.organisation, a.site.kind, a.site.id))
    _recycled_inputs(store, order, ctx["assay"])
    own = [a for a in order if a.site.organisation == org]
    return own, [a for a in order if a.site.organisation != org], ctx, used


def esg_report(store: SqlStore, period: str | Period, organisation: str | None = None) -> dict[str, Any]:
    """The ESG management report of ``period`` as JSON-ready data (the ``report esg --json`` shape).

    Parameters
    ----------
    store : SqlStore
        The ledger.
    period : str or Period
        ``2026``, ``2026-Q1``, ``2026-03``, ``2026-01-01..2026-06-30`` (see :func:`parse_period`).
    organisation : str, optional
        The reporting organisation; default the ledger owner declared in master data (a site flagged
        ``ledger_owner``).

    Returns
    -------
    dict
        ``period``; ``organisation`` (name, how it was chosen, boundary rule); ``kpis`` (key figures with their
        trend against ``previous_period``); ``sites``, one entry per site of the organisation with runs or
        commissioned lots in the period: energy [kWh, MJ], emissions [kg CO2e] (Scope 1; Scope 2 location- and
        market-based), water [m³], waste [kg], recycled input shares [kg kg⁻¹], recovery (recyclers), products
        with their footprint [kg CO2e kg⁻¹] and recycled content, problems; ``totals`` over those sites;
        ``scope3_context`` (the other organisations' sites and their totals, never added to ``totals``);
        ``method``; ``factors_used``; report-level ``problems``. Shapes are listed in ``docs/esg.md``.

    Raises
    ------
    PeriodError
        ``period`` is not one of the accepted forms.
    NotFoundError
        ``organisation`` is unknown, or none is given and master data declares no single ledger owner.
    """
    p = period if isinstance(period, Period) else parse_period(period)
    org, chosen = _organisation(store, organisation, sorted({r.organisation for r in site_rows(store)}))
    own, other, ctx, used = _part(store, p, org)
    fp = _footprints(store, [i for a in own + other for lots in a.products.values() for i, _ in lots])
    rec = _recovery(store, p)
    pp = previous_period(p)
    p_own, _, _, _ = _part(store, pp, org)
    p_fp = _footprints(store, [i for a in p_own for lots in a.products.values() for i, _ in lots])
    p_rec = _recovery(store, pp)
    sites, totals = [_site_json(a, ctx, fp, rec) for a in own], _totals(own)
    p_sites = [_site_json(a, ctx, p_fp, p_rec) for a in p_own]
    kpis = key_figures(sites, totals, p_sites, _totals(p_own), p)
    _, head = store.head()
    return {
        "report": "esg",
        "period": {"label": p.label, "start": _iso(p.start), "end": _iso(p.end)},
        "organisation": {"name": org, "chosen_by": chosen, "boundary": _BOUNDARY},
        "ledger_head": head,
        "factor_library": ctx["resolver"].library.version,
        "kpis": {"previous_period": {"label": pp.label, "start": _iso(pp.start), "end": _iso(pp.end)},
                 "figures": [k.to_json() for k in kpis]},
        "sites": sites,
        "totals": totals,
        "scope3_context": {
            "note": "sites of suppliers and customers recorded in the ledger: their Scope 1 and 2 are upstream "
                    "or downstream Scope 3 context of the reporting organisation, not part of its totals",
            "sites": [_site_json(a, ctx, fp, rec) for a in other], "totals": _totals(other)},
        "method": dict(_METHOD),
        "factors_used": [f.public_json() for f in sorted(used, key=lambda f: (f.key.casefold(), f.source))],
        "problems": [{"kind": q.kind, "message": q.message} for q in ctx["resolver"].problems],
    }
