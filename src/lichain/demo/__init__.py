"""The integrated-chain scenario generator, used by ``lichain demo``, the tests and the benchmarks.

Why: lichain's jobs (record, check, trace, measure, comply) need a realistic chain to run on, of any size, that is
identical for the same seed. :func:`generate` describes one: Indonesian laterite through HPAL to MHP, DRC cobalt
hydroxide, Australian spodumene and Chilean brine lithium, South African manganese ore, refineries, precursor and
cathode plants in Zhejiang, cell plants of three customers in Korea, Poland and Hungary, and production scrap plus
end-of-life modules recycled into salts that go back into precursor. The default size is about one year of a
40 kt yr⁻¹ CAM producer. Events are produced lazily, batch by batch, in time order; every batch is valid given the
ones before it (and the master data). See docs/demo.md for the scenario and the source of every number.

Generated events carry ``event_id=""``; :func:`located` gives them content-derived ids for ingestion.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lichain.core.codec import canonical_payload, content_event_id, kind_of
from lichain.core.model import Event, EventKind
from lichain.core.validate import LocatedEvent
from lichain.demo.chain import DemoStats
from lichain.demo.loop import Loop
from lichain.demo.plan import LOTS_PER_YEAR, Plan, make_plan
from lichain.demo.sites import MATERIALS, SITES, diligence_records, record_time

__all__ = [
    "DEFAULT_BATCH",
    "DEFAULT_LOTS",
    "DEFAULT_START",
    "DemoChain",
    "DemoStats",
    "generate",
    "located",
]

#: Default size: about one year of a 40 kt yr⁻¹ CAM producer [lots].
DEFAULT_LOTS = LOTS_PER_YEAR
#: Default start of the chain.
DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)
#: Default number of events per batch.
DEFAULT_BATCH = 20_000
_EVENTS_PER_LOT = 1.3  # measured: 1.29 at 1 M lots, 1.31 at the default, 1.32 at 3,000


@dataclass(slots=True)
class DemoChain:
    """A generated chain: master data now, events on demand (each pass regenerates them, identically)."""

    lots: int
    seed: int
    start: datetime
    plan: Plan
    batch_size: int = DEFAULT_BATCH
    stats: DemoStats | None = field(default=None, repr=False)  # set after one complete pass

    @property
    def master_events(self) -> list[Event]:
        """Site and material declarations, and the risk statements in force at the start, at the start time
        (ingest them before :meth:`batches`; later statements come in the event stream on their dates)."""
        t = self.start
        return [*(Event("", EventKind.SITE, t, s) for s in SITES),
                *(Event("", EventKind.MATERIAL, t, m.material()) for m in MATERIALS.values()),
                *(Event("", kind_of(r), t, r) for r in diligence_records(t) if record_time(r) <= t)]

    @property
    def expected_events(self) -> int:
        """Estimated number of events of :meth:`batches` (for progress bars): about 1.3 per lot."""
        return round(self.lots * _EVENTS_PER_LOT)

    def events(self, *, include_master: bool = False) -> Iterator[Event]:
        """Every event in time order, generated lazily; master data first only if ``include_master``."""
        stats = DemoStats()
        n = 0
        if include_master:
            for ev in self.master_events:
                n += 1
                yield ev
        later = [Event("", kind_of(r), record_time(r), r) for r in sorted(diligence_records(self.start), key=record_time)
                 if record_time(r) > self.start]
        for day in Loop(self.plan, self.seed, self.start, stats).days():
            while later and later[0].time <= day[0].time:  # a statement enters the ledger on its date
                n += 1
                yield later.pop(0)
            if stats.first is None:
                stats.first = day[0].time
            stats.last = day[-1].time
            n += len(day)
            yield from day
        stats.events = n
        self.stats = stats

    def batches(self, size: int | None = None, *, include_master: bool = False) -> Iterator[list[Event]]:
        """Consecutive lists of at most ``size`` events (default :data:`DEFAULT_BATCH`) in time order.

        Each list is valid given :attr:`master_events` and the lists before it; ``include_master`` puts the master
        data at the head of the first list.
        """
        size = size or self.batch_size
        batch: list[Event] = []
        for ev in self.events(include_master=include_master):
            batch.append(ev)
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    def summary(self) -> DemoStats:
        """Statistics of the chain (runs one pass without keeping events if none has completed yet)."""
        if self.stats is None:
            for _ in self.batches():
                pass
        assert self.stats is not None
        return self.stats


def generate(lots: int = DEFAULT_LOTS, seed: int = 0, start: datetime = DEFAULT_START,
             batch_size: int = DEFAULT_BATCH) -> DemoChain:
    """Describe a demo chain of about ``lots`` lots (the generator stops at that count, give or take a day's lots).

    Parameters
    ----------
    lots : int
        Approximate number of lots. Up to :data:`DEFAULT_LOTS` the chain spans about a year at reduced capacity;
        up to five times that it runs longer at full capacity; beyond, parallel line-sets share the sites.
    seed : int
        Seed of the pseudo-random variation (grades, lot sizes, times); same seed, same events.
    start : datetime
        Time of the master data and start of operation (timezone-aware).
    batch_size : int
        Events per batch of :meth:`DemoChain.batches`.

    Returns
    -------
    DemoChain
        The chain; events are generated when iterated.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    return DemoChain(lots, seed, start, make_plan(lots), batch_size)


def located(events: Sequence[Event], offset: int = 0, prefix: str = "demo") -> list[LocatedEvent]:
    """Events with content-derived ids (``content_event_id``) and locations ``{prefix}#{offset + i}``."""
    out: list[LocatedEvent] = []
    for i, ev in enumerate(events):
        eid = ev.event_id or content_event_id(ev.kind, canonical_payload(ev.body))
        out.append(LocatedEvent(f"{prefix}#{offset + i}", Event(eid, ev.kind, ev.time, ev.body)))
    return out
