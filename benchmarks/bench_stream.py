"""Peak memory of ingesting a big EPCIS document: streamed (chunks in one transaction) versus read whole.

The document is the demo chain of ``--lots`` lots written as one EPCIS 2.0 JSON-LD file. Each path runs
``lichain ingest`` semantics in a child process on an empty SQLite ledger; the child's peak resident set size
(``VmHWM`` of ``/proc/self/status``) and wall time are reported per GB of document, with the ratios whole/streamed. The baseline is
the whole-document path (``read_epcis`` of the file's bytes, one check, one write), measured in the same run.
Target (ledger-integrity issue): a 1 GB document with ≤ 500 MB peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHILD = """
import sys, time
from pathlib import Path
from lichain.services.record import ingest_file
from lichain.storage.sql import open_store
path, db, mode = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
store = open_store(db)
t = time.perf_counter()
r = ingest_file(store, path, stream_above=0 if mode == "stream" else 1 << 62)
dt = time.perf_counter() - t
assert r.ok, r.problems[:3]
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(r.events_written, dt, hwm, store.head()[1])
"""


def write_document(lots: int, seed: int, path: Path) -> int:
    """Write the demo chain of ``lots`` lots as one EPCIS document; return the number of ledger events."""
    from lichain.demo import generate
    from lichain.io.epcis import write_epcis_stream
    from lichain.services.record import assign_ids

    chain = generate(lots=lots, seed=seed)
    events = (ev for b in [chain.master_events, *chain.batches(include_master=False)] for ev in assign_ids(b))
    with path.open("w", encoding="utf-8") as fp:
        return write_epcis_stream(events, fp)


def run_child(path: Path, mode: str, tmp: Path, env: dict[str, str] | None = None) -> tuple[int, float, float, str]:
    """Ingest ``path`` (an EPCIS document or a CSV folder) into a new SQLite ledger in a child process, ``mode``
    "stream" or "whole": (events written, seconds, peak RSS [MB], chain head)."""
    db = str(tmp / f"{mode}.db")
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path), db, mode], check=True, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
                                        **(env or {})})
    n, dt, rss_kb, head = out.stdout.split()
    # VmHWM (KiB): the child's own peak; ru_maxrss would also count the parent's peak, inherited across exec
    return int(n), float(dt), int(rss_kb) / 1024, head


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run and print the streaming-ingest memory benchmark."""
    p = argparse.ArgumentParser()
    p.add_argument("--lots", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-baseline", action="store_true", help="skip the whole-document path (large documents)")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", type=Path, default=None)
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        doc = tmp / "doc.jsonld"
        t0 = time.perf_counter()
        n_written = write_document(a.lots, a.seed, doc)
        t_write = time.perf_counter() - t0
        gb = doc.stat().st_size / 1e9
        n, dt, rss, _ = run_child(doc, "stream", tmp)
        assert n == n_written
        res: dict[str, float] = {"lots": a.lots, "events": n, "document_gb": gb, "write_s": t_write,
                                 "stream_s": dt, "stream_peak_rss_mb": rss, "stream_events_per_s": n / dt,
                                 "stream_peak_rss_mb_per_gb": rss / gb}
        baseline_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"stream ingest: document {gb * 1000:.1f} MB, {n:,} events (written in {t_write:.1f} s); "
              f"this process {baseline_rss:.0f} MB after generating it")
        print(f"  streamed        {dt:8.1f} s  {n / dt:9,.0f} events/s  peak RSS {rss:8.1f} MB  "
              f"({rss / gb:,.0f} MB per GB of document)")
        if not a.no_baseline:
            n2, dt2, rss2, _ = run_child(doc, "whole", tmp)
            assert n2 == n
            res.update({"whole_s": dt2, "whole_peak_rss_mb": rss2, "whole_peak_rss_mb_per_gb": rss2 / gb,
                        "rss_ratio_whole_over_stream": rss2 / rss, "time_ratio_whole_over_stream": dt2 / dt})
            print(f"  whole document  {dt2:8.1f} s  {n2 / dt2:9,.0f} events/s  peak RSS {rss2:8.1f} MB  "
                  f"({rss2 / gb:,.0f} MB per GB of document)")
            print(f"  ratio whole/streamed: peak RSS {rss2 / rss:.2f}x, time {dt2 / dt:.2f}x")
        print(f"  target: a 1 GB document with <= 500 MB peak RSS; streamed peak here {rss:,.0f} MB for "
              f"{gb:.2f} GB (streamed memory does not grow with the document; run --lots 600000 for ~1 GB)")
    if a.out:
        a.out.write_text(json.dumps(res, indent=2), encoding="utf-8")
    return res


if __name__ == "__main__":
    main()
