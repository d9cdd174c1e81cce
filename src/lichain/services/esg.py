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

* the **organisation boundary** is operational control: the reporting organisation's sites (``--organisation``,
  default the ledger owner declared in master data) form ``sites`` and ``totals``; other organisations' sites
  are reported apart under ``scope3_context``; key figures with trends come from :mod:`lichain.services.esg_kpi`.

Energy, emissions, water and waste are exact (``Decimal``) until they become JSON numbers, once, at the end;
the sums themselves are in :mod:`lichain.services.esg_sums`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np

from lichain.core.errors import PeriodError
from lichain.core.factors import Factor
from lichain.core.period import Period, parse_period
from lichain.services.boundary import reporting_boundary
from lichain.services.esg_kpi import key_figures, previous_period
from lichain.services.esg_results import (
    EmissionsBlock,
    EnergyBlock,
    EsgReport,
    IndicatorTotals,
    KeyFigures,
    ProductLine,
    ProductRecycled,
    RecycledInput,
    ReportOrganisation,
    ReportPeriod,
    ReportProblem,
    Scope3Context,
    SiteIndicators,
    SiteProblem,
    SiteRecovery,
    WasteBlock,
)
from lichain.services.esg_sums import Acc, read_period, recycled_inputs
from lichain.services.footprint_results import factor_from_json
from lichain.storage.sql import SqlStore

__all__ = ["KWH_TO_MJ", "Period", "PeriodError", "esg_report", "parse_period"]

KWH_TO_MJ = Decimal("3.6")

_ZERO = Decimal(0)
_KG_PER_MG = Decimal(10) ** -6
_KG_PER_MG_PPB = Decimal(10) ** -15
_SCOPE1_CAUSES = ("fuels", "process", "captive_electricity")
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


def _recovery(store: SqlStore, p: Period) -> dict[str, SiteRecovery]:
    """Recovery per recycler site from the circularity service (runs started in the period)."""
    from lichain.services.circularity import recovery

    r = recovery(store, period=f"{p.start.isoformat()}..{p.end.isoformat()}", all_organisations=True)
    return {x.site: SiteRecovery(x.runs, r.basis, r.status, x.elements) for x in r.recyclers}


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


def _energy(elec: dict[str, Decimal], fuel: dict[str, Decimal]) -> EnergyBlock:
    e, f = sum(elec.values(), _ZERO), sum(fuel.values(), _ZERO)
    return EnergyBlock(_nums(elec), _num(e), _nums(fuel), _num(f), _num(e * KWH_TO_MJ + f))


def _emissions(s1: dict[str, Decimal], loc: dict[str, Decimal], mkt: dict[str, Decimal],
               complete: bool) -> EmissionsBlock:
    t1, tl, tm = (sum(x.values(), _ZERO) for x in (s1, loc, mkt))
    return EmissionsBlock(_num(t1), {c: _num(s1.get(c, _ZERO)) for c in _SCOPE1_CAUSES}, _num(tl), _num(tm),
                          _nums(loc), _nums(mkt), _num(t1 + tl), _num(t1 + tm), complete)


def _waste(losses: dict[str, int], scrap_mg: int) -> WasteBlock:
    return WasteBlock(_nums(losses, _KG_PER_MG), _num(sum(losses.values()) * _KG_PER_MG), _num(scrap_mg * _KG_PER_MG))


def _recycled(rec: dict[str, list[float]]) -> dict[str, RecycledInput]:
    k = float(_KG_PER_MG_PPB)
    return {el: RecycledInput(_num(int(t) * _KG_PER_MG_PPB), (pre + post) * k, pre * k, post * k, (pre + post) / t,
                              pre / t, post / t)
            for el, (t, pre, post) in sorted(rec.items())}


def _products(a: Acc, ctx: dict[str, Any], fp: dict[int, tuple[float, float, bool]]) -> tuple[ProductLine, ...]:
    k = float(_KG_PER_MG_PPB)
    out = []
    for mat, lots in sorted(a.products.items()):
        got = [(fp[i], m) for i, m in lots if i in fp]
        w = sum(m for _, m in got)
        out.append(ProductLine(
            mat, ctx["names"].get(mat, mat), ctx["stage"].get(mat), len(lots),
            _num(sum(m for _, m in lots) * _KG_PER_MG),
            sum(v[0] * m for v, m in got) / w if w else None,
            sum(v[1] * m for v, m in got) / w if w else None,
            all(v[2] for v, _ in got) and len(got) == len(lots) if w else None,
            {e: ProductRecycled(t * k, r * k, r / t) for e, (t, r) in sorted(a.made_recycled.get(mat, {}).items())},
        ))
    return tuple(out)


def _site_json(a: Acc, ctx: dict[str, Any], fp: dict[int, tuple[float, float, bool]],
               rec: dict[str, SiteRecovery]) -> SiteIndicators:
    st = a.site
    return SiteIndicators(
        st.id, st.name, st.kind, st.country, st.grid_region, st.organisation, a.runs, a.commissioned,
        _energy(a.elec, a.fuel), _emissions(a.s1, a.s2_loc, a.s2_mkt, a.complete), _num(a.water),
        _waste(a.losses, a.scrap_mg), _recycled(a.recycled), rec.get(st.id), _products(a, ctx, fp),
        tuple(SiteProblem(k, m, n) for (k, m), n in sorted(a.problems.items())),
    )


def _totals(accs: list[Acc]) -> IndicatorTotals:
    def add(attr: str) -> dict[str, Any]:
        out: defaultdict[str, Any] = defaultdict(int)
        for a in accs:
            for k, v in getattr(a, attr).items():
                out[k] += v
        return out

    return IndicatorTotals(len(accs), _energy(add("elec"), add("fuel")),
                           _emissions(add("s1"), add("s2_loc"), add("s2_mkt"), all(a.complete for a in accs)),
                           _num(sum((a.water for a in accs), _ZERO)),
                           _waste(add("losses"), sum(a.scrap_mg for a in accs)))


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


_BOUNDARY = ("operational control (GHG Protocol Corporate Standard, 2004, ch. 3): the reporting organisation's "
             "own sites form its Scope 1 and 2; suppliers' and customers' sites recorded in the ledger are shown "
             "apart as Scope 3 context and never summed into them")


def _part(store: SqlStore, p: Period, org: str) -> tuple[list[Acc], list[Acc], dict[str, Any],
                                                          dict[Factor, None]]:
    """The period's sums per site, split into the organisation's sites and the others."""
    accs: dict[str, Acc] = {}
    used: dict[Factor, None] = {}
    ctx = read_period(store, p, accs, used)
    order = sorted(accs.values(), key=lambda a: (a.site.organisation, a.site.kind, a.site.id))
    recycled_inputs(store, order, ctx["assay"])
    own = [a for a in order if a.site.organisation == org]
    return own, [a for a in order if a.site.organisation != org], ctx, used


def esg_report(store: SqlStore, period: str | Period, organisation: str | None = None) -> EsgReport:
    """The ESG management report of ``period`` (the ``report esg --json`` shape).

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
    EsgReport
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
    bd = reporting_boundary(store, organisation)
    org, chosen = bd.name or "", bd.chosen_by
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
    def span(q: Period) -> ReportPeriod:
        return ReportPeriod(q.label, _iso(q.start), _iso(q.end))

    return EsgReport(
        "esg", span(p), ReportOrganisation(org, chosen, _BOUNDARY), head, ctx["resolver"].library.version,
        KeyFigures(span(pp), tuple(k.figure() for k in kpis)), tuple(sites), totals,
        Scope3Context("sites of suppliers and customers recorded in the ledger: their Scope 1 and 2 are upstream "
                      "or downstream Scope 3 context of the reporting organisation, not part of its totals",
                      tuple(_site_json(a, ctx, fp, rec) for a in other), _totals(other)),
        dict(_METHOD),
        tuple(factor_from_json(f.public_json()) for f in sorted(used, key=lambda f: (f.key.casefold(), f.source))),
        tuple(ReportProblem(q.kind, q.message) for q in ctx["resolver"].problems),
    )
