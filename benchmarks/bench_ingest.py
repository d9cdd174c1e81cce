"""Bulk ingest of the demo chain into SQLite versus the same events one statement and one commit per event.

Both paths run the full ledger rules and extend the hash chain; the bulk path takes each generated batch as
one document (prefetch in bulk, one transaction, ``executemany``), the baseline takes every event as its own
document. The baseline runs on the first ``--baseline-events`` events only (it is slow), and rates are
compared per event.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from lichain.core.validate import LocatedEvent
from lichain.services.ingest import ingest_events
from lichain.services.record import assign_ids
from lichain.storage.sql import open_store


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run and print the ingest benchmark."""
    from lichain.demo import generate

    p = argparse.ArgumentParser()
    p.add_argument("--lots", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--baseline-events", type=int, default=5_000)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", type=Path, default=None)
    a = p.parse_args(argv)
    if a.quick:
        a.baseline_events = min(a.baseline_events, 1_000)

    t0 = time.perf_counter()
    chain = generate(lots=a.lots, seed=a.seed)
    batches = [assign_ids(chain.master_events), *(assign_ids(b) for b in chain.batches())]
    t_gen = time.perf_counter() - t0
    n_events = sum(len(b) for b in batches)

    with tempfile.TemporaryDirectory() as tmp:
        bulk = open_store(str(Path(tmp) / "bulk.db"))
        t0 = time.perf_counter()
        for k, b in enumerate(batches):
            r = ingest_events([LocatedEvent(f"b{k}/{i}", ev) for i, ev in enumerate(b)], bulk)
            assert r.ok, r.problems[:3]
        t_bulk = time.perf_counter() - t0
        # snapshot of the ledger just written: bulk read → CSR, then a load from the on-disk cache
        import os

        os.environ["LICHAIN_CACHE"] = str(Path(tmp) / "cache")
        from lichain.analysis.snapshot import Snapshot
        from lichain.analysis.synth import synthetic_ledger
        from lichain.services.snapshot import load_snapshot

        Snapshot.build(synthetic_ledger(2_000, seed=1))  # numba JIT (compile or cache load) stays out of the timing
        t0 = time.perf_counter()
        built = load_snapshot(bulk)
        t_build = time.perf_counter() - t0
        t0 = time.perf_counter()
        cached = load_snapshot(bulk)
        t_cache = time.perf_counter() - t0
        assert built.how == "built" and cached.how == "cache"
        n_lots, n_edges = built.snapshot.n_lots, built.snapshot.n_edges
        bulk.close()

        single = open_store(str(Path(tmp) / "single.db"))
        flat = [ev for b in batches for ev in b][: a.baseline_events]
        t0 = time.perf_counter()
        for i, ev in enumerate(flat):
            r = ingest_events([LocatedEvent(f"e{i}", ev)], single)
            assert r.ok, r.problems[:3]
        t_single = time.perf_counter() - t0
        single.close()

    res = {
        "events": n_events, "lots_requested": a.lots, "generate_and_id_s": t_gen,
        "bulk_s": t_bulk, "bulk_events_per_s": n_events / t_bulk,
        "per_event_events": len(flat), "per_event_s": t_single, "per_event_events_per_s": len(flat) / t_single,
    }
    res["ratio_bulk_vs_per_event"] = res["bulk_events_per_s"] / res["per_event_events_per_s"]
    res.update({"snapshot_lots": n_lots, "snapshot_edges": n_edges, "snapshot_build_s": t_build,
                "snapshot_build_lots_per_s": n_lots / t_build, "snapshot_cache_load_s": t_cache,
                "snapshot_cache_lots_per_s": n_lots / t_cache})
    print("\n== bulk ingest into SQLite (validation + hash chain), demo chain ==")
    print(f"events {n_events:,} (generation + ids {t_gen:.1f} s, not timed below)")
    print(f"  bulk path            {t_bulk:8.2f} s   {res['bulk_events_per_s']:>10,.0f} events/s")
    print(f"  one commit per event {t_single:8.2f} s   {res['per_event_events_per_s']:>10,.0f} events/s "
          f"(first {len(flat):,} events)")
    print(f"  ratio bulk / per-event: {res['ratio_bulk_vs_per_event']:.1f}×")
    print(f"\n== snapshot of that ledger: {n_lots:,} lots, {n_edges:,} edges ==")
    print(f"  build from SQLite (bulk read → CSR) {t_build:8.3f} s   {n_lots / t_build:>12,.0f} lots/s")
    print(f"  load from the on-disk cache          {t_cache:8.3f} s   {n_lots / t_cache:>12,.0f} lots/s")
    if a.out:
        a.out.write_text(json.dumps(res, indent=2))
    return res


if __name__ == "__main__":
    main()
