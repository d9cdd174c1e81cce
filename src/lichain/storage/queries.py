"""Read queries over the ledger's projections: lot listings, lot detail, run balances, counts per stage.

Retracted events (EPCIS error declarations) are filtered out everywhere: their lots, runs and shipments leave
balances, stock and traces but stay on record in ``events``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import and_, func, select

from lichain.core.lot_reader import LotRow
from lichain.core.ports import Movement
from lichain.storage import schema as s
from lichain.storage.sql import SqlStore

__all__ = ["LotRow", "SqlLotReader", "balance_rows", "counts_by_stage", "find_lot", "lot_detail", "lot_filters", "lot_rows"]


def _live(seq_col: Any) -> Any:
    return ~seq_col.in_(select(s.retractions.c.target_seq))


def lot_filters(q: Any, *, stage: str | None = None, site: str | None = None, material: str | None = None,
                customer: str | None = None, operators: Sequence[str] | None = None) -> Any:
    """``q`` (over lots joined to materials) narrowed to a stage, site, material, customer and the organisations
    operating the lot's site, where given."""
    if stage:
        q = q.where(s.materials.c.stage == stage)
    if site:
        q = q.where(s.lots.c.site == site)
    if material:
        q = q.where(s.lots.c.material == material)
    if customer:
        from lichain.storage.lists_sql import delivered_lots

        q = q.where(s.lots.c.idx.in_(delivered_lots(customer)))
    if operators is not None:
        q = q.where(s.lots.c.site.in_(select(s.sites.c.id).where(s.sites.c.organisation.in_(list(operators)))))
    return q


def lot_rows(
    store: SqlStore, *, stage: str | None = None, site: str | None = None, material: str | None = None,
    limit: int | None = 100, offset: int = 0, customer: str | None = None, operators: Sequence[str] | None = None,
) -> list[LotRow]:
    """Live lots in creation order, filtered (``customer``: lots with a live shipment to that organisation)."""
    q = (select(s.lots.c.idx, s.lots.c.id, s.lots.c.material, s.materials.c.stage, s.lots.c.site,
                s.lots.c.produced_us, s.lots.c.mass_mg, s.lots.c.origin)
         .join(s.materials, s.materials.c.code == s.lots.c.material)
         .where(_live(s.lots.c.event_seq)).order_by(s.lots.c.idx))
    q = lot_filters(q, stage=stage, site=site, material=material, customer=customer, operators=operators)
    if limit is not None:
        q = q.limit(limit)
    if offset:
        q = q.offset(offset)
    with store.read() as conn:
        rows = conn.execute(q).all()
        assay: dict[int, dict[str, int]] = {r.idx: {} for r in rows}
        if rows:
            lo, hi = rows[0].idx, rows[-1].idx
            for a in conn.execute(select(s.assays).where(and_(s.assays.c.lot_idx >= lo, s.assays.c.lot_idx <= hi))):
                if a.lot_idx in assay:
                    assay[a.lot_idx][a.element] = a.ppb
    return [LotRow(r.idx, r.id, r.material, r.stage, r.site, r.produced_us, r.mass_mg, r.origin, assay[r.idx])
            for r in rows]


def find_lot(store: SqlStore, lot_id: str) -> LotRow | None:
    """One lot by id (live or retracted), or None."""
    with store.read() as conn:
        r = conn.execute(
            select(s.lots.c.idx, s.lots.c.id, s.lots.c.material, s.materials.c.stage, s.lots.c.site,
                   s.lots.c.produced_us, s.lots.c.mass_mg, s.lots.c.origin)
            .join(s.materials, s.materials.c.code == s.lots.c.material).where(s.lots.c.id == lot_id)
        ).first()
        if r is None:
            return None
        assay = dict(conn.execute(select(s.assays.c.element, s.assays.c.ppb)
                                  .where(s.assays.c.lot_idx == r.idx)).all())
    return LotRow(r.idx, r.id, r.material, r.stage, r.site, r.produced_us, r.mass_mg, r.origin, assay)


def lot_detail(store: SqlStore, idx: int) -> dict[str, Any]:
    """Producing run with its inputs, runs that consumed the lot, shipments, and retraction status (raw units)."""
    with store.read() as conn:
        lot = conn.execute(select(s.lots.c.run_idx, s.lots.c.event_seq, s.events.c.event_id)
                           .join(s.events, s.events.c.seq == s.lots.c.event_seq).where(s.lots.c.idx == idx)).one()
        retracted = conn.execute(select(func.count()).select_from(s.retractions)
                                 .where(s.retractions.c.target_seq == lot.event_seq)).scalar_one() > 0
        run = None
        inputs: list[tuple[str, int]] = []
        if lot.run_idx is not None:
            run = conn.execute(select(s.runs).where(s.runs.c.idx == lot.run_idx)).one()._asdict()
            inputs = [tuple(r) for r in conn.execute(
                select(s.lots.c.id, s.consumptions.c.mass_mg)
                .join(s.lots, s.lots.c.idx == s.consumptions.c.lot_idx)
                .where(s.consumptions.c.run_idx == lot.run_idx).order_by(s.lots.c.idx))]
        consumed_by = [tuple(r) for r in conn.execute(
            select(s.runs.c.id, s.consumptions.c.mass_mg)
            .join(s.runs, s.runs.c.idx == s.consumptions.c.run_idx)
            .where(s.consumptions.c.lot_idx == idx, _live(s.runs.c.event_seq)).order_by(s.runs.c.idx))]
        shipments = [r._asdict() for r in conn.execute(
            select(s.shipments.c.id, s.shipments.c.mass_mg, s.shipments.c.from_site, s.shipments.c.to_site,
                   s.shipments.c.mode, s.shipments.c.distance_km, s.shipments.c.to_organisation,
                   s.shipments.c.shipped_us)
            .where(s.shipments.c.lot_idx == idx, _live(s.shipments.c.event_seq)).order_by(s.shipments.c.idx))]
    return {"event_id": lot.event_id, "retracted": retracted, "run": run, "inputs": inputs,
            "consumed_by": consumed_by, "shipments": shipments}


class SqlLotReader:
    """:class:`lichain.core.lot_reader.LotReader` over a :class:`SqlStore` (SQLite or PostgreSQL)."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.url = store.url
        self.is_sqlite = store.is_sqlite

    def head(self) -> tuple[int, str]:
        """(last seq, chain hash)."""
        return self.store.head()

    def find_lot(self, lot_id: str) -> LotRow | None:
        """One lot by id, or None."""
        return find_lot(self.store, lot_id)

    def lot_detail(self, idx: int) -> dict[str, Any]:
        """See :func:`lot_detail`."""
        return lot_detail(self.store, idx)

    def movements(self, ids: Iterable[str]) -> dict[str, list[Movement]]:
        """Live movements of the stored lots among ``ids``."""
        return self.store.movements(ids)

    def full_store(self) -> SqlStore:
        """The store itself."""
        return self.store


def balance_rows(
    store: SqlStore, elements: tuple[str, ...]
) -> Iterator[tuple[int, str, str, int, dict[str, tuple[int, int, int]]]]:
    """Per live run: (run idx, run id, kind, output count, element → (in, out, loss)) exact [mg·ppb].

    The products mass [mg] × fraction [ppb] exceed 64-bit integers, so rows are summed here in Python
    integers rather than by the database: the re-check is as exact as the write-time check.
    """
    from lichain.core.quantities import FRACTION_SCALE

    c, a, lt, r = s.consumptions, s.assays, s.lots, s.runs
    live = _live(r.c.event_seq)
    ins: dict[tuple[int, str], int] = {}
    outs: dict[tuple[int, str], int] = {}
    n_out: dict[int, int] = {}
    with store.read() as conn:
        for run_idx, e, mg, ppb in conn.execute(
                select(c.c.run_idx, a.c.element, c.c.mass_mg, a.c.ppb)
                .join(a, a.c.lot_idx == c.c.lot_idx).where(a.c.element.in_(elements))):
            ins[run_idx, e] = ins.get((run_idx, e), 0) + int(mg) * int(ppb)
        for run_idx, e, mg, ppb in conn.execute(
                select(lt.c.run_idx, a.c.element, lt.c.mass_mg, a.c.ppb)
                .join(a, a.c.lot_idx == lt.c.idx)
                .where(lt.c.run_idx.is_not(None), a.c.element.in_(elements))):
            outs[run_idx, e] = outs.get((run_idx, e), 0) + int(mg) * int(ppb)
        for run_idx, count in conn.execute(select(lt.c.run_idx, func.count()).where(lt.c.run_idx.is_not(None))
                                           .group_by(lt.c.run_idx)):
            n_out[run_idx] = int(count)
        losses = {(row.run_idx, row.element): int(row.mass_mg) * FRACTION_SCALE
                  for row in conn.execute(select(s.run_losses))}
        for row in conn.execute(select(r.c.idx, r.c.id, r.c.kind).where(live).order_by(r.c.idx)):
            terms = {e: (ins.get((row.idx, e), 0), outs.get((row.idx, e), 0), losses.get((row.idx, e), 0))
                     for e in elements}
            yield row.idx, row.id, row.kind, n_out.get(row.idx, 0), terms


def counts_by_stage(store: SqlStore) -> dict[str, dict[str, float]]:
    """Live lots per stage: count and total mass [kg]."""
    with store.read() as conn:
        rows = conn.execute(
            select(s.materials.c.stage, func.count(), func.sum(s.lots.c.mass_mg))
            .join(s.materials, s.materials.c.code == s.lots.c.material)
            .where(_live(s.lots.c.event_seq)).group_by(s.materials.c.stage)).all()
    return {r[0]: {"lots": int(r[1]), "mass_kg": int(r[2]) / 1e6} for r in rows}
