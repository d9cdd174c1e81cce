"""Load on the REST API: concurrent readers (trace, footprint) while writers ingest, on SQLite and PostgreSQL.

A demo ledger (``--lots``; ``--quick`` 1,000) is served by ``lichain.web.app:app_from_env`` under uvicorn on
127.0.0.1 (``--workers`` processes). Load model: closed loop, by default without think time (a saturation test);
``--think-ms T`` makes each reader wait an exponentially distributed pause of mean T between its requests, as
people at a dashboard do (latency is timed per request, pauses excluded). For ``--seconds`` (``--quick`` 3 s),
each of ``--readers`` threads (spread over ``--client-procs`` client processes, default 4, so that
the client's own interpreter lock does not queue them) GETs, one after the other, the trace or the footprint (chosen at random) of a random
CAM lot (one of the first 400), or with ``--passports`` also the passport of a random cell lot, as the ledger
owner, without ``If-None-Match`` (every read runs the use case), and each of ``--writers`` threads POSTs one-lot
EPCIS documents as the operator of a mine, one after the other (or, with ``--write-rate R``, one every 1/R s
each: a steady feed rather than a saturating one). Reported per kind: requests, throughput [1/s], p50 and p99 of the latency the client measured [ms] and
of the server's own time per request (its ``Server-Timing`` header: from the request reaching the app to the
response starting; on 2 cores it includes waiting for the process's interpreter lock) and the workers' CPU time
per request (from /proc: what a request costs, apart from any queueing). Afterwards nothing may be lost or duplicated: the chain
verifies, and the events on record grew by exactly the number of documents accepted.

PostgreSQL runs when ``LICHAIN_TEST_PG_URL`` is set (a database of its own is created). Big ledgers take minutes
to build: ``--sqlite PATH`` and ``--pg URL`` serve a ledger built before (``lichain demo --lots 1000000 --seed 7
--db ...``) instead, and ``--cache DIR`` keeps the analysis cache between runs. ``--in-process`` measures the
per-request times in one process instead (:func:`in_process`). Loopback only; bounded in time.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = ["main"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] * 1e3


def _prepare(url: str, lots: int, built: bool) -> dict[str, Any]:
    """Demo ledger (unless ``built``), an owner and a mine operator with keys, CAM lot ids, and a template for
    written lots."""
    from lichain.services.demo import run_demo
    from lichain.services.query import list_lots
    from lichain.storage import access_sql as acc
    from lichain.storage.sql import open_store

    store = open_store(url)
    if not built:
        run_demo(store, lots=lots, seed=7)
    owner_org = sorted(store.owner_organisations())[0]
    mine = next(x for x in list_lots(store, stage="ore", limit=50))
    mine_org = acc.site_organisations(store)[mine.site]
    tag = f"{os.getpid()}-{int(time.time())}"
    acc.add_user(store, f"bench-owner-{tag}", owner_org, "owner")
    acc.add_user(store, f"bench-mine-{tag}", mine_org, "operator")
    cams = [x.id for x in list_lots(store, stage="cam", limit=400)]
    with store.read() as conn:  # cell lots with the cell maker's data: their passports can be issued
        from lichain.storage.quality_sql import events_of_kinds

        cells = sorted({json.loads(p)["lot"] for _, _, p in events_of_kinds(conn, ("cell_spec",))})[:100]
    keys = {"owner": acc.new_key(store, f"bench-owner-{tag}")[1], "mine": acc.new_key(store, f"bench-mine-{tag}")[1]}
    counts = store.counts()
    events = counts["events"]
    store.close()
    return {"keys": keys, "cams": cams, "cells": cells, "mine": mine, "events": events, "lots": counts["lots"]}


def _lot_doc(mine: Any, n: int) -> bytes:
    from lichain.core.codec import parse_time
    from lichain.core.model import Event, EventKind, Lot
    from lichain.io.epcis import write_epcis
    from lichain.services.record import assign_ids

    t = parse_time(mine.produced_at) + timedelta(seconds=n + 1)
    assay = {e: round(v * 1e9) for e, v in mine.assay.items()}
    lot = Lot(f"BENCH-{os.getpid()}-{int(time.time())}-{n}", mine.material, mine.site, t, 1_000_000, assay)
    return json.dumps(write_epcis(assign_ids([Event("", EventKind.LOT, t, lot)]))).encode()


def _server_ms(r: Any) -> float | None:
    """The app's own time of a response [s] from its ``Server-Timing`` header."""
    for part in r.headers.get("server-timing", "").split(","):
        if part.strip().startswith("app;dur="):
            return float(part.strip()[8:]) / 1e3
    return None


def _cpu_s(pid: int) -> float:
    """CPU time [s] (user + system) of process ``pid`` and all its descendants (the server: its workers and
    their writer processes), from /proc."""
    total, todo = 0.0, [str(pid)]
    try:
        while todo:
            k = todo.pop()
            f = Path(f"/proc/{k}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
            for task in Path(f"/proc/{k}/task").iterdir():
                todo += (task / "children").read_text().split()
    except OSError:
        return float("nan")
    return total


def _readers(base: str, owner: dict[str, str], kinds_read: tuple[str, ...], cams: list[str], cells: list[str],
             seeds: list[int], stop: float, think_ms: float
             ) -> tuple[dict[str, list[float]], dict[str, list[float]], list[str]]:
    """Readers ``seeds`` (one thread each) in a client process of their own until ``stop`` (``perf_counter``,
    the system's monotonic clock): latencies [s], server times [ms] and errors."""
    import httpx

    lat: dict[str, list[float]] = {k: [] for k in kinds_read}
    srv: dict[str, list[float]] = {k: [] for k in kinds_read}
    errors: list[str] = []
    lock = threading.Lock()

    def reader(seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=base, headers=owner, timeout=120) as c:
            while time.perf_counter() < stop:
                if think_ms:
                    time.sleep(min(rng.expovariate(1e3 / think_ms), max(0.0, stop - time.perf_counter())))
                    if time.perf_counter() >= stop:
                        break
                kind = rng.choice(kinds_read)
                lot = rng.choice(cells if kind == "passport" else cams)
                t = time.perf_counter()
                try:
                    r = c.get(f"/passports/{lot}" if kind == "passport" else f"/{kind}/{lot}")
                except httpx.HTTPError as exc:
                    with lock:
                        errors.append(f"{kind} {exc!r}")
                    continue
                dt = time.perf_counter() - t
                with lock:
                    if r.status_code == 200:
                        lat[kind].append(dt)
                        if (ms := _server_ms(r)) is not None:
                            srv[kind].append(ms)
                    else:
                        errors.append(f"{kind} {r.status_code}")

    threads = [threading.Thread(target=reader, args=(seed,)) for seed in seeds]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return lat, srv, errors


def run_backend(name: str, url: str, a: argparse.Namespace, tmp: Path, built: bool = False) -> dict[str, Any]:
    """Serve ``url``, load it for ``a.seconds``, check nothing was lost; the figures."""
    import httpx

    prep = _prepare(url, a.lots, built)
    port = _free_port()
    cache = a.cache / f"cache-{name}" if a.cache else tmp / f"cache-{name}"
    env = {**os.environ, "LICHAIN_DB": url, "LICHAIN_CACHE": str(cache)}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "lichain.web.app:app_from_env", "--factory",
                               "--host", "127.0.0.1", "--port", str(port), "--workers", str(a.workers),
                               "--log-level", "warning"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        owner = {"Authorization": f"Bearer {prep['keys']['owner']}"}
        mine_h = {"Authorization": f"Bearer {prep['keys']['mine']}", "Content-Type": "application/ld+json"}
        with httpx.Client(base_url=base, headers=owner, timeout=1800) as warm:  # cold builds, apart (each worker)
            t0 = time.perf_counter()
            warm.get(f"/footprint/{prep['cams'][0]}")
            warm.get(f"/trace/{prep['cams'][0]}")
            cold = time.perf_counter() - t0
            ths = [threading.Thread(target=lambda: [httpx.get(f"{base}/{k}/{lot}", headers=owner, timeout=1800)
                                                    for lot in prep["cams"][:3] for k in ("footprint", "trace")])
                   for _ in range(2 * a.workers)]
            for th in ths:
                th.start()
            for th in ths:
                th.join()
        kinds_read = ("trace", "footprint", "passport") if a.passports and prep["cells"] else ("trace", "footprint")
        if "passport" in kinds_read:  # each worker's first passport read, apart
            for lot in prep["cells"][:2 * a.workers]:
                httpx.get(f"{base}/passports/{lot}", headers=owner, timeout=1800)
        lat: dict[str, list[float]] = {k: [] for k in (*kinds_read, "ingest")}
        srv: dict[str, list[float]] = {k: [] for k in (*kinds_read, "ingest")}
        errors: list[str] = []
        accepted = [0]
        lock = threading.Lock()
        stop = time.perf_counter() + a.seconds
        counter = iter(range(10**9))

        def writer() -> None:
            due = time.perf_counter()
            with httpx.Client(base_url=base, headers=mine_h, timeout=120) as c:
                while time.perf_counter() < stop:
                    if a.write_rate:  # paced: one document every 1/rate s (a late writer does not catch up)
                        due = max(due + 1 / a.write_rate, time.perf_counter())
                        time.sleep(max(0.0, min(due - time.perf_counter(), stop - time.perf_counter())))
                        if time.perf_counter() >= stop:
                            break
                    with lock:
                        n = next(counter)
                    t = time.perf_counter()
                    try:
                        r = c.post("/ingest", content=_lot_doc(prep["mine"], n))
                    except httpx.HTTPError as exc:
                        with lock:
                            errors.append(f"ingest {exc!r}")
                        continue
                    dt = time.perf_counter() - t
                    with lock:
                        if r.status_code == 200 and r.json()["events_written"] == 1:
                            lat["ingest"].append(dt)
                            if (ms := _server_ms(r)) is not None:
                                srv["ingest"].append(ms)
                            accepted[0] += 1
                        else:
                            errors.append(f"ingest {r.status_code} {r.text[:200]}")

        threads = [threading.Thread(target=writer) for _ in range(a.writers)]
        procs = max(1, min(a.client_procs, a.readers))
        jobs = [(base, owner, kinds_read, prep["cams"], prep["cells"], list(range(k, a.readers, procs)), stop,
                 a.think_ms) for k in range(procs)]
        cpu0 = _cpu_s(server.pid)
        t0 = time.perf_counter()
        # client processes start from a clean server process, not forked from this one: a fork taken while this
        # process's threads held a lock (one CI run hung in OpenSSL's context set-up in a forked reader) copies
        # the lock held and the child waits for it for ever
        with ProcessPoolExecutor(procs, mp_context=multiprocessing.get_context("forkserver")) as pool:
            futures = [pool.submit(_readers, *job) for job in jobs]
            for th in threads:
                th.start()
            for f in futures:
                got_lat, got_srv, got_errors = f.result()
                for k in kinds_read:
                    lat[k] += got_lat[k]
                    srv[k] += got_srv[k]
                errors += got_errors
            for th in threads:
                th.join()
        wall = time.perf_counter() - t0
        cpu = _cpu_s(server.pid) - cpu0
        load = os.getloadavg()[0]
        with httpx.Client(base_url=base, headers=owner, timeout=600) as c:
            v = c.get("/verify").json()
        kinds = {k: {"requests": len(x), "per_s": len(x) / wall, "p50_ms": _pct(x, 0.5), "p99_ms": _pct(x, 0.99),
                     "server_p50_ms": _pct(srv[k], 0.5), "server_p99_ms": _pct(srv[k], 0.99)}
                 for k, x in lat.items()}
        result = {"backend": name, "lots": prep["lots"], "workers": a.workers, "readers": a.readers,
                  "client_procs": procs,
                  "think_ms": a.think_ms, "write_rate": a.write_rate,
                  "writers": a.writers, "seconds": wall, "cold_first_reads_s": cold, "kinds": kinds,
                  "server_cpu_s": cpu, "cpu_ms_per_request": cpu * 1e3 / max(1, sum(len(x) for x in lat.values())),
                  "load_average_1min": load,
                  "errors": errors[:5], "error_count": len(errors), "documents_accepted": accepted[0],
                  "chain_ok": v["ok"], "events_before": prep["events"], "events_after": v["events"],
                  "nothing_lost_or_duplicated": v["ok"] and v["events"] == prep["events"] + accepted[0]}
    finally:
        server.terminate()
        server.wait(timeout=30)
    return result


def in_process(url: str, lots: int = 100) -> dict[str, dict[str, float]]:
    """Per-request times in one warm process, one request at a time (no HTTP, no queueing): key check, lot scope
    check, and the trace and footprint use cases on the first ``lots`` CAM lots, each read twice (first read,
    then again: kept answers), and the passport of the first ``lots`` cell lots likewise. p50 and p99 [ms] per
    step."""
    from lichain.services.footprint import footprint_of
    from lichain.services.query import list_lots
    from lichain.services.trace import trace_lot
    from lichain.storage import access_sql as acc
    from lichain.storage.sql import open_store
    from lichain.web.access import principal_of
    from lichain.web.service import Service, lot_for

    store = open_store(url)
    user = f"bench-inproc-{os.getpid()}-{int(time.time())}"
    acc.add_user(store, user, sorted(store.owner_organisations())[0], "owner")
    key = acc.new_key(store, user)[1]
    cams = [x.id for x in list_lots(store, stage="cam", limit=lots)]
    svc = Service(store)
    footprint_of(store, cams[-1])  # the process's snapshot and whole-ledger footprint, apart
    trace_lot(store, cams[-1])
    p = principal_of(acc.authenticate(store, key))
    steps: dict[str, Callable[[str], object]] = {"authenticate": lambda lot: acc.authenticate(store, key),
             "lot scope": lambda lot: lot_for(svc, p, lot, "full"),
             "trace first": lambda lot: trace_lot(store, lot), "trace again": lambda lot: trace_lot(store, lot),
             "footprint first": lambda lot: footprint_of(store, lot),
             "footprint again": lambda lot: footprint_of(store, lot)}
    with store.read() as conn:  # cell lots with the cell maker's data: their passports can be issued
        from lichain.storage.quality_sql import events_of_kinds

        cells = sorted({json.loads(p)["lot"] for _, _, p in events_of_kinds(conn, ("cell_spec",))})[:lots]
    if cells:
        from lichain.services.passport import passport

        steps.update({"passport first": lambda lot: passport(store, lot, level="authority"),
                      "passport again": lambda lot: passport(store, lot, level="authority")})
    out = {}
    for name, f in steps.items():
        xs = []
        for lot in cells if name.startswith("passport") else cams:
            t = time.perf_counter()
            f(lot)
            xs.append(time.perf_counter() - t)
        out[name] = {"p50_ms": _pct(xs, 0.5), "p99_ms": _pct(xs, 0.99)}
        print(f"  {name:16s} p50 {out[name]['p50_ms']:7.2f} ms  p99 {out[name]['p99_ms']:7.2f} ms")
    store.close()
    return out


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Run and print the service load benchmark; returns the figures per backend."""
    p = argparse.ArgumentParser()
    p.add_argument("--lots", type=int, default=None)
    p.add_argument("--seconds", type=float, default=None)
    p.add_argument("--readers", type=int, default=8)
    p.add_argument("--writers", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--think-ms", type=float, default=0.0, help="mean pause of a reader between requests [ms]")
    p.add_argument("--write-rate", type=float, default=0.0,
                   help="documents per second per writer (0: each writer posts as fast as it is answered)")
    p.add_argument("--client-procs", type=int, default=4,
                   help="client processes the readers are spread over (threads within each)")
    p.add_argument("--passports", action="store_true", help="readers also read passports of cell lots")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--sqlite", type=Path, default=None, help="serve this SQLite ledger (built before)")
    p.add_argument("--pg", default=None, help="serve this PostgreSQL ledger (built before)")
    p.add_argument("--cache", type=Path, default=None, help="analysis cache folder kept between runs")
    p.add_argument("--in-process", action="store_true",
                   help="per-request times in one process on the --sqlite/--pg ledger instead of the load run")
    a = p.parse_args(argv)
    if a.in_process:
        os.environ.setdefault("LICHAIN_NOW", datetime.now(UTC).isoformat())
        if a.cache:
            os.environ["LICHAIN_CACHE"] = str(a.cache / "cache-inprocess")
        return [{"backend": u.split(":", 1)[0], "in_process": in_process(u)}
                for u in (a.sqlite and f"sqlite:///{a.sqlite.resolve()}", a.pg) if u]
    a.lots = a.lots or (1000 if a.quick else 20_000)
    a.seconds = a.seconds or (3.0 if a.quick else 20.0)
    os.environ.setdefault("LICHAIN_NOW", datetime.now(UTC).isoformat())
    results = []
    with tempfile.TemporaryDirectory(prefix="lichain-bench-service-") as tmp:
        backends = [("sqlite", f"sqlite:///{tmp}/service.db")]
        pg = os.environ.get("LICHAIN_TEST_PG_URL")
        if a.sqlite or a.pg:
            backends = [(n, u) for n, u in (("sqlite", a.sqlite and f"sqlite:///{a.sqlite.resolve()}"),
                                             ("postgresql", a.pg)) if u]
        elif pg:
            import sqlalchemy as sa

            db = f"bench_service_{os.getpid()}"
            admin = sa.create_engine(pg, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(sa.text(f'CREATE DATABASE "{db}"'))
            backends.append(("postgresql", pg.rsplit("/", 1)[0] + "/" + db))
        for name, url in backends:
            r = run_backend(name, url, a, Path(tmp), built=bool(a.sqlite or a.pg))
            results.append(r)
            print(f"service on {name}: {r['lots']:,} lots, {a.workers} workers, {a.readers} readers in {r['client_procs']} processes (think time "
                  f"{a.think_ms:g} ms) + {a.writers} writers"
                  f"{f' at {a.write_rate:g} documents/s each' if a.write_rate else ''} for {r['seconds']:.1f} s (first trace+footprint "
                  f"{r['cold_first_reads_s']:.2f} s)")
            for k, v in r["kinds"].items():
                print(f"  {k:9s} {v['requests']:6d} requests {v['per_s']:8.1f}/s  p50 {v['p50_ms']:8.1f} ms  "
                      f"p99 {v['p99_ms']:8.1f} ms  server p50 {v['server_p50_ms']:7.1f} ms  "
                      f"p99 {v['server_p99_ms']:7.1f} ms")
            print(f"  workers' CPU {r['server_cpu_s']:.1f} s = {r['cpu_ms_per_request']:.1f} ms per request; "
                  f"load average {r['load_average_1min']:.1f}")
            print(f"  accepted {r['documents_accepted']} documents; chain ok {r['chain_ok']}; events "
                  f"{r['events_before']} -> {r['events_after']}; nothing lost or duplicated: "
                  f"{r['nothing_lost_or_duplicated']}; errors {r['error_count']}")
    if a.out is not None:
        a.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return results


if __name__ == "__main__":
    main()
