"""Peak memory and time of ingesting a big CSV folder: streamed (staged on disk, chunks in one transaction) versus
read whole.

The folder is the demo chain of ``--lots`` lots written in the tabular format as CSV files
(:func:`lichain.io.tabular_write.write_workbook`). Each path runs ``lichain ingest`` semantics in a child process on an
empty SQLite ledger; the child's peak resident set size (``VmHWM`` of ``/proc/self/status``) and wall time are
reported per GB of CSV, with the ratios whole/streamed. The baseline is the whole-folder path (every sheet read into
rows and events, one check, one write), measured in the same run; both must end at the same chain head.
Target (ledger-integrity issue): bounded memory, a 1 GB folder with ≤ 500 MB peak RSS.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from benchmarks.bench_stream import run_child
from lichain.core.model import Activity, Electricity, Event, Lot, Run

#: The ledger clock of the children: after the last demo event of any size benchmarked.
_NOW = "2040-01-01T00:00:00Z"


def tabular_form(ev: Event) -> Event:
    """The demo event as the tabular format holds it: explicit emission factor keys dropped (the format names
    none), one electricity entry per source with only the first one's instrument; everything else unchanged."""
    def act(a: Activity | None) -> Activity | None:
        if a is None:
            return None
        elec: dict[str, Electricity] = {}
        for e in sorted(a.electricity, key=lambda e: e.instrument is None):
            old = elec.get(e.source)
            kwh = e.kwh + (old.kwh if old else 0)
            elec[e.source] = Electricity(kwh, e.source, (old.instrument if old else e.instrument) if not elec or
                                         (old and old is next(iter(elec.values()))) else None)
        return replace(a, electricity=tuple(elec.values()),
                       reagents=tuple(replace(r, factor_key=None) for r in a.reagents))

    b = ev.body
    if isinstance(b, Lot):
        return replace(ev, body=replace(b, activity=act(b.activity)))
    if isinstance(b, Run):
        return replace(ev, body=replace(b, activity=act(b.activity) or Activity()))
    return ev


def write_folder(lots: int, seed: int, path: Path) -> int:
    """Write the demo chain of ``lots`` lots as a CSV folder; return the number of events written to it."""
    from lichain.demo import generate
    from lichain.io.tabular_write import write_workbook

    chain = generate(lots=lots, seed=seed)
    events = [tabular_form(ev) for b in [chain.master_events, *chain.batches(include_master=False)] for ev in b]
    write_workbook(events, path)
    return len(events)


def folder_bytes(path: Path) -> int:
    """Total size of the folder's CSV files [bytes]."""
    return sum(f.stat().st_size for f in path.glob("*.csv"))


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run and print the streaming CSV-ingest benchmark."""
    p = argparse.ArgumentParser()
    p.add_argument("--lots", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-baseline", action="store_true", help="skip the whole-folder path (large folders)")
    p.add_argument("--no-stream", action="store_true", help="only the whole-folder path")
    p.add_argument("--quick", action="store_true", help="CI mode: a small folder, proving the benchmark works")
    p.add_argument("--out", type=Path, default=None)
    a = p.parse_args(argv)
    lots = 2_000 if a.quick and a.lots == 100_000 else a.lots
    res: dict[str, float] = {"lots": lots}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        folder = tmp / "chain"
        t0 = time.perf_counter()
        write_folder(lots, a.seed, folder)
        t_write = time.perf_counter() - t0
        gb = folder_bytes(folder) / 1e9
        res.update({"folder_gb": gb, "write_s": t_write})
        print(f"CSV ingest: folder {gb * 1000:.1f} MB ({lots:,} lots, written in {t_write:.1f} s)")
        runs: dict[str, tuple[int, float, float, str]] = {}
        for mode in ("stream", "whole"):
            if (mode == "whole" and a.no_baseline) or (mode == "stream" and a.no_stream):
                continue
            n, dt, rss, _ = runs[mode] = run_child(folder, mode, tmp, {"LICHAIN_NOW": _NOW})
            res.update({"events": n, f"{mode}_s": dt, f"{mode}_peak_rss_mb": rss,
                        f"{mode}_peak_rss_mb_per_gb": rss / gb, f"{mode}_events_per_s": n / dt})
            label = "streamed" if mode == "stream" else "whole folder"
            print(f"  {label:<13} {dt:8.1f} s  {n / dt:9,.0f} events/s  peak RSS {rss:8.1f} MB  "
                  f"({rss / gb:,.0f} MB per GB of CSV)")
        if len(runs) == 2:
            (n1, dt1, rss1, h1), (n2, dt2, rss2, h2) = runs["stream"], runs["whole"]
            assert (n1, h1) == (n2, h2), f"streamed and whole ingest differ: {(n1, h1)} != {(n2, h2)}"
            res.update({"rss_ratio_whole_over_stream": rss2 / rss1, "time_ratio_whole_over_stream": dt2 / dt1})
            print(f"  same events and chain head; ratio whole/streamed: peak RSS {rss2 / rss1:.2f}x, "
                  f"time {dt2 / dt1:.2f}x")
        print("  target: bounded memory, a 1 GB folder with <= 500 MB peak RSS")
    if a.out:
        a.out.write_text(json.dumps(res, indent=2), encoding="utf-8")
    return res


if __name__ == "__main__":
    main()
