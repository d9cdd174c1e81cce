"""Process readings: ingest rate and the time to read one run's readings, at 10 M readings (``--quick``: 1 M).

A ledger with ``--runs`` consecutive co-precipitation runs on one line gets a CSV of ``--readings`` readings
(time, run, parameter, value, unit; five parameters every few seconds), ingested by ``lichain process ingest``
semantics (chunked pyarrow read, every value, unit, time and run window checked, zstd Parquet partitions by month,
the batch event on the ledger). Baselines in the same run: parsing the same CSV with ``pyarrow.csv.read_csv``
alone (no checks, nothing written), and for the query a full scan of that CSV filtered to the run and parameter.
Reported: readings/s, bytes per reading stored, query milliseconds, and the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

_T0 = datetime(2026, 1, 1, tzinfo=UTC)
_PARAMS = (("pH", "pH", 11.4, 0.03), ("temperature", "°C", 55.0, 0.4), ("nh3_concentration", "g/L", 8.0, 0.15),
           ("stirring_speed", "rpm", 600.0, 5.0), ("feed_metal", "L/h", 120.0, 1.5))


def _ledger(db: str, runs: int) -> list[str]:
    """A precursor site, one salt lot and ``runs`` consecutive day-long co-precipitation runs on it."""
    from lichain.core.codec import kind_of
    from lichain.core.model import Consumption, Event, LocatedEvent, Lot, Material, Run, Site
    from lichain.core.validate import BalancePolicy
    from lichain.services.ingest import ingest_events
    from lichain.services.record import assign_ids
    from lichain.storage.sql import open_store

    kg = 1_000_000
    bodies: list[object] = [Site("P1", "Bench precursor plant", "precursor_plant", "CN", "Bench"),
                            Material("NSO", "Nickel sulfate", "refined_salt", "NiSO4·6H2O"),
                            Material("PCAM", "NCM811 precursor", "pcam", "Ni0.8Co0.1Mn0.1(OH)2"),
                            Lot("S1", "NSO", "P1", _T0 - timedelta(days=1), runs * 500 * kg, {"Ni": 200_000_000})]
    ids = []
    for k in range(runs):
        a, b = _T0 + timedelta(days=k), _T0 + timedelta(days=k + 1)
        ids.append(f"R{k:05d}")
        bodies.append(Run(ids[-1], "P1", "co_precipitation", a, b, (Consumption("S1", 500 * kg),),
                          (Lot(f"P{k:05d}", "PCAM", "P1", b, 160 * kg, {"Ni": 625_000_000}),)))
    evs = assign_ids([Event("", kind_of(x), _T0, x) for x in bodies])  # type: ignore[arg-type]
    store = open_store(db)
    r = ingest_events([LocatedEvent(f"bench:{i}", e) for i, e in enumerate(evs)], store,
                      policy=BalancePolicy(now=datetime(2040, 1, 1, tzinfo=UTC)))
    assert r.ok, r.problems[:3]
    store.close()
    return ids


def _csv(path: Path, runs: list[str], n: int, seed: int) -> None:
    """``n`` readings spread evenly over the runs' days, the five parameters in turn, written by pyarrow."""
    rng = np.random.default_rng(seed)
    per_run = n // len(runs)
    steps = per_run // len(_PARAMS)
    dt_us = 86_400_000_000 // steps
    chunks = []
    for k, rid in enumerate(runs):
        base = int((_T0 + timedelta(days=k)).timestamp() * 1_000_000)
        t = np.repeat(base + np.arange(steps, dtype=np.int64) * dt_us, len(_PARAMS))
        p = np.tile(np.arange(len(_PARAMS)), steps)
        mu = np.array([x[2] for x in _PARAMS])[p]
        sd = np.array([x[3] for x in _PARAMS])[p]
        chunks.append(pa.table({
            "time": pa.array(t, pa.timestamp("us", tz="UTC")),
            "run": pa.array(np.full(len(t), rid)),
            "parameter": pa.DictionaryArray.from_arrays(p.astype(np.int32), [x[0] for x in _PARAMS]).cast(pa.string()),
            "value": pa.array(np.round(rng.normal(mu, sd), 4)),
            "unit": pa.DictionaryArray.from_arrays(p.astype(np.int32), [x[1] for x in _PARAMS]).cast(pa.string()),
        }))
    pcsv.write_csv(pa.concat_tables(chunks), path)


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run and print the process-readings benchmark."""
    p = argparse.ArgumentParser()
    p.add_argument("--readings", type=int, default=10_000_000)
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="1 M readings")
    p.add_argument("--out", type=Path, default=None)
    a = p.parse_args(argv)
    n = 1_000_000 if a.quick and a.readings == 10_000_000 else a.readings
    from lichain.services.process import ingest_readings, run_readings
    from lichain.storage.sql import open_store

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        os.environ["LICHAIN_PROCESS_DIR"] = str(tmp / "proc")
        runs = _ledger(str(tmp / "b.db"), a.runs)
        csv = tmp / "readings.csv"
        t0 = time.perf_counter()
        _csv(csv, runs, n, a.seed)
        t_gen = time.perf_counter() - t0
        t0 = time.perf_counter()
        parsed = pcsv.read_csv(csv)
        t_parse = time.perf_counter() - t0
        rows = parsed.num_rows
        del parsed
        store = open_store(str(tmp / "b.db"))
        t0 = time.perf_counter()
        r = ingest_readings(store, csv, "B1")
        t_ingest = time.perf_counter() - t0
        assert r.ok and r.rows == rows, r.problems[:3]
        stored = sum((tmp / "proc" / f.path).stat().st_size for f in r.files)
        csv_mb = csv.stat().st_size / 1e6
        run = runs[len(runs) // 2]
        t0 = time.perf_counter()
        s = run_readings(store, run, "pH", limit=0)
        t_query = time.perf_counter() - t0
        t0 = time.perf_counter()
        full = pcsv.read_csv(csv)
        scan = full.filter(pc.and_(pc.equal(full.column("run"), run), pc.equal(full.column("parameter"), "pH")))
        t_scan = time.perf_counter() - t0
        assert scan.num_rows == s.count > 0
        store.close()
    res = {"readings": rows, "runs": a.runs, "csv_mb": csv_mb,
           "generate_s": t_gen, "ingest_s": t_ingest, "ingest_readings_per_s": rows / t_ingest,
           "csv_parse_s": t_parse, "csv_parse_readings_per_s": rows / t_parse,
           "ratio_ingest_over_parse": t_ingest / t_parse, "stored_bytes_per_reading": stored / rows,
           "query_ms": t_query * 1000, "query_rows": s.count, "full_scan_ms": t_scan * 1000,
           "ratio_scan_over_query": t_scan / t_query}
    print(f"process readings: {rows:,} readings over {a.runs} runs (CSV generated in {t_gen:.1f} s)")
    print(f"  ingest (checked, Parquet + ledger event) {t_ingest:8.2f} s  {rows / t_ingest:12,.0f} readings/s  "
          f"{stored / rows:.2f} bytes/reading stored")
    print(f"  baseline pyarrow.csv.read_csv alone      {t_parse:8.2f} s  {rows / t_parse:12,.0f} readings/s  "
          f"(ratio ingest/parse {t_ingest / t_parse:.2f}x)")
    print(f"  one run's pH ({s.count:,} readings)        {t_query * 1000:8.1f} ms")
    print(f"  baseline full CSV scan + filter          {t_scan * 1000:8.1f} ms  (ratio scan/query "
          f"{t_scan / t_query:.1f}x)")
    if a.out:
        a.out.write_text(json.dumps(res, indent=2), encoding="utf-8")
    return res


if __name__ == "__main__":
    main()
