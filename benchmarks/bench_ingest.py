"""Bulk ingest of the demo chain, validated and hashed and end to end, against one document per event.

Every path runs the full ledger rules and extends the hash chain. The bulk path takes each generated batch as one
document (prefetch in bulk, one transaction, ``executemany``); the per-event baseline takes each of the first
``--baseline-events`` events as its own document (one statement set and one commit per event). Two measures:

* **validated and hashed**: the document's check (prefetch, field bounds, canonical payloads, rules) plus the rows
  ready to insert with their chain hashes (:func:`lichain.storage.fastrows.event_tuples`); parsing is excluded (the
  events are generated in memory) and generation is timed apart;
* **end to end**: everything up to the commit, into SQLite and (with ``--pg-url``) PostgreSQL.

The bulk writer keeps its memory between documents (``lichain.storage.writer_memory``: the ids on record as
digests, the lots it wrote lately); a second bulk run without it looks every id up and reads every stored lot back,
as a writer process's first document does.

The reference run repeats the bulk SQLite ingest with the per-event hot path as it was (``json.dumps`` of the
``body_to_json`` dict, the key-by-key field walk, the reference checker ``check_document(..., reference=True)``,
rows built as dicts by ``event_rows``, the cyclic collector running), in the same process. Rates are
per event; CPU time is reported beside wall time because the machine is shared. The default path takes lots, runs
and shipments through the compiled hot path (``lichain.core._hotpath``: payload, field screen and rules, one call for
every stretch of events up to one it declines); ``--stages`` times those calls as one stage, and the Python payload
and screen only where it declines.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from lichain.core.model import Event
from lichain.core.validate import LocatedEvent
from lichain.services.ingest import ingest_events
from lichain.services.record import assign_ids
from lichain.storage.sql import SqlStore, open_store


class Phases:
    """Wall and CPU seconds spent in the check and in building rows (chain hashes included)."""

    def __init__(self) -> None:
        self.wall = {"check": 0.0, "rows": 0.0, "prefetch": 0.0, "payload": 0.0, "screen": 0.0, "compiled": 0.0}
        self.cpu = dict(self.wall)

    def timed(self, name: str, f: Callable[..., Any]) -> Callable[..., Any]:
        def g(*a: Any, **k: Any) -> Any:
            w, c = time.perf_counter(), time.process_time()
            try:
                return f(*a, **k)
            finally:
                self.wall[name] += time.perf_counter() - w
                self.cpu[name] += time.process_time() - c
        return g

    def cpu_timed(self, name: str, f: Callable[..., Any]) -> Callable[..., Any]:
        """A lighter timer (CPU clock only) for calls made once per event."""
        clock, cpu = time.process_time, self.cpu

        def g(*a: Any, **k: Any) -> Any:
            c = clock()
            r = f(*a, **k)
            cpu[name] += clock() - c
            return r
        return g


@contextlib.contextmanager
def _measured(phases: Phases, reference: bool = False, stages: bool = False) -> Iterator[None]:
    """Time the check and the row building of the real ingest path; ``reference``: the hot path as it was."""
    import lichain.services.ingest as ing
    import lichain.storage.sql as sql
    from lichain.core import validate

    saved: list[tuple[Any, str, Any]] = []

    def patch(mod: Any, name: str, value: Any) -> None:
        saved.append((mod, name, getattr(mod, name)))
        setattr(mod, name, value)

    if reference:  # the reference checker (lichain.core.validate._Checker) and rows built as dicts first
        from lichain.storage.fastrows import COLUMNS
        from lichain.storage.rows import as_tuples, event_rows

        def check_ref(*a: Any, **k: Any) -> Any:
            return validate.check_document(*a, **k, reference=True)

        def rows_ref(*a: Any, **k: Any) -> dict[str, list[tuple[Any, ...]]]:
            return {t: as_tuples(COLUMNS[t], r) for t, r in event_rows(*a, **k).items()}

        patch(ing, "check_document", phases.timed("check", check_ref))
        patch(sql, "event_tuples", phases.timed("rows", rows_ref))
    else:
        patch(ing, "check_document", phases.timed("check", ing.check_document))
        patch(sql, "event_tuples", phases.timed("rows", sql.event_tuples))
    if reference:
        from lichain.core.codec import body_to_json, canonical_payload
        from lichain.core.fieldcheck import field_problems

        patch(validate, "fast_payload", canonical_payload)
        patch(validate, "screened_field_problems",
              lambda ev, payload, now=None: field_problems(ev, now, body_to_json(ev.body), payload))
        patch(ing, "paused_gc", contextlib.nullcontext)
    if stages:  # timers inside the check (they cost a little: the headline runs go without them)
        import lichain.core.fastcheck as fastcheck

        if fastcheck._accept_plain is not None:  # lots, runs and shipments in compiled calls
            patch(fastcheck, "_accept_plain", phases.cpu_timed("compiled", fastcheck._accept_plain))
            patch(fastcheck, "_accept_from", phases.cpu_timed("compiled", fastcheck._accept_from))
        patch(validate, "fast_payload", phases.cpu_timed("payload", validate.fast_payload))
        patch(validate, "screened_field_problems", phases.cpu_timed("screen", validate.screened_field_problems))
        patch(validate._Checker, "prefetch", phases.timed("prefetch", validate._Checker.prefetch))
    try:
        yield
    finally:
        for mod, name, value in reversed(saved):
            setattr(mod, name, value)


def _ingest(store: SqlStore, docs: Sequence[Sequence[Event]], reference: bool = False,
            stages: bool = False) -> dict[str, float]:
    """Ingest each document all or nothing; rates of both measures (wall and CPU)."""
    phases = Phases()
    n = sum(len(d) for d in docs)
    with _measured(phases, reference, stages):
        w, c = time.perf_counter(), time.process_time()
        for k, d in enumerate(docs):
            r = ingest_events([LocatedEvent(f"d{k}/{i}", ev) for i, ev in enumerate(d)], store)
            assert r.ok, r.problems[:3]
        wall, cpu = time.perf_counter() - w, time.process_time() - c
    vh_wall = phases.wall["check"] + phases.wall["rows"]
    vh_cpu = phases.cpu["check"] + phases.cpu["rows"]
    return {"events": n, "wall_s": wall, "cpu_s": cpu, "vh_wall_s": vh_wall, "vh_cpu_s": vh_cpu,
            "check_us": phases.cpu["check"] / n * 1e6, "rows_us": phases.cpu["rows"] / n * 1e6,
            "e2e_per_s": n / wall, "e2e_cpu_per_s": n / cpu, "vh_per_s": n / vh_wall, "vh_cpu_per_s": n / vh_cpu,
            **({f"{k}_us": phases.cpu[k] / n * 1e6 for k in ("prefetch", "payload", "screen", "compiled")}
               if stages else {})}


def _stage_table(runs: dict[str, dict[str, float]]) -> str:
    """CPU µs per event per stage of bulk runs timed with ``stages`` (rules = the rest of the check)."""
    rows = [("prefetch of the ledger state", lambda r: r["prefetch_us"]),
            ("compiled lots, runs and shipments", lambda r: r["compiled_us"]),
            ("canonical payload (Python path)", lambda r: r["payload_us"]),
            ("field bounds (Python path)", lambda r: r["screen_us"]),
            ("rules, custody, loop (rest of the check)",
             lambda r: r["check_us"] - r["prefetch_us"] - r["payload_us"] - r["screen_us"] - r["compiled_us"]),
            ("rows and chain hashes", lambda r: r["rows_us"]),
            ("validated and hashed", lambda r: r["vh_cpu_s"] / r["events"] * 1e6),
            ("executemany and commit", lambda r: (r["cpu_s"] - r["vh_cpu_s"]) / r["events"] * 1e6),
            ("end to end", lambda r: r["cpu_s"] / r["events"] * 1e6)]
    out = [f"  {'stage, CPU µs per event':40s}" + "".join(f"{k:>12s}" for k in runs)]
    out += [f"  {label:40s}" + "".join(f"{f(r):12.1f}" for r in runs.values()) for label, f in rows]
    return "\n".join(out)


@contextlib.contextmanager
def _pg_store(url: str) -> Iterator[SqlStore]:
    """A fresh schema on the PostgreSQL server at ``url``, dropped afterwards."""
    import sqlalchemy as sa

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url)
    with admin.begin() as c:
        c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    store = open_store(f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}")
    try:
        yield store
    finally:
        store.close()
        with admin.begin() as c:
            c.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _line(label: str, r: dict[str, float]) -> str:
    return (f"  {label:34s} {r['events']:>9,} ev  validated+hashed {r['vh_per_s']:>9,.0f}/s "
            f"(CPU {r['vh_cpu_per_s']:>9,.0f}/s)  end-to-end {r['e2e_per_s']:>8,.0f}/s (CPU {r['e2e_cpu_per_s']:>8,.0f}/s)")


def _ratios(label: str, a: dict[str, float], b: dict[str, float]) -> str:
    return (f"  {label:34s} validated+hashed {a['vh_per_s'] / b['vh_per_s']:5.1f}× (CPU "
            f"{a['vh_cpu_per_s'] / b['vh_cpu_per_s']:4.1f}×)  end-to-end {a['e2e_per_s'] / b['e2e_per_s']:5.1f}× "
            f"(CPU {a['e2e_cpu_per_s'] / b['e2e_cpu_per_s']:4.1f}×)")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run and print the ingest benchmark."""
    from lichain.demo import generate

    p = argparse.ArgumentParser()
    p.add_argument("--lots", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--baseline-events", type=int, default=5_000)
    p.add_argument("--pg-url", default=None, help="a PostgreSQL server to ingest into as well (a schema is made)")
    p.add_argument("--no-reference", action="store_true", help="skip the reference hot-path run")
    p.add_argument("--no-forgetful", action="store_true",
                   help="skip the bulk run whose writer keeps no memory between documents (every id looked up)")
    p.add_argument("--no-snapshot", action="store_true", help="skip the snapshot build and cache load")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--stages", action="store_true", help="bulk runs again with timers per stage (CPU µs per event)")
    p.add_argument("--out", type=Path, default=None)
    a = p.parse_args(argv)
    if a.quick:
        a.baseline_events = min(a.baseline_events, 1_000)

    t0 = time.perf_counter()
    chain = generate(lots=a.lots, seed=a.seed)
    docs = [assign_ids(chain.master_events), *(assign_ids(b) for b in chain.batches())]
    t_gen = time.perf_counter() - t0
    flat = [ev for d in docs for ev in d][: a.baseline_events]
    res: dict[str, Any] = {"lots_requested": a.lots, "events": sum(len(d) for d in docs), "generate_and_id_s": t_gen}
    print(f"\n== ingest of the demo chain, {a.lots:,} lots: {res['events']:,} events (generation + ids {t_gen:.1f} s, "
          "not timed below) ==")
    with tempfile.TemporaryDirectory() as tmp:
        bulk = open_store(str(Path(tmp) / "bulk.db"))
        res["sqlite_bulk"] = _ingest(bulk, docs)
        print(_line("SQLite, bulk (one doc per batch)", res["sqlite_bulk"]))
        if not a.no_forgetful:
            from lichain.storage.writer_memory import WriterMemory

            forgetful = open_store(str(Path(tmp) / "forgetful.db"))
            forgetful._memory = WriterMemory(mode="off")
            res["sqlite_bulk_no_memory"] = _ingest(forgetful, docs)
            forgetful.close()
            print(_line("SQLite, bulk, no writer memory", res["sqlite_bulk_no_memory"]))
        single = open_store(str(Path(tmp) / "single.db"))
        res["sqlite_per_event"] = _ingest(single, [[ev] for ev in flat])
        single.close()
        print(_line("SQLite, one doc + commit per event", res["sqlite_per_event"]))
        if not a.no_reference:
            ref = open_store(str(Path(tmp) / "reference.db"))
            res["sqlite_bulk_reference"] = _ingest(ref, docs, reference=True)
            ref.close()
            print(_line("SQLite, bulk, reference hot path", res["sqlite_bulk_reference"]))
        if a.pg_url:
            with _pg_store(a.pg_url) as pg:
                res["pg_bulk"] = _ingest(pg, docs)
            print(_line("PostgreSQL, bulk", res["pg_bulk"]))
            with _pg_store(a.pg_url) as pg:
                res["pg_per_event"] = _ingest(pg, [[ev] for ev in flat])
            print(_line("PostgreSQL, one doc + commit per event", res["pg_per_event"]))
        print("ratios")
        print(_ratios("SQLite bulk / per event", res["sqlite_bulk"], res["sqlite_per_event"]))
        if "sqlite_bulk_no_memory" in res:
            print(_ratios("SQLite bulk / no writer memory", res["sqlite_bulk"], res["sqlite_bulk_no_memory"]))
        if "sqlite_bulk_reference" in res:
            print(_ratios("SQLite bulk / reference hot path", res["sqlite_bulk"], res["sqlite_bulk_reference"]))
        if a.pg_url:
            print(_ratios("PostgreSQL bulk / per event", res["pg_bulk"], res["pg_per_event"]))
        print(f"  per-stage CPU of the bulk check: {res['sqlite_bulk']['check_us']:.1f} µs/event check, "
              f"{res['sqlite_bulk']['rows_us']:.1f} µs/event rows and chain hashes")
        if a.stages:
            timed = {}
            for label, ref in (("new", False), *((("reference", True),) if not a.no_reference else ())):
                st = open_store(str(Path(tmp) / f"stages-{label}.db"))
                timed[label] = res[f"sqlite_bulk_stages_{label}"] = _ingest(st, docs, reference=ref, stages=True)
                st.close()
            print(_stage_table(timed))
        if not a.no_snapshot:
            res.update(_snapshot(bulk, Path(tmp)))
        bulk.close()
    if a.out:
        a.out.write_text(json.dumps(res, indent=2))
    return res


def _snapshot(bulk: SqlStore, tmp: Path) -> dict[str, float]:
    """Snapshot of the ledger just written: bulk read → CSR, then a load from the on-disk cache."""
    import os

    os.environ["LICHAIN_CACHE"] = str(tmp / "cache")
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
    print(f"\n== snapshot of that ledger: {n_lots:,} lots, {n_edges:,} edges ==")
    print(f"  build from SQLite (bulk read → CSR) {t_build:8.3f} s   {n_lots / t_build:>12,.0f} lots/s")
    print(f"  load from the on-disk cache          {t_cache:8.3f} s   {n_lots / t_cache:>12,.0f} lots/s")
    return {"snapshot_lots": n_lots, "snapshot_edges": n_edges, "snapshot_build_s": t_build,
            "snapshot_build_lots_per_s": n_lots / t_build, "snapshot_cache_load_s": t_cache,
            "snapshot_cache_lots_per_s": n_lots / t_cache}


if __name__ == "__main__":
    main()
