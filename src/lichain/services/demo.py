"""Use case: generate the integrated demo chain, ingest it batch by batch, and report on the result."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta

from lichain.core.errors import Problem
from lichain.core.limits import ledger_now
from lichain.core.model import Event
from lichain.core.validate import BalancePolicy
from lichain.services import query
from lichain.services.process_demo import ManufacturingDemo
from lichain.services.record import ingest_batches
from lichain.services.verify import verify_chain
from lichain.storage.sql import SqlStore
from lichain.storage.urls import redact_url

__all__ = ["BalanceStatus", "ChainStatus", "DemoReport", "run_demo"]


@dataclass(frozen=True, slots=True)
class BalanceStatus:
    """Runs re-checked after the demo and how many element balances failed."""

    runs_checked: int
    problems: int


@dataclass(frozen=True, slots=True)
class ChainStatus:
    """The hash chain after the demo: verified or not, events, head."""

    ok: bool
    events: int
    head: str


@dataclass(frozen=True, slots=True)
class DemoReport:
    """Outcome of ``lichain demo`` (the ``demo --json`` shape).

    ``db`` is the ledger URL with any password redacted; ``stages`` counts live lots per stage (mass in kg);
    ``sample_cam_lot`` is one cathode lot as ``lichain show`` gives it. On a refusal, only the first
    six fields are set.
    """

    ok: bool
    db: str
    seed: int
    events_written: int
    events_skipped: int
    problems: tuple[Problem, ...]
    seconds: float
    stages: dict[str, query.StageCount] | None = None
    balance: BalanceStatus | None = None
    verify: ChainStatus | None = None
    sample_cam_lot: query.LotDetail | None = None
    manufacturing: ManufacturingDemo | None = None


def run_demo(store: SqlStore, *, lots: int | None = None, seed: int = 0,
             progress: Callable[[int, int], None] | None = None) -> DemoReport:
    """Generate and ingest the demo chain; ``progress(events done, events expected)`` after each batch."""
    from lichain.demo import DEFAULT_LOTS, generate

    t0 = time.perf_counter()
    chain = generate(lots=lots or DEFAULT_LOTS, seed=seed)
    # the demo simulates its own timeline (up to five years from its start): its clock is the simulation's end
    policy = BalancePolicy(now=max(ledger_now(), chain.start + timedelta(days=6 * 366)))

    def all_batches() -> Iterator[Sequence[Event]]:
        yield list(chain.master_events)
        yield from chain.batches()

    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, chain.expected_events)

    result = ingest_batches(store, all_batches(), on_batch=advance, policy=policy)
    db = redact_url(store.url)
    if not result.ok:
        return DemoReport(False, db, seed, result.events_written, result.events_skipped, tuple(result.problems),
                          round(time.perf_counter() - t0, 2))
    from lichain.services.process_demo import record_manufacturing  # readings, CoAs, one deviation

    mfg = record_manufacturing(store, seed, policy)
    bal = query.balance(store)
    v = verify_chain(store)
    cams = query.list_lots(store, stage="cam", limit=1)
    return DemoReport(
        True, db, seed, result.events_written, result.events_skipped, (), round(time.perf_counter() - t0, 2),
        query.summary(store).stages, BalanceStatus(bal.runs_checked, len(bal.problems)),
        ChainStatus(v.ok, v.events, v.head), query.show_lot(store, cams[0].id) if cams else None, mfg)
