"""Lot-graph engine benchmark: propagation and trace against the named baselines, measured in one run.

Why: DESIGN §6.10 asks every benchmark to print ratios against its baseline in the same run (the machine is
shared and noisy, so only same-run ratios are comparable), and ``reference/performance.md`` names the anchors:
``scipy.sparse.linalg.spsolve_triangular`` and ``spsolve`` on the ordered I − W, a networkx topological loop,
SQLite ``WITH RECURSIVE`` over an edge table with covering indexes, networkx ancestors/descendants, and the
memory-bandwidth floor of a large numpy copy. Numba compile time is excluded from every timing (kernels are warmed
up first) and reported separately, cold (fresh cache, in a subprocess) and warm (on-disk cache).

Usage (the lead's ``python -m benchmarks`` dispatcher calls :func:`main`)::

    python -m benchmarks.bench_graph --lots 100000,1000000,5000000 [--quick] [--out bench-out/bench_graph.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from lichain.analysis.propagate import intensity, plan_of, propagate
from lichain.analysis.shares import recycled_share
from lichain.analysis.snapshot import LedgerArrays, Snapshot, split_arrays
from lichain.analysis.synth import blend_tank, synthetic_ledger
from lichain.analysis.trace import trace_down, trace_up

__all__ = ["main"]

Row = dict[str, Any]


def _times(fn: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def _best(fn: Callable[[], Any], repeat: int) -> float:
    """Best of ``repeat`` runs [s]: the machine is shared, and interference only ever adds time."""
    return float(min(_times(fn, repeat)))


def _each(fn: Callable[[int], Any], lots: list[int], rounds: int = 2) -> list[float]:
    """Per-lot best of ``rounds`` passes over all lots [s] (rounds interleaved, so a burst of load hits one)."""
    best = [float("inf")] * len(lots)
    for _ in range(rounds):
        for i, lot in enumerate(lots):
            t = time.perf_counter()
            fn(lot)
            best[i] = min(best[i], time.perf_counter() - t)
    return best


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def copy_bandwidth(nbytes: int = 1 << 29) -> float:
    """Large-copy bandwidth [B s⁻¹], counting bytes read plus written (best of 5)."""
    a = np.ones(nbytes // 8)
    b = np.empty_like(a)
    np.copyto(b, a)
    return 2 * a.nbytes / min(_times(lambda: np.copyto(b, a), 5))


def cold_jit_seconds() -> float:
    """Compile every analysis kernel with an empty numba cache, in a subprocess [s]."""
    code = "from benchmarks.bench_graph import warm_up; print(warm_up())"
    with tempfile.TemporaryDirectory() as d:
        env = {**os.environ, "NUMBA_CACHE_DIR": d}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                             cwd=Path(__file__).resolve().parent.parent)
    return float(out.stdout.strip().splitlines()[-1])


def warm_up() -> float:
    """Run every kernel once on a tiny graph (compiles or loads them from the on-disk cache) [s]."""
    t = time.perf_counter()
    s = Snapshot.build(synthetic_ledger(3_000, seed=0))
    for k in (1, 6):
        intensity(s, np.ones((s.n_lots, k)) if k > 1 else np.ones(s.n_lots))
    propagate(s.up_indptr, s.up_src, s.up_kg, np.ones(s.n_lots), divisor=s.lot_mass_kg)
    recycled_share(s, "Ni")
    trace_up(s, s.n_lots - 1)
    trace_down(s, 0)
    return time.perf_counter() - t


def lower_matrix(s: Snapshot) -> Any:
    """I − W as a CSR matrix (unit diagonal, strictly lower W), the baselines' input."""
    import scipy.sparse as sp

    w = sp.csr_matrix((s.up_kg / s.lot_mass_kg[s.edge_dst()], s.up_src, s.up_indptr), shape=(s.n_lots, s.n_lots))
    return (sp.identity(s.n_lots, format="csr") - w).tocsr()


def nx_graph(s: Snapshot) -> Any:
    import networkx as nx

    dst = s.edge_dst()
    key = dst.astype(np.int64) * s.n_lots + s.up_src
    uniq, inv = np.unique(key, return_inverse=True)
    w = np.bincount(inv, weights=s.up_kg / s.lot_mass_kg[dst])
    g = nx.DiGraph()
    g.add_nodes_from(range(s.n_lots))
    g.add_weighted_edges_from(zip((uniq % s.n_lots).tolist(), (uniq // s.n_lots).tolist(), w.tolist(),
                                  strict=True))
    return g


def nx_propagate(g: Any, own: list[float]) -> list[float]:
    import networkx as nx

    x = [0.0] * len(own)
    pred = g.pred
    for o in nx.topological_sort(g):
        x[o] = own[o] + sum(d["weight"] * x[i] for i, d in pred[o].items())
    return x


def sqlite_edges(s: Snapshot, path: str) -> sqlite3.Connection:
    """An edge table with covering indexes on (dst, src) and (src, dst), bulk-loaded."""
    con = sqlite3.connect(path)
    con.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                      "CREATE TABLE edge(src INTEGER NOT NULL, dst INTEGER NOT NULL);")
    with con:
        con.executemany("INSERT INTO edge VALUES (?, ?)", zip(s.up_src.tolist(), s.edge_dst().tolist(),
                                                               strict=True))
    con.executescript("CREATE INDEX edge_up ON edge(dst, src); CREATE INDEX edge_down ON edge(src, dst); ANALYZE;")
    return con


UP_SQL = ("WITH RECURSIVE up(lot) AS (SELECT ? UNION SELECT e.src FROM edge e JOIN up ON e.dst = up.lot) "
          "SELECT lot FROM up")
DOWN_SQL = ("WITH RECURSIVE down(lot) AS (SELECT ? UNION SELECT e.dst FROM edge e JOIN down ON e.src = down.lot) "
            "SELECT lot FROM down")


def _closure_sql(con: sqlite3.Connection, sql: str, lot: int) -> list[Any]:
    return con.execute(sql, (lot,)).fetchall()


def _pct(ts: list[float]) -> dict[str, float]:
    a = np.array(ts) * 1e3
    return {"p50_ms": float(np.percentile(a, 50)), "p99_ms": float(np.percentile(a, 99)), "max_ms": float(a.max())}


def bench_trace(s: Snapshot, lots: np.ndarray, label: str, nx_max: int, sqlite_max: int) -> Row:
    """p50/p99 of trace up/down with per-element shares vs SQLite recursive CTE and networkx closures."""
    row: Row = {"shape": label, "lots": s.n_lots, "edges": s.n_edges, "samples": int(lots.size)}
    for name, fn in (("up", trace_up), ("down", trace_down)):
        sizes = [len(fn(s, lot)) for lot in lots.tolist()]
        row[f"ours_{name}"] = _pct(_each(partial(fn, s), lots.tolist()))
        row[f"closure_{name}"] = {"p50": float(np.median(sizes)), "mean": float(np.mean(sizes)),
                                  "p99": float(np.percentile(sizes, 99)), "max": int(max(sizes))}
        row[f"_sizes_{name}"] = sizes
    if s.n_lots <= sqlite_max:
        with tempfile.TemporaryDirectory() as d:
            t = time.perf_counter()
            con = sqlite_edges(s, os.path.join(d, "edges.db"))
            row["sqlite_build_s"] = time.perf_counter() - t
            pages = con.execute("PRAGMA page_count").fetchone()[0] * con.execute("PRAGMA page_size").fetchone()[0]
            row["sqlite_bytes_per_edge"] = pages / s.n_edges
            for name, sql in (("up", UP_SQL), ("down", DOWN_SQL)):
                for lot, size in zip(lots.tolist(), row.pop(f"_sizes_{name}"), strict=True):
                    assert len(con.execute(sql, (lot,)).fetchall()) == size, (name, lot, size)
                row[f"sqlite_{name}"] = _pct(_each(partial(_closure_sql, con, sql), lots.tolist()))
            con.close()
    if s.n_lots <= nx_max:
        import networkx as nx

        t = time.perf_counter()
        g = nx_graph(s)
        row["nx_build_s"] = time.perf_counter() - t  # memory: see the propagation row (RSS delta, fresh process)
        for name, fn2 in (("up", nx.ancestors), ("down", nx.descendants)):
            row[f"nx_{name}"] = _pct(_each(partial(fn2, g), lots.tolist()))
        del g
    for k in [k for k in row if k.startswith("_")]:
        del row[k]
    return row


def bench_propagation(s: Snapshot, bw: float, repeat: int, nx_max: int, label: str) -> Row:
    """Ours (1 and 6 indicators) vs spsolve_triangular, networkx, and the bandwidth floor."""
    from scipy.sparse.linalg import spsolve_triangular

    n, e = s.n_lots, s.n_edges
    rng = np.random.default_rng(1)
    row: Row = {"shape": label, "lots": n, "edges": e}
    t = time.perf_counter()
    plan = plan_of(s)
    row["plan_build_s"], row["plan_grouped"] = time.perf_counter() - t, plan.perm is not None
    for k in (1, 6):
        own = rng.random(n) if k == 1 else rng.random((n, k))
        x = np.empty_like(own)
        intensity(s, own, out=x)
        row[f"ours_{k}_s"] = _best(partial(intensity, s, own, out=x), repeat)
        floor_bytes = (12 + 8 * k) * e + (8 + 16 * k) * n
        row[f"floor_{k}_s"] = floor_bytes / bw
        a = lower_matrix(s)
        reps = 5 if n <= 1_000_000 else 3
        row[f"spsolve_triangular_{k}_s"] = _best(partial(spsolve_triangular, a, own, lower=True), reps)
        ref = spsolve_triangular(a, own, lower=True)
        row[f"max_rel_err_{k}"] = float(np.max(np.abs(x - ref) / np.maximum(np.abs(ref), 1e-300)))
    if n <= nx_max:
        rss, t = _rss(), time.perf_counter()
        g = nx_graph(s)
        row["nx_build_s"], row["nx_bytes_per_edge"] = time.perf_counter() - t, (_rss() - rss) / e
        own1 = rng.random(n)
        t = time.perf_counter()
        xs = nx_propagate(g, own1.tolist())
        row["nx_1_s"] = time.perf_counter() - t
        assert np.allclose(xs, intensity(s, own1), rtol=1e-9)
        del g
    return row


def bench_spsolve(sizes: list[int]) -> list[Row]:
    """The general sparse solve (SuperLU, COLAMD), what a generic LCA engine does, on small graphs."""
    from scipy.sparse.linalg import spsolve

    rows = []
    for n in sizes:
        s = Snapshot.build(synthetic_ledger(n, seed=3))
        b = np.random.default_rng(0).random(s.n_lots)
        a = lower_matrix(s).tocsc()
        t = time.perf_counter()
        ref = spsolve(a, b)
        slow = time.perf_counter() - t
        ours = _best(partial(intensity, s, b), 7)
        assert np.allclose(ref, intensity(s, b), rtol=1e-9)
        rows.append({"lots": s.n_lots, "edges": s.n_edges, "spsolve_s": slow, "ours_1_s": ours})
    return rows


def extend_seconds(a: LedgerArrays) -> float:
    """Time to extend a snapshot of the first 99 % of ``a`` by the last 1 % (equal to a full rebuild)."""
    lot_run = a.lot_run
    cut = int(a.n_lots * 0.99)
    while 0 < cut < a.n_lots and lot_run[cut] >= 0 and lot_run[cut] == lot_run[cut - 1]:
        cut += 1
    n_runs = int(lot_run[:cut].max()) + 1
    head, delta = split_arrays(a, cut, n_runs)
    base = Snapshot.build(head)
    t = time.perf_counter()
    base.extend(delta)
    return time.perf_counter() - t


def memory_row(s: Snapshot) -> Row:
    plan = plan_of(s).nbytes
    return {"lots": s.n_lots, "edges": s.n_edges, "graph_bytes_per_edge": s.bytes_per_edge,
            "graph_plus_plan_bytes_per_edge": (s.graph_nbytes + plan) / s.n_edges,
            "snapshot_bytes_per_edge": (s.nbytes + plan) / s.n_edges}


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:,.0f}×" if a and b else "–"


def _ms(v: float | None) -> str:
    return f"{v * 1e3:,.2f} ms" if v is not None else "–"


def report(res: Row) -> str:
    cold = f"{res['jit_cold_s']:.2f} s" if res["jit_cold_s"] is not None else "not measured (--quick)"
    lines0 = ["times: best of several runs (propagation) or per-lot best of 2 rounds (trace), shared machine"]
    lines = [f"machine: {res['machine']}", f"copy bandwidth (read+write): {res['bandwidth_GBps']:.1f} GB/s; "
             f"numba JIT: cold {cold}, from cache {res['jit_warm_s']:.2f} s (excluded below)", *lines0]
    for p in res["propagation"]:
        lines.append(f"\n== propagation, {p['shape']}: {p['lots']:,} lots / {p['edges']:,} edges "
                     f"(1-ind. plan {'grouped' if p['plan_grouped'] else 'in CSR order'}, built once in "
                     f"{p['plan_build_s']:.2f} s)")
        if "synth_s" in p:
            lines.append(f"  synthetic ledger {p['synth_s']:.2f} s, snapshot build {p['snapshot_build_s']:.2f} s, "
                         f"extend by the last 1 % {p['extend_1pct_s']:.2f} s")
        for k in (1, 6):
            ours = p[f"ours_{k}_s"]
            lines.append(f"  {k} ind.: ours {_ms(ours)} | floor {_ms(p[f'floor_{k}_s'])} "
                         f"(ours/floor {ours / p[f'floor_{k}_s']:.1f}) | spsolve_triangular "
                         f"{_ms(p[f'spsolve_triangular_{k}_s'])} ({_ratio(p[f'spsolve_triangular_{k}_s'], ours)})"
                         f" | max rel err {p[f'max_rel_err_{k}']:.1e}")
        if "nx_1_s" in p:
            lines.append(f"  networkx topological loop {p['nx_1_s']:.2f} s ({_ratio(p['nx_1_s'], p['ours_1_s'])}), "
                         f"graph build {p['nx_build_s']:.1f} s")
        else:
            lines.append(f"  networkx: not run above --nx-max lots ({res['nx_max']:,})")
    for r in res["spsolve"]:
        lines.append(f"spsolve (SuperLU) {r['lots']:,} lots: {r['spsolve_s']:.2f} s vs ours {_ms(r['ours_1_s'])} "
                     f"({_ratio(r['spsolve_s'], r['ours_1_s'])})")
    for t in res["trace"]:
        lines.append(f"\n== trace, {t['shape']}: {t['lots']:,} lots, {t['samples']} random lots "
                     f"(ours: closure + per-element shares; baselines: closure only)")
        for d in ("up", "down"):
            o, c = t[f"ours_{d}"], t[f"closure_{d}"]
            line = (f"  {d:4s} ours p50 {o['p50_ms']:.3f} / p99 {o['p99_ms']:.3f} ms (closure p50 {c['p50']:.0f}, "
                    f"mean {c['mean']:.0f}, p99 {c['p99']:.0f}, max {c['max']})")
            for b in ("sqlite", "nx"):
                if f"{b}_{d}" in t:
                    q = t[f"{b}_{d}"]
                    line += (f" | {b} p50 {q['p50_ms']:.3f} / p99 {q['p99_ms']:.2f} ms "
                             f"(p50 {_ratio(q['p50_ms'], o['p50_ms'])}, p99 {_ratio(q['p99_ms'], o['p99_ms'])})")
            lines.append(line)
    for m in res["memory"]:
        lines.append(f"memory {m['lots']:,} lots: graph (up + down CSR) {m['graph_bytes_per_edge']:.1f} B/edge, with "
                     f"the 1-indicator plan {m['graph_plus_plan_bytes_per_edge']:.1f}, whole snapshot incl. per-lot "
                     f"arrays {m['snapshot_bytes_per_edge']:.1f}")
    return "\n".join(lines)


def machine() -> str:
    import numba
    import scipy

    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}, "
            f"scipy {scipy.__version__}, numba {numba.__version__}, sqlite {sqlite3.sqlite_version}, "
            f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '')}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print a table and write JSON. Returns 0."""
    ap = argparse.ArgumentParser(prog="bench_graph", description=__doc__.split("\n")[0])
    ap.add_argument("--lots", default="100000", help="comma-separated graph sizes (default 100000)")
    ap.add_argument("--quick", action="store_true", help="fewer repeats, one spsolve size, no cold-JIT subprocess")
    ap.add_argument("--out", default="bench-out/bench_graph.json", help="JSON result path")
    ap.add_argument("--nx-max", type=int, default=1_200_000, help="largest graph given to networkx")
    ap.add_argument("--sqlite-max", type=int, default=6_000_000, help="largest graph loaded into SQLite")
    ap.add_argument("--spsolve-lots", default=None, help="sizes for the general spsolve (default 10000,20000)")
    ap.add_argument("--samples", type=int, default=1000, help="random lots per trace measurement")
    ap.add_argument("--tank-days", type=int, default=10_000, help="depth of the blend-tank trace shape")
    args = ap.parse_args(argv)
    sizes = [int(v) for v in args.lots.split(",") if v]
    repeat = 3 if args.quick else 7
    sp_sizes = [int(v) for v in (args.spsolve_lots or ("10000" if args.quick else "10000,20000")).split(",")]
    res: Row = {"machine": machine(), "nx_max": args.nx_max, "propagation": [], "trace": [], "memory": [],
                "spsolve": []}
    res["jit_cold_s"] = None if args.quick else cold_jit_seconds()
    res["jit_warm_s"] = warm_up()
    res["bandwidth_GBps"] = copy_bandwidth() / 1e9
    bw = res["bandwidth_GBps"] * 1e9
    rng = np.random.default_rng(42)
    for n in sizes:
        t = time.perf_counter()
        arrays = synthetic_ledger(n, seed=1)
        gen = time.perf_counter() - t
        t = time.perf_counter()
        s = Snapshot.build(arrays)
        build = time.perf_counter() - t
        ext = extend_seconds(arrays)
        del arrays
        row = bench_propagation(s, bw, repeat, args.nx_max, "chain with recycling loops")
        row.update(synth_s=gen, snapshot_build_s=build, extend_1pct_s=ext)
        res["propagation"].append(row)
        res["memory"].append(memory_row(s))
        lots = rng.integers(0, s.n_lots, args.samples)
        res["trace"].append(bench_trace(s, lots, "chain with recycling loops", args.nx_max, args.sqlite_max))
        del s
        layered = Snapshot.build(synthetic_ledger(n, seed=1, recycling=0.0, eol_linked=0.0))
        lots = rng.integers(0, layered.n_lots, args.samples)
        res["trace"].append(bench_trace(layered, lots, "layered chain, no loops", args.nx_max, args.sqlite_max))
        del layered
        tank = Snapshot.build(blend_tank(max(args.tank_days, n // 3), seed=1))
        res["propagation"].append(bench_propagation(tank, bw, repeat, args.nx_max,
                                                    f"deep blend tank (depth {tank.n_lots // 3:,})"))
        del tank
    deep = Snapshot.build(blend_tank(args.tank_days, seed=2))
    ends = np.array([deep.n_lots - 1, 0, *rng.integers(0, deep.n_lots, 98).tolist()])
    res["trace"].append(bench_trace(deep, ends, f"deep blend tank (depth {args.tank_days:,})", args.nx_max,
                                    args.sqlite_max))
    res["spsolve"] = bench_spsolve(sp_sizes)
    print(report(res))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2, allow_nan=False))
    print(f"\nwritten {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
