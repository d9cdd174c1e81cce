"""Scenario evaluation on a copy-on-write snapshot beside a full footprint recomputation, at 1 M lots.

A synthetic chain (:func:`lichain.analysis.synth.synthetic_ledger`, 1 M lots by default, ``--quick`` 100 k) gets
random own emissions (``OwnEmissions`` with every cause, R and N rows). The ledger's figures (footprint of all
K columns and the recycled shares of Ni, Co and Li) are computed once, as a query would find them cached. Timed:

* **baseline** — a full recomputation of what a scenario reports: the own matrix and the footprint of every lot
  (:func:`lichain.analysis.footprint.footprint`, K columns) plus the recycled shares of the three Art. 8 elements
  (:func:`lichain.analysis.scenario.recycled_of`);
* **scenario** — three changes at once, from the ledger's figures: a supplier swap (refinery ``ref-quzhou`` →
  ``ref-harjavalta`` for every consumer), 30 % recovered salt blended into one precursor plant's runs, and a
  changed own burden for one cathode plant's lots; the changed graph (copy-on-write), the re-solved footprint
  (location and market) and the recycled shares of the lots they reach.

The scenario's figures are compared with a full recomputation on the changed graph (max relative difference).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np


def _best(fn: Any, repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run and print the scenario benchmark; returns the measured figures."""
    from lichain.analysis import footprint as fp
    from lichain.analysis import scenario as sc
    from lichain.analysis.propagate import intensity
    from lichain.analysis.snapshot import Snapshot
    from lichain.analysis.synth import synthetic_ledger

    p = argparse.ArgumentParser()
    p.add_argument("--lots", type=int, default=None)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", type=Path, default=None)
    a = p.parse_args(argv)
    n = a.lots or (100_000 if a.quick else 1_000_000)

    t0 = time.perf_counter()
    snap = Snapshot.build(synthetic_ledger(n, seed=3))
    rng = np.random.default_rng(3)
    r, m = snap.n_runs, snap.n_lots
    own = fp.OwnEmissions(
        run_location_by_cause=rng.random((r, 4)) * 50, run_market=rng.random(r) * 150,
        run_stage=rng.integers(0, 4, r).astype(np.int8), run_complete=np.ones(r, np.bool_),
        lot_location_by_cause=np.where(snap.is_source[:, None], rng.random((m, 4)), 0.0),
        lot_market=np.where(snap.is_source, rng.random(m), 0.0), lot_transport=np.zeros(m),
        lot_stage=np.zeros(m, np.int8), lot_complete=np.ones(m, np.bool_))
    alloc = fp.allocation(snap.lot_run, snap.lot_mass_kg, snap.n_runs)
    elements = ("Ni", "Co", "Li")

    def full(s: Snapshot) -> tuple[Any, Any]:
        o, x = fp.footprint(s, own, alloc.factor)
        return (o, x), {e: sc.recycled_of(s, e) for e in elements}

    full(snap)  # compile the kernels (cached on disk) and fault the pages in
    (o, x), rec = full(snap)
    base = sc.Base(snap, alloc, o, x, rec)
    t_setup = time.perf_counter() - t0

    site = {s: i for i, s in enumerate(snap.site_ids)}
    stage = {s: i for i, s in enumerate(snap.stage_names)}
    salt = snap.lot_stage == stage["refined_salt"]
    made_at = np.full(m, -1, np.int64)
    made_at[snap.lot_run >= 0] = snap.run_site[snap.lot_run[snap.lot_run >= 0]]

    def scenario() -> tuple[Any, int]:
        s1 = sc.swap_sources(snap, sc.Graph.of(snap), salt & (snap.lot_site == site["ref-quzhou"]), made_at >= 0,
                             np.flatnonzero(salt & (snap.lot_site == site["ref-harjavalta"])))
        pool = np.flatnonzero(snap.lot_stage == stage["recovered_salt"])
        s2 = sc.blend_sources(s1.graph, salt, made_at == site["pcam-pohang"], pool, 0.3)
        own_lots = np.flatnonzero(made_at == site["cam-gumi"])
        delta = -0.5 * o[own_lots, :2]
        edges = np.zeros(m, np.bool_)
        edges[s1.lots] = True
        edges[s2.lots] = True
        out = sc.evaluate(base, s2.graph, np.flatnonzero(edges), own_lots, delta)
        return (out, own_lots, delta), int(edges.sum() + own_lots.size)

    scenario()
    t_scen, ((out, own_lots, delta), changed) = _best(scenario, a.repeat)
    t_base, _ = _best(lambda: full(snap), a.repeat)

    # exactness: a full recomputation on the changed graph with the changed own burdens
    own2 = np.array(o[:, :2])
    own2[own_lots] += delta
    changed_snap = sc.snapshot_of(snap, out.graph)
    xf = intensity(fp.reallocated(changed_snap, alloc), own2)
    scale = np.maximum(np.abs(xf), 1e-300)
    diff = float(np.max(np.abs(out.x - xf) / scale))
    rec_diff = 0.0
    for e in elements:
        v, d = sc.recycled_of(changed_snap, e)
        ov, od = out.recycled[e]
        assert np.array_equal(d, od), e
        rec_diff = max(rec_diff, float(np.nanmax(np.abs(v - ov))))
    shared = int(out.graph.indptr is snap.up_indptr) + int(out.graph.src is snap.up_src)
    res = {"lots": m, "runs": r, "edges": snap.n_edges, "setup_s": t_setup, "lots_changed": changed,
           "lots_reached": int((out.footprint_changed | out.shares_changed).sum()),
           "scenario_s": t_scen, "baseline_full_recompute_s": t_base, "ratio": t_base / t_scen,
           "max_rel_diff_vs_full": diff, "max_abs_share_diff_vs_full": rec_diff,
           "graph_arrays_shared": shared}
    print(f"\n== scenario evaluation: {m:,} lots, {r:,} runs, {snap.n_edges:,} edges ==")
    print(f"setup (synthetic chain, ledger figures; not timed below) {t_setup:.1f} s")
    print(f"  changes: supplier swap + 30 % recycled blend + one plant's own burden; {changed:,} lots changed, "
          f"{res['lots_reached']:,} reached")
    print(f"  scenario (copy-on-write graph, footprint, Ni/Co/Li shares) {t_scen * 1e3:8.1f} ms")
    print(f"  baseline: full recomputation (K = {o.shape[1]} footprint + 3 shares) {t_base * 1e3:8.1f} ms   "
          f"ratio {res['ratio']:5.1f}×")
    print(f"  vs a full recomputation on the changed graph: footprint max relative difference {diff:.1e}, "
          f"recycled shares max difference {rec_diff:.1e}")
    if a.out:
        a.out.write_text(json.dumps(res, indent=2))
    return res


if __name__ == "__main__":
    main()
