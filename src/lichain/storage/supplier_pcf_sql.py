"""Bulk reads the footprint needs about source lots: supplier PCFs in force, assays, and lots without any data.

Why a module of its own: :mod:`lichain.storage.emissions_reader` turns activity data into emissions; what a
purchased lot brings in (its supplier's PCF, or nothing at all) is a separate question with its own SQL. All
queries take bound parameters; retracted lots are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, text

from lichain.storage.sql import SqlStore, chunks

__all__ = ["PcfRow", "lot_assays", "run_ids", "source_lots_without_data", "supplier_pcfs"]

_LIVE = "NOT IN (SELECT target_seq FROM retractions)"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class PcfRow:
    """The supplier PCF in force for one source lot (the latest recorded), with the lot's mass [kg]."""

    lot_idx: int
    lot_id: str
    mass_kg: float
    value: Decimal
    unit: str
    supplier: str
    document: str
    boundary: str
    standard: str
    data_quality_rating: Decimal | None
    primary_data_share: Decimal | None
    valid_from: datetime | None
    valid_until: datetime | None
    assay: dict[str, int] = field(default_factory=dict)  # element -> parts per 10^9 (for per-element PCFs)


def _dec(v: str | None) -> Decimal | None:
    return None if v is None else Decimal(v)


def _t(us: int | None) -> datetime | None:
    return None if us is None else _EPOCH + timedelta(microseconds=int(us))


def supplier_pcfs(conn: Connection, l0: int, l1: int) -> list[PcfRow]:
    """The latest supplier PCF of every live source lot numbered ``l0..l1``, in lot order."""
    rows = conn.execute(text(
        "SELECT l.idx, l.id, l.mass_mg, p.value, p.unit, p.supplier, p.document, p.boundary, p.standard, "
        "p.data_quality_rating, p.primary_data_share, p.valid_from_us, p.valid_until_us "
        "FROM supplier_pcfs p JOIN lots l ON l.id = p.lot_id "
        f"WHERE l.idx BETWEEN :l0 AND :l1 AND l.run_idx IS NULL AND l.event_seq {_LIVE} AND p.event_seq {_LIVE} "
        "ORDER BY p.event_seq"),
        {"l0": l0, "l1": l1}).all()
    latest: dict[int, PcfRow] = {}
    for r in rows:
        latest[int(r[0])] = PcfRow(int(r[0]), r[1], r[2] / 1e6, Decimal(r[3]), r[4], r[5], r[6], r[7], r[8],
                                   _dec(r[9]), _dec(r[10]), _t(r[11]), _t(r[12]))
    assays = lot_assays(conn, latest) if latest else {}
    return [replace(latest[k], assay=assays.get(k, {})) for k in sorted(latest)]


def lot_assays(conn: Connection, idxs: Iterable[int]) -> dict[int, dict[str, int]]:
    """Assays (element → parts per 10⁹) of the lots numbered ``idxs``."""
    q = text("SELECT lot_idx, element, ppb FROM assays WHERE lot_idx IN :ids").bindparams(
        bindparam("ids", expanding=True))
    out: dict[int, dict[str, int]] = {}
    for part in chunks(sorted(set(idxs))):
        for i, e, ppb in conn.execute(q, {"ids": list(part)}).all():
            out.setdefault(int(i), {})[e] = int(ppb)
    return out


def run_ids(store: SqlStore, idxs: Iterable[int]) -> dict[int, str]:
    """Run ids by store number (to name the runs a footprint problem affects)."""
    q = text("SELECT idx, id FROM runs WHERE idx IN :ids").bindparams(bindparam("ids", expanding=True))
    out: dict[int, str] = {}
    with store.read() as conn:
        for part in chunks(sorted(set(idxs))):
            out.update({int(i): r for i, r in conn.execute(q, {"ids": list(part)}).all()})
    return out


def source_lots_without_data(conn: Connection, l0: int, l1: int) -> list[tuple[int, str, str, str]]:
    """Live source lots numbered ``l0..l1`` with neither activity data nor a supplier PCF: (idx, id, material, origin)."""
    rows: Any = conn.execute(text(
        "SELECT l.idx, l.id, l.material, l.origin FROM lots l "
        f"WHERE l.idx BETWEEN :l0 AND :l1 AND l.run_idx IS NULL AND l.event_seq {_LIVE} "
        "AND NOT EXISTS (SELECT 1 FROM activities a WHERE a.lot_idx = l.idx) "
        f"AND NOT EXISTS (SELECT 1 FROM supplier_pcfs p WHERE p.lot_id = l.id AND p.event_seq {_LIVE}) "
        "ORDER BY l.idx"),
        {"l0": l0, "l1": l1}).all()
    return [(int(r[0]), r[1], r[2], r[3]) for r in rows]
