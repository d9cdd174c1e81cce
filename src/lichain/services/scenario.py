"""Use case: evaluate a scenario file against the ledger without writing to it, and report the differences.

Why here: a scenario names sites, materials, runs and factors as people know them; the engine
(:mod:`lichain.analysis.scenario`) works on lot numbers and arrays. This module resolves the names, turns each
change into what the ledger would hold had it been recorded — factor overrides (read through the same bulk
emission reader the ledger's footprint uses, for the affected runs and lots only) and rewired consumptions —
and reports, per material and per lot, the footprint [kg CO2e kg⁻¹] and the Art. 8 recycled shares before and
after. Nothing is written: the ledger's chain head is the same before and after.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lichain.analysis import footprint as fp
from lichain.analysis import scenario as eng
from lichain.analysis.snapshot import Snapshot
from lichain.core.errors import Problem, ValidationFailed
from lichain.core.factors import default_library, grid_keys
from lichain.core.model import FactorOverride, Site
from lichain.core.scenario import Change, Scenario, parse_scenario
from lichain.services.circularity import ART8_ELEMENTS
from lichain.services.footprint import ledger_footprint
from lichain.services.snapshot import load_snapshot
from lichain.storage.emissions_reader import read_emissions
from lichain.storage.lists_sql import site_rows
from lichain.storage.scenario_sql import run_index
from lichain.storage.sql import SqlStore

__all__ = ["Delta", "LotDiff", "MaterialDiff", "ScenarioResult", "base_of", "evaluate_file", "evaluate_scenario",
           "outcome_of"]

_UNIT = "kg CO2e/kWh"


@dataclass(frozen=True, slots=True)
class Delta:
    """A figure before and after: ``base``, ``scenario``, ``delta`` = scenario − base, ``change`` = delta / base
    (None when base is 0 or a figure is undefined)."""

    base: float | None
    scenario: float | None
    delta: float | None
    change: float | None


@dataclass(frozen=True, slots=True)
class MaterialDiff:
    """Mass-weighted footprint [kg CO2e kg⁻¹] and element-mass-weighted recycled shares [kg kg⁻¹] of the lots of
    one material that the scenario reaches (``lots``, ``mass_kg``)."""

    material: str
    stage: str
    lots: int
    mass_kg: float
    kg_co2e_per_kg: Delta
    market_kg_co2e_per_kg: Delta
    recycled: dict[str, Delta]


@dataclass(frozen=True, slots=True)
class LotDiff:
    """One lot's footprint and recycled shares before and after."""

    lot: str
    material: str
    site: str
    kg_co2e_per_kg: Delta
    market_kg_co2e_per_kg: Delta
    recycled: dict[str, Delta]


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    """What a scenario changes: per material and for the most changed lots; nothing is written to the ledger.

    ``applied`` says per change what it touched (lots rewired, runs and lots re-costed, consumers left as
    recorded because the new source had no older lot); ``lots_reached`` counts lots whose footprint or shares
    the changes reach.
    """

    scenario: str
    head: str
    lots_reached: int
    applied: tuple[dict[str, Any], ...]
    materials: tuple[MaterialDiff, ...]
    lots: tuple[LotDiff, ...]
    elements: tuple[str, ...]
    notes: tuple[str, ...]


NOTES = (
    "Footprints are cradle-to-gate, location-based (kg_co2e_per_kg) and market-based, in kg CO2e per kg of lot, "
    "computed by the ledger's footprint engine on a copy of its arrays; nothing is written to the ledger.",
    "Recycled shares are physical, element-mass weighted (pre- plus post-consumer), as `lichain recycled`; "
    "Art. 8 comparisons are indicative (the calculation rules' delegated act is not adopted).",
    "A swapped or blended consumption takes the new source's newest lot made before the consuming lot; its "
    "stock is not checked (a scenario may buy more than was made).",
)


def _delta(b: float, s: float) -> Delta:
    ok_b, ok_s = bool(np.isfinite(b)), bool(np.isfinite(s))
    d = s - b if ok_b and ok_s else None
    return Delta(float(b) if ok_b else None, float(s) if ok_s else None, d,
                 d / b if d is not None and b != 0 else None)


def base_of(store: SqlStore) -> tuple[eng.Base, Any, Any]:
    """The ledger's figures as the engine's :class:`~lichain.analysis.scenario.Base`, with the footprint and the
    loaded snapshot they come from."""
    lf = ledger_footprint(store)
    ls = load_snapshot(store)
    if ls.head != lf.head or ls.snapshot.n_lots != lf.snapshot.n_lots:
        ls = load_snapshot(store, use_cache=False)
    snap = ls.snapshot
    rec = {e: eng.recycled_of(snap, e) for e in ART8_ELEMENTS if e in snap.elements}
    alloc = fp.Allocation(lf.alloc, lf.economic, np.zeros_like(lf.economic))
    return eng.Base(snap, alloc, lf.own, lf.x, rec), lf, ls


class _Names:
    """Name → number look-ups on a snapshot, recording located problems."""

    def __init__(self, snap: Snapshot, problems: list[Problem]) -> None:
        self.snap, self.problems = snap, problems
        self.sites = {v: i for i, v in enumerate(snap.site_ids)}
        self.materials = {v: i for i, v in enumerate(snap.material_codes)}

    def site(self, c: Change, field: str) -> int | None:
        name = c.get(field)
        if name is None:
            return None
        if name not in self.sites:
            self.problems.append(Problem(f"{c.location}.{field}", f"unknown site {name!r}"))
            return -2
        return self.sites[name]

    def material(self, c: Change, field: str) -> int | None:
        name = c.get(field)
        if name is None:
            return None
        if name not in self.materials:
            self.problems.append(Problem(f"{c.location}.{field}", f"unknown material {name!r}"))
            return -2
        return self.materials[name]


def _consumers(snap: Snapshot, site: int | None) -> np.ndarray:
    made = snap.lot_run >= 0
    if site is None:
        return made
    out = np.zeros(snap.n_lots, np.bool_)
    out[made] = snap.run_site[snap.lot_run[made]] == site
    return out


def _supplier(snap: Snapshot, graph: eng.Graph, c: Change, names: _Names) -> eng.Rewired | None:
    a, b, at = names.site(c, "from_site"), names.site(c, "to_site"), names.site(c, "at_site")
    m, m2 = names.material(c, "material"), names.material(c, "to_material")
    if -2 in (a, b, at, m, m2):
        return None
    src = snap.lot_site == a
    if m is not None:
        src &= snap.lot_material == m
    cons = _consumers(snap, at)
    used = np.unique(snap.lot_material[graph.src[src[graph.src] & cons[graph.dst()]]])
    lots, skipped = [], []
    for mat in used.tolist():
        want = m2 if m2 is not None else mat
        pool = np.flatnonzero((snap.lot_site == b) & (snap.lot_material == want))
        if not pool.size:
            names.problems.append(Problem(c.location, f"site {c.get('to_site')} has no lot of material "
                                                      f"{snap.material_codes[want]}"))
            return None
        r = eng.swap_sources(snap, graph, src & (snap.lot_material == mat), cons, pool,
                             None if want == mat else _main_element(snap, pool))
        graph = r.graph
        lots.append(r.lots)
        skipped.append(r.skipped)
    return eng.Rewired(graph, np.unique(np.concatenate([np.zeros(0, np.int64), *lots])),
                       np.unique(np.concatenate([np.zeros(0, np.int64), *skipped])))


def _main_element(snap: Snapshot, pool: np.ndarray) -> int:
    """The tracked element with the largest mass fraction in the pool's lots (what a route change conserves)."""
    return int(np.argmax((snap.lot_mass_kg[pool, None] * snap.lot_assay[pool]).sum(axis=0)))


def _recycled(store: SqlStore, snap: Snapshot, graph: eng.Graph, c: Change, names: _Names,
              store_run_idx: np.ndarray) -> eng.Rewired | None:
    site, m = names.site(c, "site"), names.material(c, "material")
    rec_site, m2 = names.site(c, "from_site"), names.material(c, "from_material")
    if -2 in (site, m, rec_site, m2):
        return None
    if c.get("run") is not None:
        idx = run_index(store, str(c.get("run")))
        k = int(np.searchsorted(store_run_idx, idx)) if idx is not None else -1
        if idx is None or k >= store_run_idx.shape[0] or store_run_idx[k] != idx:
            names.problems.append(Problem(f"{c.location}.run", f"unknown run {c.get('run')!r}"))
            return None
        cons = snap.lot_run == k
    else:
        cons = _consumers(snap, site)
    from_lots = snap.lot_material == m
    if not (from_lots[graph.src] & cons[graph.dst()]).any():
        names.problems.append(Problem(c.location, f"no matching run consumes material {c.get('material')}"))
        return None
    pool = np.flatnonzero((snap.lot_site == rec_site) & (snap.lot_material == (m if m2 is None else m2)))
    if not pool.size:
        names.problems.append(Problem(c.location, f"site {c.get('from_site')} has no lot of material "
                                                  f"{c.get('from_material') or c.get('material')}"))
        return None
    return eng.blend_sources(graph, from_lots, cons, pool, float(c.number("share")))


def _override(store: SqlStore, c: Change, names: _Names) -> tuple[FactorOverride, int | None] | None:
    site = names.site(c, "site")
    if site == -2:
        return None
    if c.kind == "factor":
        key = str(c.get("key"))
        known = default_library().get(key)
        unit = c.get("unit") or (known.unit if known is not None else None)
        if unit is None:
            names.problems.append(Problem(f"{c.location}.unit", f"{key} is not in the factor library: give its unit"))
            return None
        return FactorOverride(key, c.number("value"), unit, "scenario", c.get("site")), site
    rows = {r.id: r for r in site_rows(store)}
    r = rows[str(c.get("site"))]
    keys = grid_keys(Site(r.id, r.name, r.kind, r.country, r.organisation, r.grid_region))
    key = keys[0] if c.get("basis") in (None, "grid") else f"residual:{keys[0].partition(':')[2]}"
    return FactorOverride(key, c.number("kg_co2e_per_kwh"), _UNIT, "scenario", c.get("site")), site


def _own_delta(store: SqlStore, base: eng.Base, lf: Any, overrides: list[FactorOverride],
               sites: set[int | None]) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Lots whose own burden the overrides change, and by how much (location, market) [kg CO2e kg⁻¹]."""
    snap = base.snap
    if None in sites:
        runs, lots = np.arange(snap.n_runs), np.arange(snap.n_lots)
    else:
        keep = [x for x in sites if x is not None]
        runs, lots = np.flatnonzero(np.isin(snap.run_site, keep)), np.flatnonzero(np.isin(snap.lot_site, keep))
    ri, li = lf.store_run_idx[runs], lf.store_lot_idx[lots]
    before = read_emissions(store, ri, li)
    after = read_emissions(store, ri, li, extra_overrides=overrides)
    r, n = snap.n_runs, snap.n_lots

    def spread(values: np.ndarray, pos: np.ndarray, size: int) -> np.ndarray:
        out = np.zeros((size, *values.shape[1:]))
        out[pos] = values
        return out

    def diff(name: str, pos: np.ndarray, size: int) -> np.ndarray:
        a, b = getattr(after, name), getattr(before, name)
        return spread(np.asarray(a) - np.asarray(b), pos, size)

    sup_a = after.lot_supplier_kg_co2e if after.lot_supplier_kg_co2e is not None else np.zeros(len(lots))
    sup_b = before.lot_supplier_kg_co2e if before.lot_supplier_kg_co2e is not None else np.zeros(len(lots))
    delta = fp.OwnEmissions(
        run_location_by_cause=diff("run_location_by_cause_kg_co2e", runs, r), run_market=diff("run_market_kg_co2e",
                                                                                                runs, r),
        run_stage=np.zeros(r, np.int8), run_complete=np.ones(r, np.bool_),
        lot_location_by_cause=diff("lot_location_by_cause_kg_co2e", lots, n),
        lot_market=diff("lot_market_kg_co2e", lots, n), lot_transport=np.zeros(n), lot_stage=np.zeros(n, np.int8),
        lot_complete=np.ones(n, np.bool_), run_transport=diff("run_transport_kg_co2e", runs, r),
        lot_supplier=spread(sup_a - sup_b, lots, n))
    per_kg = fp.own_per_kg(lf.snapshot, delta, base.alloc.factor)[:, :eng.HEADLINE]
    changed = np.flatnonzero((per_kg != 0).any(axis=1))
    touched_runs = int(np.count_nonzero((delta.run_location_by_cause != 0).any(axis=1) | (delta.run_market != 0)))
    return changed.astype(np.int64), np.ascontiguousarray(per_kg[changed]), touched_runs, \
        int(np.count_nonzero(changed))


def outcome_of(store: SqlStore, scenario: Scenario) -> tuple[eng.Base, eng.Outcome, str, tuple[dict[str, Any], ...]]:
    """The ledger's figures, the scenario's figures for every lot, the chain head, and what each change touched.

    Raises
    ------
    ValidationFailed
        A change names an unknown site, material or run, or cannot be made (no lot of the new source).
    """
    base, lf, ls = base_of(store)
    problems: list[Problem] = []
    names = _Names(base.snap, problems)
    snap = base.snap
    graph = eng.Graph.of(snap)
    edge_lots: list[np.ndarray] = []
    overrides: list[FactorOverride] = []
    sites: set[int | None] = set()
    applied: list[dict[str, Any]] = []
    for c in scenario.changes:
        if c.kind in ("supplier", "recycled_input"):
            fn = (_supplier(snap, graph, c, names) if c.kind == "supplier"
                  else _recycled(store, snap, graph, c, names, ls.store_run_idx))
            if fn is None:
                continue
            graph = fn.graph
            edge_lots.append(fn.lots)
            applied.append({"change": c.location, "kind": c.kind, "lots_rewired": int(fn.lots.size),
                            "consumers_left_as_recorded": int(fn.skipped.size)})
        else:
            ov = _override(store, c, names)
            if ov is None:
                continue
            overrides.append(ov[0])
            # a transport factor of a site is charged to the runs its shipments feed, wherever they are
            everywhere = c.kind == "factor" and (ov[1] is None or ov[0].key.casefold().startswith("transport"))
            sites.add(None if everywhere else ov[1])
            applied.append({"change": c.location, "kind": c.kind, "override": {
                "key": ov[0].key, "value": str(ov[0].value), "unit": ov[0].unit, "site": ov[0].site}})
    if problems:
        raise ValidationFailed(problems)
    own_lots, own_delta = np.zeros(0, np.int64), np.zeros((0, eng.HEADLINE))
    if overrides:
        own_lots, own_delta, n_runs, n_lots = _own_delta(store, base, lf, overrides, sites)
        applied.append({"change": "overrides", "kind": "factor", "runs_recosted": n_runs, "lots_recosted": n_lots})
    lots_changed = np.unique(np.concatenate([np.zeros(0, np.int64), *edge_lots]))
    return base, eng.evaluate(base, graph, lots_changed, own_lots, own_delta), str(lf.head), tuple(applied)


def evaluate_scenario(store: SqlStore, scenario: Scenario, *, lots: int = 20) -> ScenarioResult:
    """Evaluate ``scenario`` on the ledger; refuse with located problems (nothing evaluated, nothing written).

    Parameters
    ----------
    store : SqlStore
        The ledger (read only).
    scenario : Scenario
        Parsed changes (:func:`lichain.core.scenario.parse_scenario`).
    lots : int
        How many of the most changed lots to list (by absolute footprint change, then recycled-share change).

    Raises
    ------
    ValidationFailed
        A change names an unknown site, material or run, or cannot be made (no lot of the new source).
    """
    base, out, head, applied = outcome_of(store, scenario)
    return _report(scenario, head, base, out, applied, lots)


def evaluate_file(store: SqlStore, path: str | Path, *, lots: int = 20) -> ScenarioResult:
    """Read, check and evaluate a scenario file (TOML, or JSON by its .json suffix)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed([Problem(str(p), f"cannot read: {exc}")]) from exc
    scenario, problems = parse_scenario(text, str(p))
    if scenario is None:
        raise ValidationFailed(problems)
    return evaluate_scenario(store, scenario, lots=lots)


def _weighted(v: np.ndarray, w: np.ndarray) -> float:
    ok = np.isfinite(v) & (w > 0)
    tot = float(w[ok].sum())
    return float((v[ok] * w[ok]).sum() / tot) if tot > 0 else float("nan")


def _report(scenario: Scenario, head: str, base: eng.Base, out: eng.Outcome, applied: tuple[dict[str, Any], ...],
            n_lots: int) -> ScenarioResult:
    snap = base.snap
    reached = out.footprint_changed | out.shares_changed
    idx = np.flatnonzero(reached)
    elements = tuple(base.recycled)
    bx, sx = base.x[:, :eng.HEADLINE], out.x

    def rec(e: str, which: Any, rows: np.ndarray) -> np.ndarray:
        v, d = which[e]
        return np.where(d[rows], v[rows], np.nan)

    mats = []
    for mat in np.unique(snap.lot_material[idx]).tolist():
        rows = idx[snap.lot_material[idx] == mat]
        m = snap.lot_mass_kg[rows]
        shares = {}
        for e in elements:
            w = m * snap.lot_assay[rows, snap.element_index(e)]
            shares[e] = _delta(_weighted(rec(e, base.recycled, rows), w), _weighted(rec(e, out.recycled, rows), w))
        stage = int(snap.lot_stage[rows[0]])
        mats.append(MaterialDiff(snap.material_codes[mat], snap.stage_names[stage] if stage >= 0 else "",
                                 int(rows.size), float(m.sum()),
                                 _delta(_weighted(bx[rows, 0], m), _weighted(sx[rows, 0], m)),
                                 _delta(_weighted(bx[rows, 1], m), _weighted(sx[rows, 1], m)), shares))
    mats.sort(key=lambda d: -abs(d.kg_co2e_per_kg.delta or 0.0))
    dfp = np.abs(sx[idx, 0] - bx[idx, 0])
    dsh = np.zeros(idx.size)
    for e in elements:
        dsh = np.maximum(dsh, np.nan_to_num(np.abs(rec(e, out.recycled, idx) - rec(e, base.recycled, idx))))
    order = idx[np.lexsort((-dsh, -dfp))][:max(n_lots, 0)]
    lot_rows = tuple(
        LotDiff(snap.lot_id(int(i)), snap.material_codes[int(snap.lot_material[i])],
                snap.site_ids[int(snap.lot_site[i])] if snap.lot_site[i] >= 0 else "",
                _delta(float(bx[i, 0]), float(sx[i, 0])), _delta(float(bx[i, 1]), float(sx[i, 1])),
                {e: _delta(float(rec(e, base.recycled, np.array([i]))[0]), float(rec(e, out.recycled,
                                                                                      np.array([i]))[0]))
                 for e in elements})
        for i in order.tolist())
    return ScenarioResult(scenario.name, head, int(idx.size), applied, tuple(mats), lot_rows, elements, NOTES)

