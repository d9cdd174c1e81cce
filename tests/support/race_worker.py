"""A writer process for the concurrency tests: waits at a barrier, ingests one document, reports the outcome."""

from __future__ import annotations

import traceback
from typing import Any


def ingest_after_barrier(url: str, chain_text: str, doc: str, barrier: Any, results: Any) -> None:
    """Open the ledger at ``url``, wait for every writer, ingest ``chain_text``; put the outcome on ``results``."""
    from lichain.services.ingest import ingest_events
    from lichain.storage.sql import SqlStore
    from tests.support.chain_text import parse_chain

    store = SqlStore(url)
    located = parse_chain(chain_text, doc)
    try:
        barrier.wait(timeout=60)
        r = ingest_events(located, store)
        results.put((doc, r.ok, r.events_written, r.events_skipped, [str(p) for p in r.problems], None))
    except BaseException:  # the test asserts that no writer ever crashes
        results.put((doc, False, 0, 0, [], traceback.format_exc()))
    finally:
        store.close()
