"""Writer processes for the concurrent-writer stress test: each ingests one document per round, all at once.

A writer is a separate process (``multiprocessing`` spawn, so nothing is shared but the database URL) that opens
its own store, waits at a barrier with the other writers and the test, ingests its document for the round and
reports the outcome, or the traceback if anything escaped as an exception (which the test counts as a failure).
"""

from __future__ import annotations

import traceback
from typing import Any

__all__ = ["Outcome", "writer"]

# (writer, round, ok, events_written, events_skipped, problems as (location, message), crash traceback or "")
Outcome = tuple[int, int, bool, int, int, list[tuple[str, str]], str]


def writer(k: int, url: str, rounds: list[str], names: list[str], barrier: Any, results: Any) -> None:
    """Ingest ``rounds[r]`` (fixture text) as document ``names[r]`` in round r, after everyone reaches the barrier."""
    from lichain.services.ingest import ingest_events
    from lichain.storage.sql import SqlStore
    from tests.support.chain_text import parse_chain

    store = SqlStore(url)
    try:
        for r, text in enumerate(rounds):
            doc = parse_chain(text, names[r])
            barrier.wait(timeout=120)
            try:
                res = ingest_events(doc, store, source=names[r])
                out: Outcome = (k, r, res.ok, res.events_written, res.events_skipped,
                                [(p.location, p.message) for p in res.problems], "")
            except Exception:  # the test asserts there is none: every clash must be a located refusal
                out = (k, r, False, 0, 0, [], traceback.format_exc())
            results.put(out)
    finally:
        store.close()
