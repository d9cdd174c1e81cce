"""The reads the footprint use case needs beyond the snapshot and the emission arrays (bound parameters only).

Why this exists: use cases do not build SQL (import contract); the footprint service asks these questions of the
ledger: each site's kind, each live run's kind, the declared values of outputs (economic allocation), a run's
identity, a material's formula and a lot's shipments.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, exists, func, literal, select, union_all

from lichain.storage import schema as s
from lichain.storage.sql import SqlStore

__all__ = ["alloc_values", "event_kinds_since", "last_seq_of", "material_formula", "pcf_lots_since", "run_identity", "run_ids", "run_kinds",
           "shipment_ends", "shipments_since", "shipped_inputs", "shipping_changes_earlier", "site_kinds"]


def _live(col: Any) -> Any:
    return col.not_in(select(s.retractions.c.target_seq))


def site_kinds(store: SqlStore) -> dict[str, str]:
    """Site id → kind."""
    with store.read() as conn:
        return {r[0]: r[1] for r in conn.execute(select(s.sites.c.id, s.sites.c.kind))}


def run_kinds(store: SqlStore, run_from: int = 0) -> list[tuple[int, str]]:
    """(run index, run kind) of every live run (from index ``run_from`` on)."""
    with store.read() as conn:
        return [(int(r[0]), r[1]) for r in conn.execute(
            select(s.runs.c.idx, s.runs.c.kind).where(_live(s.runs.c.event_seq), s.runs.c.idx >= run_from))]


def alloc_values(store: SqlStore, lot_from: int = 0) -> list[tuple[int, str]]:
    """(lot index, declared value as decimal text) of every live output with a declared value (index ≥
    ``lot_from``)."""
    with store.read() as conn:
        return [(int(r[0]), r[1]) for r in conn.execute(
            select(s.lots.c.idx, s.lots.c.alloc_value)
            .where(s.lots.c.alloc_value.is_not(None), _live(s.lots.c.event_seq), s.lots.c.idx >= lot_from))]


@lru_cache(maxsize=32)
def _kinds_since_statement(kinds: tuple[str, ...]) -> Any:
    e = s.events.c
    return union_all(*(select(literal(k).label("kind")).where(exists().where(e.kind == k, e.seq > bindparam("seq")))
                       for k in kinds))  # built once per set of kinds


def event_kinds_since(store: SqlStore, seq: int, kinds: Iterable[str]) -> set[str]:
    """Which of ``kinds`` were recorded after event ``seq``: one index probe per kind (``ix_events_kind``), so the
    cost does not grow with the number of events since (a busy writer appends thousands between refreshes)."""
    q = _kinds_since_statement(tuple(sorted(kinds)))
    with store.read() as conn:
        return {str(r[0]) for r in conn.execute(q, {"seq": seq})}


@lru_cache(maxsize=32)
def _last_seq_statement(kinds: tuple[str, ...]) -> Any:
    per_kind = union_all(*(select(func.max(s.events.c.seq).label("m")).where(s.events.c.kind == k) for k in kinds))
    return select(func.max(per_kind.subquery().c.m))  # built once per set of kinds (1.5 ms per read before)


def last_seq_of(store: SqlStore, kinds: Iterable[str]) -> int:
    """The sequence number of the last event of one of ``kinds`` (0: none)."""
    q = _last_seq_statement(tuple(kinds))
    with store.read() as conn:  # one index lookup per kind (an IN list made PostgreSQL walk the primary key back)
        return int(conn.execute(q).scalar() or 0)


def shipped_inputs(store: SqlStore, run_from: int) -> list[int]:
    """The lots (store numbers) that runs from index ``run_from`` on consumed and that have a shipment on record
    (those runs' inbound transport depends on the lots' legs)."""
    c, sh = s.consumptions, s.shipments
    with store.read() as conn:
        return sorted(int(r[0]) for r in conn.execute(select(c.c.lot_idx).distinct().where(
            c.c.run_idx >= run_from, c.c.lot_idx.in_(select(sh.c.lot_idx)))))


def shipments_since(store: SqlStore, seq: int) -> list[int]:
    """The lots (store numbers) shipped by shipments recorded after event ``seq`` (shipments are numbered in
    the order they are recorded: walked back from the last one)."""
    sh = s.shipments
    with store.read() as conn:
        last = conn.execute(select(sh.c.idx).where(sh.c.event_seq <= seq).order_by(sh.c.idx.desc())
                            .limit(1)).scalar()
        return sorted({int(r[0]) for r in conn.execute(
            select(sh.c.lot_idx).where(sh.c.idx > (last if last is not None else -1)))})


def pcf_lots_since(store: SqlStore, seq: int) -> list[int]:
    """The lots (store numbers) named by supplier PCFs recorded after event ``seq`` (a range of the PCFs'
    primary key)."""
    p, lots = s.supplier_pcfs, s.lots
    with store.read() as conn:
        return sorted({int(r[0]) for r in conn.execute(
            select(lots.c.idx).join(p, p.c.lot_id == lots.c.id).where(p.c.event_seq > seq))})


def shipping_changes_earlier(store: SqlStore, lots: list[int], run_below: int) -> bool:
    """True when new legs of ``lots`` could change the inbound transport of a run numbered below ``run_below``.

    A run is charged the transport intensity of the site where it consumed the lot, which every leg of that lot
    may change: a leg arriving at a site changes that site's intensity and the intensity of every site reached
    from there. A lot's own site has intensity zero unless some leg returns to it. So earlier runs keep their
    charges when none consumed the lot away from its own site, and none consumed it at all if a leg of the lot
    returns to its own site (conservative: those cases are recomputed in full)."""
    if not lots:
        return False
    c, r, lt, sh = s.consumptions, s.runs, s.lots, s.shipments
    with store.read() as conn:
        home = {int(i): site for i, site in conn.execute(select(lt.c.idx, lt.c.site).where(lt.c.idx.in_(lots)))}
        used = conn.execute(select(c.c.lot_idx, r.c.site).join(r, r.c.idx == c.c.run_idx).where(
            c.c.lot_idx.in_(lots), c.c.run_idx < run_below)).all()
        if not used:
            return False
        if any(site != home.get(int(lot)) for lot, site in used):
            return True
        back = conn.execute(select(sh.c.lot_idx, sh.c.to_site).where(sh.c.lot_idx.in_(lots))).all()
        return any(site == home.get(int(lot)) for lot, site in back)


def run_ids(store: SqlStore, idx: Iterable[int]) -> dict[int, str]:
    """Run index → run id, for the indexes asked."""
    wanted = [int(i) for i in idx]
    with store.read() as conn:
        return {int(r[0]): r[1] for r in conn.execute(
            select(s.runs.c.idx, s.runs.c.id).where(s.runs.c.idx.in_(wanted)))}


def run_identity(store: SqlStore, idx: int) -> tuple[str, str, str] | None:
    """(id, kind, site) of the run with index ``idx``."""
    with store.read() as conn:
        r = conn.execute(select(s.runs.c.id, s.runs.c.kind, s.runs.c.site).where(s.runs.c.idx == int(idx))).first()
    return None if r is None else (r[0], r[1], r[2])


def material_formula(store: SqlStore, code: str) -> str | None:
    """The nominal formula of a material (None when it has none or is not declared)."""
    with store.read() as conn:
        f = conn.execute(select(s.materials.c.formula).where(s.materials.c.code == code)).scalar()
    return None if f is None else str(f)


def shipment_ends(store: SqlStore, lot_idx: int) -> dict[int, tuple[str, str, str | None]]:
    """Shipment index → (shipment id, destination site, receiving organisation) of a lot's shipments."""
    with store.read() as conn:
        return {int(r[0]): (r[1], r[2], r[3]) for r in conn.execute(
            select(s.shipments.c.idx, s.shipments.c.id, s.shipments.c.to_site, s.shipments.c.to_organisation)
            .where(s.shipments.c.lot_idx == int(lot_idx)))}
