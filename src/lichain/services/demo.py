"""Use case: generate the integrated demo chain, ingest it batch by batch, and report on the result."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

from lichain.core.limits import ledger_now
from lichain.core.model import Event
from lichain.core.validate import BalancePolicy
from lichain.services import query
from lichain.services.record import ingest_batches
from lichain.storage.sql import SqlStore
from lichain.storage.urls import redact_url

__all__ = ["run_demo"]


def run_demo(store: SqlStore, *, lots: int | None = None, seed: int = 0, progress: bool = True) -> dict[str, Any]:
    """Generate and ingest the demo chain; return counts per stage, balance status and a sample CAM lot."""
    from lichain.demo import DEFAULT_LOTS, generate

    chain = generate(lots=lots or DEFAULT_LOTS, seed=seed)
    # the demo simulates its own timeline (up to five years from its start): its clock is the simulation's end
    policy = BalancePolicy(now=max(ledger_now(), chain.start + timedelta(days=6 * 366)))

    def all_batches() -> Iterator[Sequence[Event]]:
        yield list(chain.master_events)
        yield from chain.batches()

    if progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("ingesting demo chain"), BarColumn(), MofNCompleteColumn(), TextColumn("events"),
                      TimeElapsedColumn()) as bar:
            task = bar.add_task("demo", total=chain.expected_events)
            result = ingest_batches(store, all_batches(), on_batch=lambda n: bar.advance(task, n), policy=policy)
    else:
        result = ingest_batches(store, all_batches(), policy=policy)
    report: dict[str, Any] = {"ok": result.ok, "db": redact_url(store.url), "seed": seed, "events_written": result.events_written,
                              "events_skipped": result.events_skipped,
                              "problems": [{"location": p.location, "message": p.message} for p in result.problems]}
    if not result.ok:
        return report
    report["stages"] = query.summary(store)["stages"]
    bal = query.balance(store)
    report["balance"] = {"runs_checked": bal["runs_checked"], "problems": len(bal["problems"])}
    report["verify"] = {k: v for k, v in query.verify(store).items() if k in ("ok", "events", "head")}
    cams = query.list_lots(store, stage="cam", limit=1)
    report["sample_cam_lot"] = query.show_lot(store, cams[0]["id"]) if cams else None
    return report
