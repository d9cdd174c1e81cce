"""A service worker's writer process: documents sent to ``POST /ingest`` and ``POST /capture`` are checked and
written there.

Why this exists: a worker answers its requests on threads that share one interpreter lock. A document's check
and write (parse, rules, hashes, inserts: ~10–50 ms of CPU for a small document, seconds for a large one) held
that lock while the worker's reads waited for it, which made the reads' slowest answers. In a process of its own
the operating system shares the cores between the write and the reads instead. The write itself is the same use
case (:func:`lichain.web.documents.take_document`) on its own connection to the same ledger; all-or-nothing
ingest and the ledger's write lock keep writers from several workers safe as before. A writer process that dies
is replaced, and the request that met it answers 503 (its document was written whole or not at all: sending it
again is safe, ingest is idempotent).

The writer process runs at a lower scheduling priority than its worker (nice +10 by default,
``LICHAIN_WRITER_NICE``): when writers and readers want more CPU than there is, the cores go to the reads first
(a reader waits for a time slice less often), and writes take what is left. The writer is never starved: at nice
+10 the kernel's fair scheduler still gives it about a tenth of a busy core against each full-priority process.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import pickle
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from lichain.storage.sql import SqlStore
from lichain.web.access import Principal
from lichain.web.documents import DocKind, Outcome, take_document

__all__ = ["Writer", "take"]

_STORE: SqlStore | None = None  # the writer process's own connection to the ledger


def _open(url: str, nice: int) -> None:
    global _STORE
    import os

    from lichain.storage.sql import open_store

    if nice > 0:
        os.nice(min(nice, 19))
    _STORE = open_store(url)


def _ready() -> bool:
    return _STORE is not None


def _take(p: Principal, data: bytes, kind: DocKind, name: str, dry_run: bool, job: bool) -> tuple[str, Any]:
    """In the writer process: the outcome, or the exception to raise in the worker (as itself when it crosses
    processes intact, else as a RuntimeError with its text)."""
    assert _STORE is not None
    try:
        return "ok", take_document(_STORE, p, data, kind, name, dry_run=dry_run, job=job)
    except Exception as exc:  # raised again in the worker, where the app's handlers answer it
        try:
            pickle.loads(pickle.dumps(exc))
            return "raise", exc
        except Exception:
            return "raise", RuntimeError(f"{type(exc).__name__}: {exc}")


class Writer:
    """One writer process for a worker, started on demand (``start`` at the worker's start-up)."""

    def __init__(self, url: str, nice: int = 10) -> None:
        if not 0 <= nice <= 19:
            raise ValueError(f"a writer's nice increment is 0..19, not {nice}")
        self.url, self.nice = url, nice
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _running(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:  # a fresh interpreter: the worker's threads are not forked
                self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_open, initargs=(self.url, self.nice))
            return self._pool

    def start(self) -> None:
        """Start the process and wait until it has opened the ledger (blocks: call it off the event loop)."""
        self._running().submit(_ready).result()

    def close(self) -> None:
        """Stop the process once the documents it holds are written."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    async def take(self, p: Principal, data: bytes, kind: DocKind, name: str, *, dry_run: bool = False,
                   job: bool = True) -> Outcome:
        """:func:`lichain.web.documents.take_document` in the writer process."""
        from lichain.web.problems import Refusal

        try:
            tag, value = await asyncio.wrap_future(self._running().submit(_take, p, data, kind, name, dry_run, job))
        except BrokenProcessPool:
            with self._lock:
                self._pool = None  # the next document starts a new one
            raise Refusal(503, "the writer process stopped while taking the document; it was written whole or not "
                               "at all: send it again (the same document is not written twice)") from None
        if tag == "raise":
            raise value
        out: Outcome = value
        return out


async def take(writer: Writer | None, store: SqlStore, p: Principal, data: bytes, kind: DocKind, name: str, *,
               dry_run: bool = False, job: bool = True) -> Outcome:
    """Take a document in ``writer``'s process, or on a thread of this one when the service has none."""
    if writer is not None:
        return await writer.take(p, data, kind, name, dry_run=dry_run, job=job)
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(take_document, store, p, data, kind, name, dry_run=dry_run, job=job)
