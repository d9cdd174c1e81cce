"""The whole-ledger footprint carried to the next chain head by a shipment or a supplier PCF, beside its full
recomputation.

A service's writers record shipments as often as runs: before, every shipment made the next footprint read
recompute the whole ledger (50–100 s at 1 M lots on this machine). Now a leg that changes no earlier run's
transport charge is taken by extending the footprint (``services/footprint_extend.py``). This benchmark loads the
footprint of a ledger (``--db``, else a demo of ``--lots`` in a temporary SQLite file), then records ``--docs``
documents, one shipment each, of lots still whole at the site that made them (the common case: a lot leaves its
plant), and times the footprint read after each. The baseline, in the same run, is the full recomputation at the
last head (no cache), which the extended result is compared with (1e-12 relative). Then ``--pcfs`` supplier PCFs
superseding one on record, of the first purchased lot with a PCF (its new burden re-solves nearly every later
lot's footprint) and of the last: before, each made the next read recompute the whole ledger too.

Run: ``python -m benchmarks.bench_extend [--db URL] [--lots N] [--docs 5] [--pcfs 2] [--quick] [--out FILE]``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import text


def _lots_to_ship(store: Any, k: int) -> list[tuple[str, str, int, int]]:
    """(lot id, site, mass [mg], produced [µs]) of the last ``k`` live lots made over an hour ago (a demo's
    timeline runs ahead of the clock) and never consumed nor shipped."""
    q = text("SELECT l.id, l.site, l.mass_mg, l.produced_us FROM lots l "
             "WHERE NOT EXISTS (SELECT 1 FROM consumptions c WHERE c.lot_idx = l.idx) "
             "AND NOT EXISTS (SELECT 1 FROM shipments s WHERE s.lot_idx = l.idx) "
             "AND l.event_seq NOT IN (SELECT target_seq FROM retractions) AND l.produced_us < :before "
             "ORDER BY l.idx DESC LIMIT :k")
    before = int((datetime.now(UTC) - timedelta(hours=1)).timestamp() * 1e6)
    with store.read() as c:
        return [(r[0], r[1], int(r[2]), int(r[3])) for r in c.execute(q, {"k": k, "before": before})]


def _purchased(store: Any) -> list[str]:
    """The first and the last live purchased lot (no producing run) with a supplier PCF on record: a new PCF for
    the first re-solves the footprint of nearly every lot after it."""
    q = text("SELECT l.id FROM supplier_pcfs p JOIN lots l ON l.id = p.lot_id WHERE l.run_idx IS NULL "
             "AND l.event_seq NOT IN (SELECT target_seq FROM retractions) ORDER BY l.idx")
    with store.read() as c:
        ids = [r[0] for r in c.execute(q)]
    return list(dict.fromkeys(ids[:1] + ids[-1:]))


def _other_site(store: Any, site: str) -> str:
    with store.read() as c:
        return str(c.execute(text("SELECT id FROM sites WHERE id <> :s ORDER BY id LIMIT 1"), {"s": site}).scalar())


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run and print the benchmark; returns the figures."""
    from lichain.core.model import Event, EventKind, LocatedEvent, Shipment, SupplierPcf
    from lichain.services import footprint as service
    from lichain.services.ingest import ingest_events
    from lichain.services.record import assign_ids
    from lichain.storage.sql import open_store

    p = argparse.ArgumentParser()
    p.add_argument("--db", default=None, help="an existing ledger (its cache folder: LICHAIN_CACHE)")
    p.add_argument("--lots", type=int, default=None, help="demo size when no --db (default 100 k; --quick 3 k)")
    p.add_argument("--docs", type=int, default=5)
    p.add_argument("--pcfs", type=int, default=2, help="then as many supplier PCFs superseding one on record")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", type=Path, default=None)
    a = p.parse_args(argv)
    tmp = tempfile.TemporaryDirectory()
    res: dict[str, Any] = {}
    if a.db is None:
        from lichain.services.demo import run_demo

        lots = a.lots or (3000 if a.quick else 100_000)
        os.environ.setdefault("LICHAIN_CACHE", str(Path(tmp.name) / "cache"))
        url = str(Path(tmp.name) / "ledger.db")
        t0 = time.perf_counter()
        demo_store = open_store(url)
        run_demo(demo_store, lots=lots)
        demo_store.close()
        res["setup_s"] = time.perf_counter() - t0
    else:
        url = a.db
    store = open_store(url)
    try:
        t0 = time.perf_counter()
        lf = service.ledger_footprint(store)
        res.update(lots=int(lf.store_lot_idx.shape[0]), load_s=time.perf_counter() - t0, load_how=lf.how)
        print(f"\n== footprint carried by shipments: {res['lots']:,} lots (first load {res['load_s']:.2f} s, "
              f"{lf.how}) ==")
        reads, pcf_reads = [], []
        def record_and_read(kind: Any, when: datetime, body: Any, what: str) -> Any:
            """Record one event, then time the footprint read that follows it."""
            ev = assign_ids([Event("", kind, when, body)])[0]
            r = ingest_events([LocatedEvent(f"bench:{what}", ev)], store)
            if not r.ok:
                raise SystemExit(f"{what} was refused: {r.problems[:3]}")
            t0 = time.perf_counter()
            got = service.ledger_footprint(store)
            reads.append((time.perf_counter() - t0, got.how))
            print(f"  {what}: footprint read {reads[-1][0] * 1e3:9.1f} ms ({got.how})")
            return got

        for n, (lot, site, mg, produced) in enumerate(_lots_to_ship(store, a.docs)):
            when = datetime.fromtimestamp(produced / 1e6, UTC) + timedelta(hours=1)
            got = record_and_read(EventKind.SHIPMENT, when, Shipment(
                f"BENCH-EXT-{os.getpid()}-{n}-{lot}", lot, mg, site, _other_site(store, site), when, "road",
                Decimal(250)), f"shipment {n + 1}")
        for n, lot in enumerate(_purchased(store)[: a.pcfs]):
            got = record_and_read(EventKind.SUPPLIER_PCF, datetime.now(UTC) - timedelta(hours=1), SupplierPcf(
                lot, Decimal("7.5") + n, "Bench supplier", f"BENCH-PCF-{os.getpid()}-{n}"),
                f"supplier PCF {n + 1} (lot {lot})")
            pcf_reads.append(reads[-1][0])
        t0 = time.perf_counter()
        full = service._compute(store, None, use_cache=False)
        t_full = time.perf_counter() - t0
        same = bool(np.allclose(got.x, full.x, rtol=1e-12, atol=1e-300)) and got.head == full.head
        worst, median = max(t for t, _ in reads), float(np.median([t for t, _ in reads]))
        res.update(reads_s=[t for t, _ in reads], reads_how=[h for _, h in reads], full_s=t_full,
                   equal_to_full=same, ratio_slowest=t_full / worst, ratio_median=t_full / median)
        if pcf_reads:
            res.update(pcf_reads_s=pcf_reads, ratio_pcf_slowest=t_full / max(pcf_reads))
            print(f"  ratio full / read after a supplier PCF: {t_full / max(pcf_reads):,.0f}x at the slowest")
        print(f"  baseline, full recomputation at the last head: {t_full:9.2f} s")
        print(f"  ratio full / extended read: {t_full / median:,.0f}x at the median, {t_full / worst:,.0f}x at the "
              f"slowest (the first extension also copies the loaded rows into growable buffers); extended equals "
              f"full (1e-12): {same}")
        if not same or any(h != "extended" for _, h in reads):
            raise SystemExit("a shipment or PCF was not carried by the extension, or the result differs from the full "
                             "one")
    finally:
        store.close()
        tmp.cleanup()
    if a.out:
        a.out.write_text(json.dumps(res, indent=2))
    return res


if __name__ == "__main__":
    main()
