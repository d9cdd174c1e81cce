"""Whole-ledger carbon footprint of the demo chain, stage by stage, beside the propagation baseline.

The demo ledger (``--lots``, 1 M by default; ``--quick`` ≈ 3 k) is generated and ingested into a temporary
SQLite file (setup, reported but not part of the footprint). Timed: the snapshot build from the store, the bulk
read of own emissions, the assembly of the ``own`` matrix (allocation, stages, causes), the propagation of its K
indicators with our kernel, and the whole use case end to end. The baseline is
``scipy.sparse.linalg.spsolve_triangular`` on the same I − W with the same K right-hand sides, in the same run;
the two solutions are compared.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


def _t(s: float) -> str:
    """A duration with a readable unit."""
    return f"{s:8.3f} s " if s >= 1 else f"{s * 1e3:8.2f} ms"


def _best(fn: Any, repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run and print the footprint benchmark; returns the measured figures."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import spsolve_triangular

    from lichain.analysis import footprint as fp
    from lichain.analysis.propagate import intensity
    from lichain.demo import generate
    from lichain.services import footprint as service
    from lichain.services.record import ingest_batches
    from lichain.services.snapshot import load_snapshot
    from lichain.storage.emissions_reader import read_emissions
    from lichain.storage.footprint_sql import alloc_values
    from lichain.storage.sql import open_store

    p = argparse.ArgumentParser()
    p.add_argument("--lots", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", type=Path, default=None)
    a = p.parse_args(argv)
    lots = a.lots or (3000 if a.quick else 1_000_000)

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LICHAIN_CACHE"] = str(Path(tmp) / "cache")
        store = open_store(str(Path(tmp) / "demo.db"))
        t0 = time.perf_counter()
        chain = generate(lots=lots, seed=a.seed)
        r = ingest_batches(store, [chain.master_events, *chain.batches()])
        assert r.ok, r.problems[:3]
        t_setup = time.perf_counter() - t0

        again = a.repeat if lots < 200_000 else 1  # small ledgers: repeat, so that first-call JIT loading is not timed
        t_snap, ls = _best(lambda: load_snapshot(store, use_cache=False), again)
        snap = ls.snapshot
        t_read, em = _best(lambda: read_emissions(store, ls.store_run_idx, ls.store_lot_idx), again)

        def assemble() -> tuple[Any, Any, Any]:
            values = service._aligned(ls.store_lot_idx, [(i, service._value(v)) for i, v in alloc_values(store)],
                                      np.nan, np.float64)
            alloc = fp.allocation(snap.lot_run, snap.lot_mass_kg, snap.n_runs, values)
            own = service._own(store, snap, ls.store_lot_idx, ls.store_run_idx, em)
            s2 = fp.reallocated(snap, alloc)
            return s2, alloc, fp.own_per_kg(s2, own, alloc.factor)

        t_own, (snap_a, _alloc, own) = _best(assemble, 1)
        k = own.shape[1]
        intensity(snap_a, own)  # compile (cached on disk after the first run) and fault the pages in
        t_prop, x = _best(lambda: intensity(snap_a, own), a.repeat)
        t_prop1, _ = _best(lambda: intensity(snap_a, np.ascontiguousarray(own[:, 0])), a.repeat)

        t0 = time.perf_counter()
        n = snap_a.n_lots
        w = sp.csr_matrix((-snap_a.up_w, snap_a.up_src, snap_a.up_indptr), shape=(n, n))
        m = (sp.identity(n, format="csr") + w).tocsr()
        m.sort_indices()
        t_build = time.perf_counter() - t0
        t_base, xb = _best(lambda: spsolve_triangular(m, own, lower=True), 1 if n > 200_000 else a.repeat)
        t_base1, _ = _best(lambda: spsolve_triangular(m, own[:, 0], lower=True), 1 if n > 200_000 else a.repeat)
        scale = np.maximum(np.abs(xb), 1e-12)
        diff = float(np.max(np.abs(x - xb) / scale)) if n else 0.0

        service._memo.clear()
        t_total, lf = _best(lambda: service.ledger_footprint(store, use_cache=False), 1)
        load_snapshot(store)  # fill the snapshot cache (a query's usual state)
        t_warm, _ = _best(lambda: service._compute(store, None), 1)
        service.ledger_footprint(store)  # fill the footprint cache
        service._memo.clear()
        t_cached, _ = _best(lambda: service.ledger_footprint(store), 1)
        lot = snap.lot_id(int(np.flatnonzero(snap.lot_stage == snap.stage_names.index("cam"))[-1]))
        t_one, _ = _best(lambda: service.footprint_of(store, lot), a.repeat)
        cam = np.flatnonzero(snap.lot_material == snap.material_codes.index("CAM-NCM811"))
        cam_mean = float(np.average(lf.x[cam, 0], weights=snap.lot_mass_kg[cam])) if cam.size else float("nan")
        store.close()

    res: dict[str, Any] = {
        "lots": snap.n_lots, "runs": snap.n_runs, "edges": snap.n_edges, "k": k, "setup_generate_ingest_s": t_setup,
        "snapshot_s": t_snap, "read_emissions_s": t_read, "assemble_own_s": t_own,
        "propagate_k_s": t_prop, "propagate_1_s": t_prop1,
        "baseline_build_s": t_build, "baseline_spsolve_k_s": t_base, "baseline_spsolve_1_s": t_base1,
        "ratio_k": t_base / t_prop, "ratio_1": t_base1 / t_prop1, "max_rel_diff": diff,
        "whole_ledger_cold_s": t_total, "whole_ledger_snapshot_cached_s": t_warm,
        "whole_ledger_from_cache_s": t_cached, "one_lot_footprint_of_s": t_one,
        "ncm811_cam_kg_co2e_per_kg": cam_mean,
    }
    print(f"\n== whole-ledger footprint, demo chain: {snap.n_lots:,} lots, {snap.n_runs:,} runs, "
          f"{snap.n_edges:,} edges, K = {k} indicators ==")
    print(f"setup (generate + ingest into SQLite, not timed below) {t_setup:.1f} s")
    print(f"  snapshot build from the store       {_t(t_snap)}")
    print(f"  own emissions read (bulk reader)    {_t(t_read)}")
    print(f"  own matrix (allocation, stages)     {_t(t_own)}")
    print(f"  propagation, K = {k:2d}  lichain {_t(t_prop)}   spsolve_triangular {_t(t_base)}   "
          f"ratio {res['ratio_k']:6.1f}×")
    print(f"  propagation, K =  1  lichain {_t(t_prop1)}   spsolve_triangular {_t(t_base1)}   "
          f"ratio {res['ratio_1']:6.1f}×")
    print(f"  (building I − W for scipy: {_t(t_build).strip()}, not in the baseline time)")
    print(f"  max relative difference lichain vs scipy: {diff:.1e}")
    print(f"  whole ledger, cold (no cache: store → snapshot → emissions → K columns) {_t(t_total)}")
    print(f"  whole ledger, snapshot cached (a query after new events)          {_t(t_warm)}")
    print(f"  whole ledger, from the footprint cache (disk, re-propagated)      {_t(t_cached)}")
    print(f"  one lot, footprint_of with breakdowns (cache in memory)           {_t(t_one)}")
    print(f"  NCM811 CAM, mass-weighted mean: {cam_mean:.2f} kg CO2e/kg")
    if a.out:
        a.out.write_text(json.dumps(res, indent=2))
    return res


if __name__ == "__main__":
    main()
