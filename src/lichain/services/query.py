"""Use cases that read the ledger: list lots, show one lot, re-check balances, verify the hash chain.

Each returns plain JSON-ready data in the shapes the CLI's ``--json`` and the API promise; quantities are
rendered once here, in kg and mass fractions (exact decimal strings converted to numbers for JSON).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from lichain.core.balance import element_balance
from lichain.core.codec import format_time
from lichain.core.errors import NotFoundError
from lichain.core.lot_reader import LotReader, LotRow
from lichain.core.model import DEFAULT_ELEMENTS
from lichain.core.quantities import mg_to_kg, ppb_to_fraction

if TYPE_CHECKING:  # SQLAlchemy loads only when a use case reads through the SQL store, not for `lichain show` on
    # SQLite (lichain.storage.sqlite_read); the write-time rules only when balances are re-checked
    from lichain.core.validate import BalancePolicy
    from lichain.storage.sql import SqlStore

__all__ = [
    "BalanceCheck",
    "BalanceProblem",
    "LedgerSummary",
    "LotConsumer",
    "LotDetail",
    "LotInput",
    "LotShipment",
    "LotSummary",
    "RecycledShare",
    "RunRef",
    "StageCount",
    "balance",
    "canonical_lot_id",
    "list_lots",
    "show_lot",
    "summary",
]


def _num(d: Decimal) -> float | int:
    return int(d) if d == d.to_integral_value() else float(d)


def _time(us: int) -> str:
    return format_time(datetime.fromtimestamp(us // 1_000_000, UTC).replace(microsecond=us % 1_000_000))


def canonical_lot_id(lot_id: str) -> str:
    """The ledger's spelling of a lot id (an EPC URN and its GS1 Digital Link URI are the same lot)."""
    from lichain.io.gs1_uri import normalise_epc

    return normalise_epc(lot_id)


@dataclass(frozen=True, slots=True)
class RecycledShare:
    """Physical recycled share of one element of a lot [kg kg⁻¹] (None when the lot holds none of it)."""

    recycled: float | None
    pre_consumer: float | None
    post_consumer: float | None


@dataclass(frozen=True, slots=True)
class LotSummary:
    """One live lot (the ``lots --json`` item): mass [kg], assay (mass fractions), its own origin class and,
    beside it, its recycled content per element (``origin_class`` and ``recycled_content`` are None and empty
    when the lot's shares are not computed, e.g. a lot of a retracted run)."""

    id: str
    material: str
    stage: str
    site: str
    produced_at: str
    mass_kg: float
    assay: dict[str, float]
    origin: str
    origin_class: str | None
    origin_class_meaning: str | None
    recycled_content: dict[str, RecycledShare]


@dataclass(frozen=True, slots=True)
class RunRef:
    """The run that made a lot."""

    id: str
    kind: str
    site: str
    started_at: str
    ended_at: str


@dataclass(frozen=True, slots=True)
class LotInput:
    """A lot the run that made this lot consumed, and how much [kg]."""

    lot: str
    mass_kg: float


@dataclass(frozen=True, slots=True)
class LotConsumer:
    """A run that consumed this lot, and how much [kg]."""

    run: str
    mass_kg: float


@dataclass(frozen=True, slots=True)
class LotShipment:
    """A shipment of the lot: mass [kg], ends, mode, distance [km], receiving organisation, time."""

    id: str
    mass_kg: float
    from_site: str
    to_site: str
    mode: str
    distance_km: float
    to_organisation: str | None
    shipped_at: str


@dataclass(frozen=True, slots=True)
class LotDetail(LotSummary):
    """One lot (the ``show --json`` shape): its :class:`LotSummary` fields, then what made it, what it went
    into, what is left where, and its shipments (masses in kg)."""

    event_id: str
    retracted: bool
    run: RunRef | None
    inputs: tuple[LotInput, ...]
    consumed_by: tuple[LotConsumer, ...]
    consumed_kg: float
    remaining_kg: float
    remaining_by_site_kg: dict[str, float]
    shipped_kg: float
    shipments: tuple[LotShipment, ...]


def _summaries(store: SqlStore | LotReader, rows: list[LotRow]) -> list[LotSummary]:
    from lichain.services.lot_origin import ORIGIN_CLASS_MEANING, lot_origins

    got = lot_origins(store, [r.id for r in rows])
    out = []
    for r in rows:
        o = got.get(r.id)
        out.append(LotSummary(
            r.id, r.material, r.stage, r.site, _time(r.produced_us), _num(mg_to_kg(r.mass_mg)),
            {e: _num(ppb_to_fraction(v)) for e, v in sorted(r.assay.items())}, r.origin,
            o.origin_class if o else None, ORIGIN_CLASS_MEANING if o else None,
            {x.element: RecycledShare(x.recycled, x.pre_consumer, x.post_consumer) for x in o.recycled_content}
            if o else {}))
    return out


def list_lots(store: SqlStore, *, stage: str | None = None, site: str | None = None,
              material: str | None = None, limit: int | None = 100, offset: int = 0,
              customer: str | None = None, operators: Sequence[str] | None = None) -> list[LotSummary]:
    """Live lots in creation order, each with its origin class and recycled content; ``customer``: only lots
    shipped to it; ``operators``: only lots made at sites these organisations operate."""
    from lichain.storage.queries import lot_rows

    return _summaries(store, lot_rows(store, stage=stage, site=site, material=material, limit=limit, offset=offset,
                                      customer=customer, operators=operators))


def show_lot(store: SqlStore | LotReader, lot_id: str) -> LotDetail:
    """One lot with its direct inputs, use so far, stock per site and shipments.

    ``store``: the SQL store, or any :class:`LotReader` (e.g. the SQLAlchemy-free SQLite reader of ``show``).
    """
    if isinstance(store, LotReader):
        reader: LotReader = store
    else:
        from lichain.storage.queries import SqlLotReader

        reader = SqlLotReader(store)
    r = reader.find_lot(lot_id) or reader.find_lot(canonical_lot_id(lot_id))
    if r is None:
        raise NotFoundError(f"unknown lot {lot_id}")
    d = reader.lot_detail(r.idx)
    consumed = sum(m for _, m in d["consumed_by"])
    shipped = sum(x["mass_mg"] for x in d["shipments"])
    by_site: dict[str, int] = {}  # stock per site now: produced + arrived − shipped out − consumed there
    for mv in reader.movements([r.id]).get(r.id, ()):
        by_site[mv.site] = by_site.get(mv.site, 0) + mv.mass_mg
    run = d["run"]
    summary = _summaries(reader, [r])[0]
    return LotDetail(
        summary.id, summary.material, summary.stage, summary.site, summary.produced_at, summary.mass_kg,
        summary.assay, summary.origin, summary.origin_class, summary.origin_class_meaning, summary.recycled_content,
        d["event_id"], d["retracted"],
        None if run is None else RunRef(run["id"], run["kind"], run["site"], _time(run["started_us"]),
                                        _time(run["ended_us"])),
        tuple(LotInput(lot, _num(mg_to_kg(m))) for lot, m in d["inputs"]),
        tuple(LotConsumer(rid, _num(mg_to_kg(m))) for rid, m in d["consumed_by"]),
        _num(mg_to_kg(consumed)), _num(mg_to_kg(r.mass_mg - consumed)),
        {k: _num(mg_to_kg(v)) for k, v in sorted(by_site.items())}, _num(mg_to_kg(shipped)),
        tuple(LotShipment(x["id"], _num(mg_to_kg(x["mass_mg"])), x["from_site"], x["to_site"], x["mode"],
                          _num(Decimal(x["distance_km"])), x["to_organisation"], _time(x["shipped_us"]))
              for x in d["shipments"]))


@dataclass(frozen=True, slots=True)
class BalanceProblem:
    """A run whose element balance fails the write-time rule: masses in, out and declared lost [kg]."""

    run: str
    element: str
    in_kg: float
    out_kg: float
    loss_kg: float
    message: str


@dataclass(frozen=True, slots=True)
class BalanceCheck:
    """Outcome of ``lichain balance`` (the ``balance --json`` shape): every live run re-checked."""

    runs_checked: int
    elements: tuple[str, ...]
    problems: tuple[BalanceProblem, ...]

    @property
    def ok(self) -> bool:
        """True when every run balances."""
        return not self.problems


@dataclass(frozen=True, slots=True)
class StageCount:
    """Live lots of one stage: how many, and their total mass [kg]."""

    lots: int
    mass_kg: float


@dataclass(frozen=True, slots=True)
class LedgerSummary:
    """Live lots per stage, row counts per table, and the elements tracked."""

    stages: dict[str, StageCount]
    tables: dict[str, int]
    elements: tuple[str, ...]


def balance(store: SqlStore, policy: BalancePolicy | None = None) -> BalanceCheck:
    """Re-check the element balance of every live run by the write-time rule."""
    from lichain.core.validate import BalancePolicy
    from lichain.storage.queries import balance_rows

    policy = policy or BalancePolicy()
    runs = 0
    problems: list[BalanceProblem] = []
    for _idx, run_id, kind, n_outputs, terms in balance_rows(store, policy.elements):
        runs += 1
        for e, (i, o, loss) in terms.items():
            b = element_balance(e, i, o, loss, policy.tolerance(kind), n_outputs)
            if not b.ok:
                i_kg, o_kg, loss_kg, _ = b.kg()
                problems.append(BalanceProblem(run_id, e, i_kg, o_kg, loss_kg, b.message(run_id)))
    return BalanceCheck(runs, tuple(policy.elements), tuple(problems))


def summary(store: SqlStore) -> LedgerSummary:
    """Counts per stage and table."""
    from lichain.storage.queries import counts_by_stage

    stages = {k: StageCount(int(v["lots"]), v["mass_kg"]) for k, v in counts_by_stage(store).items()}
    return LedgerSummary(stages, store.counts(), tuple(DEFAULT_ELEMENTS))
