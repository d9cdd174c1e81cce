"""The public Python API: open a ledger and run every use case as a method that returns a typed result.

Why this exists: the command line, the coming REST API and a user's notebook must call the same use cases the
same way. ``lichain.open_ledger(url)`` opens (and, by default, creates) a ledger on SQLite or PostgreSQL;
``lichain.memory_ledger()`` holds one in memory (ingest, verification and checkpoints; the analyses need a SQL
ledger). Results are frozen dataclasses (``lichain.to_json`` turns any of them into JSON-ready data);
errors are the :mod:`lichain.core.errors` hierarchy (``NotFoundError`` is also a ``KeyError``, ``PeriodError``
a ``ValueError``). Masses are kg, fractions 0..1, footprints kg CO2e per kg unless a name says otherwise.

Example
-------
>>> import lichain
>>> with lichain.open_ledger("ledger.db") as ledger:          # doctest: +SKIP
...     result = ledger.ingest("chain.xlsx")
...     print(result.ok, result.events_written)
...     print(ledger.verify().head)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from lichain.core.errors import LichainError

if TYPE_CHECKING:
    from lichain.core.diligence_emrt import EmrtDeclaration
    from lichain.core.model import Event, EventBody
    from lichain.core.ports import LedgerStore
    from lichain.core.validate import BalancePolicy
    from lichain.services.checkpoint import Checkpoint, CheckpointCheck
    from lichain.services.circularity_results import RecycledContent
    from lichain.services.corrections import RetractResult
    from lichain.services.demo import DemoReport
    from lichain.services.diligence import DiligenceReport
    from lichain.services.diligence_report import DiligenceManagementReport
    from lichain.services.esg_results import EsgReport
    from lichain.services.footprint_results import LotFootprint
    from lichain.services.ingest import IngestResult
    from lichain.services.quality import LotQuality
    from lichain.services.query import BalanceCheck, LedgerSummary, LotDetail, LotSummary
    from lichain.services.spc import SpcResult
    from lichain.services.trace import TraceResult
    from lichain.services.verify import Verification
    from lichain.storage.sql import SqlStore

__all__ = ["Ledger", "UnsupportedError", "memory_ledger", "open_ledger"]


class UnsupportedError(LichainError, TypeError):
    """The use case needs a SQL ledger (SQLite or PostgreSQL), and this one is held in memory."""


class Ledger:
    """One lichain ledger and its use cases. Open it with :func:`open_ledger` or :func:`memory_ledger`."""

    def __init__(self, store: LedgerStore) -> None:
        self._store = store

    # --- lifecycle ------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Where the ledger is, with any password redacted."""
        from lichain.storage.urls import redact_url

        return redact_url(self._store.url)

    def close(self) -> None:
        """Release the database connections."""
        self._store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Ledger({self.url!r})"

    def _sql(self, what: str) -> SqlStore:
        from lichain.storage.sql import SqlStore

        if not isinstance(self._store, SqlStore):
            raise UnsupportedError(f"{what} needs a SQL ledger (open_ledger); this ledger is held in memory")
        return self._store

    # --- recording ------------------------------------------------------------------------------------------
    def ingest(self, path: str | Path, *, dry_run: bool = False, policy: BalancePolicy | None = None
               ) -> IngestResult:
        """Take one document (EPCIS 2.0 JSON-LD, XLSX workbook or CSV folder) into the ledger, all or nothing.

        A refused document lists every problem with its location and writes nothing; ``dry_run`` checks only.
        """
        from lichain.services.record import ingest_file

        return ingest_file(self._store, Path(path), policy, dry_run=dry_run)

    def record(self, items: Sequence[Event | EventBody], *, at: datetime | None = None, source: str = "api",
               dry_run: bool = False, policy: BalancePolicy | None = None) -> IngestResult:
        """Take domain events or bodies (:mod:`lichain.core.model`) into the ledger as one all-or-nothing document.

        A body becomes an event at its own time (a lot's ``produced_at``, a run's ``ended_at``, a shipment's
        ``shipped_at``, a retraction's ``declared_at``) or, for master data, ``at`` (default: now). Events without
        an id get their content id; problems are located as ``source#index``.
        """
        from lichain.core.codec import kind_of
        from lichain.core.limits import ledger_now
        from lichain.core.model import Event, LocatedEvent, Lot, Retraction, Run, Shipment
        from lichain.services.ingest import ingest_events
        from lichain.services.record import assign_ids

        def as_event(x: Event | EventBody) -> Event:
            if isinstance(x, Event):
                return x
            t = (x.produced_at if isinstance(x, Lot) else x.ended_at if isinstance(x, Run)
                 else x.shipped_at if isinstance(x, Shipment) else x.declared_at if isinstance(x, Retraction)
                 else at or ledger_now())
            return Event("", kind_of(x), t, x)

        events = assign_ids(as_event(x) for x in items)
        located = [LocatedEvent(f"{source}#{i}", ev) for i, ev in enumerate(events)]
        return ingest_events(located, self._store, policy=policy, source=source, dry_run=dry_run)

    def retract(self, ref: str, reason: str, *, corrected_by: Sequence[str] = (),
                declared_at: datetime | None = None) -> RetractResult:
        """Retract a run, shipment or lot (or the event with that id): an error declaration, kept on record."""
        from lichain.services.corrections import retract

        return retract(self._store, ref, reason, corrected_by, declared_at)

    def demo(self, *, lots: int | None = None, seed: int = 0) -> DemoReport:
        """Generate the integrated demo chain and ingest it (about 20,000 lots by default)."""
        from lichain.services.demo import run_demo

        return run_demo(self._sql("the demo"), lots=lots, seed=seed)

    # --- integrity ------------------------------------------------------------------------------------------
    def verify(self, *, deep: bool = False) -> Verification:
        """Recompute both hash chains (and with ``deep`` rebuild and compare every projection table)."""
        from lichain.services.verify import verify_chain, verify_deep

        return verify_deep(self._store) if deep else verify_chain(self._store)

    def checkpoint(self, private_key: str | Path) -> Checkpoint:
        """Sign the chain head with an Ed25519 key (PEM); keep ``.token`` where the ledger's operator cannot."""
        from lichain.services.checkpoint import make_checkpoint

        return make_checkpoint(self._store, Path(private_key))

    def verify_against(self, checkpoint: str, public_key: str | Path) -> CheckpointCheck:
        """Check a checkpoint (its JWS token) and that the ledger still extends it."""
        from lichain.services.checkpoint import verify_against

        return verify_against(self._store, checkpoint.strip(), Path(public_key))

    def balance(self) -> BalanceCheck:
        """Re-check the element mass balance of every live run."""
        from lichain.services.query import balance

        return balance(self._sql("the balance re-check"))

    # --- reading --------------------------------------------------------------------------------------------
    def summary(self) -> LedgerSummary:
        """Live lots per stage and row counts per table."""
        from lichain.services.query import summary

        return summary(self._sql("the summary"))

    def lots(self, *, stage: str | None = None, site: str | None = None, material: str | None = None,
             limit: int | None = 100, offset: int = 0) -> list[LotSummary]:
        """Live lots in creation order, each with its origin class and recycled content; ``limit=None`` for all."""
        from lichain.services.query import list_lots

        return list_lots(self._sql("listing lots"), stage=stage, site=site, material=material, limit=limit,
                         offset=offset)

    def lot(self, lot_id: str) -> LotDetail:
        """One lot with its inputs, use so far, stock per site and shipments."""
        from lichain.services.query import show_lot

        return show_lot(self._sql("showing a lot"), lot_id)

    def trace(self, lot_id: str, *, down: bool = False, element: str | None = None, by: str | None = None,
              max_depth: int | None = None) -> TraceResult:
        """Where a lot's elements came from (or, ``down``, where they went), per element."""
        from lichain.services.trace import trace_lot

        return trace_lot(self._sql("tracing"), lot_id, down=down, element=element, by=by, max_depth=max_depth)

    def footprint(self, lot_id: str) -> LotFootprint:
        """Cradle-to-gate carbon footprint of one lot [kg CO2e per kg] with its breakdowns and gaps."""
        from lichain.services.footprint import lot_footprint

        return lot_footprint(self._sql("the footprint"), lot_id)

    def diligence(self, lot_id: str) -> DiligenceReport:
        """Origins of each element of a lot and the share that passed through a site while it carried a risk."""
        from lichain.services.diligence import diligence

        return diligence(self._sql("due diligence"), lot_id)

    def emrt(self, customer: str, period: str) -> EmrtDeclaration:
        """The customer declaration in the layout of RMI's EMRT for lots shipped to ``customer`` in ``period``."""
        from lichain.services.emrt import emrt_declaration

        return emrt_declaration(self._sql("the customer declaration"), customer, period)

    def diligence_report(self, period: str, organisation: str | None = None) -> DiligenceManagementReport:
        """The due-diligence management-system report of a period (OECD steps 1-5)."""
        from lichain.services.diligence_report import diligence_report

        return diligence_report(self._sql("the due-diligence report"), period, organisation=organisation)

    def quality(self, lot_id: str) -> LotQuality:
        """A lot's certificates of analysis against its specification, its status and deviations."""
        from lichain.services.quality import lot_quality

        return lot_quality(self._store, lot_id)

    def spc(self, line: str, parameter: str, period: str, **options: Any) -> SpcResult:
        """Control chart of a line's parameter over a period (options as ``lichain spc``: chart, rules, every,
        size, record)."""
        from lichain.services.spc import spc_chart

        return spc_chart(self._sql("SPC"), line, parameter, period, **options)

    def recycled(self, lot_id: str) -> RecycledContent:
        """Recycled content per element of one lot (pre- and post-consumer, EU 2023/1542 Art. 8)."""
        from lichain.services.circularity import recycled

        return recycled(self._sql("recycled content"), lot_id)

    def esg_report(self, period: str) -> EsgReport:
        """The ESG report's data for a period (e.g. ``"2026"``, ``"2026-Q1"``, ``"2026-01-01..2026-06-30"``)."""
        from lichain.services.esg import esg_report

        return esg_report(self._sql("the ESG report"), period)

    def export_epcis(self, path: str | Path) -> int:
        """Write the whole ledger as one EPCIS 2.0 JSON-LD document; return the number of events."""
        from lichain.services.exchange import export_epcis

        with Path(path).open("w", encoding="utf-8") as fp:
            return export_epcis(self._sql("EPCIS export"), fp)


def open_ledger(url: str | Path | None = None, *, create: bool = True) -> Ledger:
    """Open the ledger at ``url``: a SQLite path or URL, or ``postgresql+psycopg://…`` (default: ``LICHAIN_DB``
    or ``./lichain.db``). With ``create=False`` a missing ledger is a :class:`~lichain.core.errors.StorageError`.
    """
    from lichain.storage.sql import open_store

    return Ledger(open_store(None if url is None else str(url), create=create))


def memory_ledger() -> Ledger:
    """A new, empty ledger held in memory (recording, verification and checkpoints)."""
    from lichain.storage.memory import MemoryStore

    return Ledger(MemoryStore())
