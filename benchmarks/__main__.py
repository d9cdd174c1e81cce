"""Run the benchmarks: ``python -m benchmarks [--quick] [--lots 100000,1000000] [--out DIR]``.

Each benchmark prints our time beside the baselines named in its issue, measured in the same run, and the
ratios; results also go to JSON files under ``--out`` (default ``bench-out/``). ``--quick`` is the CI mode:
small sizes, proving the benchmarks work, not for timing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks import (
    bench_cli,
    bench_csv_stream,
    bench_extend,
    bench_footprint,
    bench_graph,
    bench_ingest,
    bench_process,
    bench_scenario,
    bench_service,
    bench_stream,
)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run every benchmark."""
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("--quick", action="store_true", help="CI mode: 100 k lots, short runs")
    p.add_argument("--lots", default=None, help="comma-separated graph sizes (default 100000,1000000,5000000)")
    p.add_argument("--ingest-lots", type=int, default=None, help="demo size for the ingest benchmark")
    p.add_argument("--only", choices=["graph", "ingest", "footprint", "stream", "csvstream", "cli", "process",
                                       "scenario", "service", "extend"], default=None)
    p.add_argument("--pg-url", default=None, help="PostgreSQL server for the ingest benchmark (a schema is made)")
    p.add_argument("--stream-lots", type=int, default=None, help="demo size for the streaming-ingest benchmark")
    p.add_argument("--footprint-lots", type=int, default=None, help="demo size for the footprint benchmark")
    p.add_argument("--out", default="bench-out", type=Path)
    a = p.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    if a.only in (None, "ingest"):
        bench_ingest.main(["--lots", str(a.ingest_lots or (3000 if a.quick else 100_000)),
                           "--out", str(a.out / "ingest.json")] + (["--quick"] if a.quick else [])
                          + (["--pg-url", a.pg_url] if a.pg_url else []))
    if a.only in (None, "graph"):
        lots = a.lots or ("100000" if a.quick else "100000,1000000,5000000")
        bench_graph.main(["--lots", lots, "--out", str(a.out / "graph.json")] + (["--quick"] if a.quick else []))
    if a.only in (None, "footprint"):
        bench_footprint.main(["--lots", str(a.footprint_lots or (3000 if a.quick else 1_000_000)),
                              "--out", str(a.out / "footprint.json")] + (["--quick"] if a.quick else []))
    if a.only in (None, "extend"):
        bench_extend.main(["--out", str(a.out / "extend.json")] + (["--quick"] if a.quick else []))
    if a.only in (None, "stream"):
        bench_stream.main(["--lots", str(a.stream_lots or (3000 if a.quick else 100_000)),
                           "--out", str(a.out / "stream.json")] + (["--quick"] if a.quick else []))
    if a.only in (None, "csvstream"):
        bench_csv_stream.main(["--lots", str(a.stream_lots or (2000 if a.quick else 100_000)),
                               "--out", str(a.out / "csv_stream.json")] + (["--quick"] if a.quick else []))
    if a.only in (None, "scenario"):
        bench_scenario.main(["--out", str(a.out / "scenario.json")] + (["--quick"] if a.quick else []))
    if a.only in (None, "cli"):
        bench_cli.main(["--out", str(a.out / "cli.json")] + (["--quick"] if a.quick else []))
    if a.only in (None, "process"):
        bench_process.main(["--out", str(a.out / "process.json")] + (["--quick"] if a.quick else []))
    if a.only in (None, "service"):
        bench_service.main(["--out", str(a.out / "service.json")] + (["--quick"] if a.quick else []))
    return 0


if __name__ == "__main__":
    sys.exit(main())
