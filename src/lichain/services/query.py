"""Use cases that read the ledger: list lots, show one lot, re-check balances, verify the hash chain.

Each returns plain JSON-ready data in the shapes the CLI's ``--json`` and the API promise; quantities are
rendered once here, in kg and mass fractions (exact decimal strings converted to numbers for JSON).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lichain.core.balance import element_balance
from lichain.core.codec import format_time
from lichain.core.errors import NotFoundError
from lichain.core.model import DEFAULT_ELEMENTS
from lichain.core.quantities import mg_to_kg, ppb_to_fraction
from lichain.storage.queries import LotRow, balance_rows, counts_by_stage, find_lot, lot_detail, lot_rows
from lichain.storage.sql import SqlStore

if TYPE_CHECKING:  # the write-time rules load only when balances are re-checked, not for `lichain show`
    from lichain.core.validate import BalancePolicy

__all__ = ["BalanceCheck", "BalanceProblem", "LedgerSummary", "StageCount", "balance", "canonical_lot_id", "list_lots", "show_lot", "summary"]


def _num(d: Decimal) -> float | int:
    return int(d) if d == d.to_integral_value() else float(d)


def _time(us: int) -> str:
    return format_time(datetime.fromtimestamp(us // 1_000_000, UTC).replace(microsecond=us % 1_000_000))


def canonical_lot_id(lot_id: str) -> str:
    """The ledger's spelling of a lot id (an EPC URN and its GS1 Digital Link URI are the same lot)."""
    from lichain.io.gs1_uri import normalise_epc

    return normalise_epc(lot_id)


def _lot_json(r: LotRow) -> dict[str, Any]:
    return {
        "id": r.id,
        "material": r.material,
        "stage": r.stage,
        "site": r.site,
        "produced_at": _time(r.produced_us),
        "mass_kg": _num(mg_to_kg(r.mass_mg)),
        "assay": {e: _num(ppb_to_fraction(v)) for e, v in sorted(r.assay.items())},
        "origin": r.origin,
    }


def list_lots(store: SqlStore, *, stage: str | None = None, site: str | None = None,
              material: str | None = None, limit: int | None = 100, offset: int = 0,
              customer: str | None = None) -> list[dict[str, Any]]:
    """Live lots in creation order (the ``lots --json`` shape), each with its origin class and recycled content;
    ``customer``: only lots shipped to it."""
    return _with_origin(store, [_lot_json(r) for r in lot_rows(store, stage=stage, site=site, material=material,
                                                                limit=limit, offset=offset, customer=customer)])


def _with_origin(store: SqlStore, lots: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add ``origin_class`` (the lot's own class) and ``recycled_content`` per element (services.lot_origin)."""
    from lichain.services.lot_origin import lot_origins

    got = lot_origins(store, [x["id"] for x in lots])
    for x in lots:
        if x["id"] in got:
            x.update(got[x["id"]].to_json())
    return lots


def show_lot(store: SqlStore, lot_id: str) -> dict[str, Any]:
    """One lot with its direct inputs, use so far and remaining mass (the ``show --json`` shape)."""
    r = find_lot(store, lot_id) or find_lot(store, canonical_lot_id(lot_id))
    if r is None:
        raise NotFoundError(f"unknown lot {lot_id}")
    d = lot_detail(store, r.idx)
    consumed = sum(m for _, m in d["consumed_by"])
    shipped = sum(x["mass_mg"] for x in d["shipments"])
    by_site: dict[str, int] = {}  # stock per site now: produced + arrived − shipped out − consumed there
    for mv in store.movements([r.id]).get(r.id, ()):
        by_site[mv.site] = by_site.get(mv.site, 0) + mv.mass_mg
    out = _with_origin(store, [_lot_json(r)])[0]
    out.update({
        "event_id": d["event_id"],
        "retracted": d["retracted"],
        "run": None if d["run"] is None else {
            "id": d["run"]["id"], "kind": d["run"]["kind"], "site": d["run"]["site"],
            "started_at": _time(d["run"]["started_us"]), "ended_at": _time(d["run"]["ended_us"])},
        "inputs": [{"lot": lot, "mass_kg": _num(mg_to_kg(m))} for lot, m in d["inputs"]],
        "consumed_by": [{"run": run, "mass_kg": _num(mg_to_kg(m))} for run, m in d["consumed_by"]],
        "consumed_kg": _num(mg_to_kg(consumed)),
        "remaining_kg": _num(mg_to_kg(r.mass_mg - consumed)),
        "remaining_by_site_kg": {k: _num(mg_to_kg(v)) for k, v in sorted(by_site.items())},
        "shipped_kg": _num(mg_to_kg(shipped)),
        "shipments": [{"id": x["id"], "mass_kg": _num(mg_to_kg(x["mass_mg"])), "from_site": x["from_site"],
                       "to_site": x["to_site"], "mode": x["mode"], "distance_km": _num(Decimal(x["distance_km"])),
                       "to_organisation": x["to_organisation"], "shipped_at": _time(x["shipped_us"])}
                      for x in d["shipments"]],
    })
    return out


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
    stages = {k: StageCount(int(v["lots"]), v["mass_kg"]) for k, v in counts_by_stage(store).items()}
    return LedgerSummary(stages, store.counts(), tuple(DEFAULT_ELEMENTS))
