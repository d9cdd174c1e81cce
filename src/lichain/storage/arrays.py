"""Bulk read of the ledger's projections into the flat arrays the analysis engine compiles.

One query per table, fetched through the driver and converted to numpy once; no per-row round trips.
Retracted events are left out; lots keep their creation order (a topological order), and ``store_lot_idx`` /
``store_run_idx`` map array positions back to the store's numbering so a snapshot can be extended with only the
rows created after it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from lichain.analysis.snapshot import LedgerArrays
from lichain.core.model import DEFAULT_ELEMENTS, Origin, Stage
from lichain.storage.inlist import driver_rows
from lichain.storage.sql import SqlStore

__all__ = ["ORIGINS", "STAGES", "StoreArrays", "read_arrays"]

ORIGINS: tuple[str, ...] = tuple(o.value for o in Origin)
STAGES: tuple[str, ...] = tuple(s.value for s in Stage)

_LIVE = "NOT IN (SELECT target_seq FROM retractions)"


@dataclass(frozen=True)
class StoreArrays:
    """Arrays of a ledger (or of the part created after ``lot_from``/``run_from``) and their store numbering."""

    arrays: LedgerArrays
    store_lot_idx: npt.NDArray[np.int64]
    store_run_idx: npt.NDArray[np.int64]
    retractions: int


def read_arrays(
    store: SqlStore,
    *,
    elements: tuple[str, ...] = DEFAULT_ELEMENTS,
    lot_from: int = 0,
    run_from: int = 0,
    known_lots: npt.NDArray[np.int64] | None = None,
    known_runs: npt.NDArray[np.int64] | None = None,
) -> StoreArrays:
    """Read live lots with store idx ≥ ``lot_from`` and runs with idx ≥ ``run_from`` as :class:`LedgerArrays`.

    For an extension, ``known_lots``/``known_runs`` (the store idx of lots and runs already in the snapshot,
    sorted) make the delta's ``lot_run``, ``cons_run`` and ``cons_lot`` global positions, as
    :meth:`lichain.analysis.snapshot.Snapshot.extend` takes them. Site and material tables are in declaration
    order, so a later read extends an earlier one.
    Masses are converted from mg to kg and fractions from parts per 10⁹ once, here [kg, kg kg⁻¹].
    """
    from sqlalchemy import text

    p = {"lf": lot_from, "rf": run_from}
    with store.read() as conn:
        sites = conn.execute(text("SELECT id, country, organisation FROM sites ORDER BY event_seq, id")).all()
        mats = conn.execute(text("SELECT code, stage FROM materials ORDER BY event_seq, code")).all()
        lots = driver_rows(conn, text(
            f"SELECT idx, id, material, site, produced_us, mass_mg, origin, run_idx FROM lots "
            f"WHERE idx >= :lf AND event_seq {_LIVE} ORDER BY idx"), p)
        runs = driver_rows(conn, text(
            f"SELECT idx, site, ended_us FROM runs WHERE idx >= :rf AND event_seq {_LIVE} ORDER BY idx"), p)
        cons = driver_rows(conn, text(
            f"SELECT c.run_idx, c.lot_idx, c.mass_mg FROM consumptions c JOIN runs r ON r.idx = c.run_idx "
            f"WHERE c.run_idx >= :rf AND r.event_seq {_LIVE} ORDER BY c.run_idx, c.lot_idx"), p)
        assays = driver_rows(conn, text(
            "SELECT lot_idx, element, ppb FROM assays WHERE lot_idx >= :lf"), p)
        losses = driver_rows(conn, text(
            "SELECT run_idx, element, mass_mg FROM run_losses WHERE run_idx >= :rf"), p)
        retractions = conn.execute(text("SELECT count(*) FROM retractions")).scalar_one()

    site_ids = tuple(r[0] for r in sites)
    site_pos = {s: i for i, s in enumerate(site_ids)}
    mat_codes = tuple(r[0] for r in mats)
    mat_pos = {m: i for i, m in enumerate(mat_codes)}
    stage_pos = {s: i for i, s in enumerate(STAGES)}
    mat_stage = np.array([stage_pos.get(r[1], -1) for r in mats], dtype=np.int8)
    origin_pos = {o: i for i, o in enumerate(ORIGINS)}

    n = len(lots)
    store_lot = np.fromiter((r[0] for r in lots), np.int64, n)
    run_store = np.fromiter((r[0] for r in runs), np.int64, len(runs))
    lot_material = np.fromiter((mat_pos[r[2]] for r in lots), np.int32, n)
    lot_run_store = np.fromiter((-1 if r[7] is None else r[7] for r in lots), np.int64, n)
    lot_run = np.full(n, -1, np.int32)
    has_run = lot_run_store >= 0
    all_runs = run_store if known_runs is None else np.concatenate([known_runs, run_store])
    lot_run[has_run] = np.searchsorted(all_runs, lot_run_store[has_run]).astype(np.int32)

    all_lots = store_lot if known_lots is None else np.concatenate([known_lots, store_lot])
    e_pos = {e: i for i, e in enumerate(elements)}
    assay = np.zeros((n, len(elements)), np.float64)
    if assays:
        a_lot = np.fromiter((r[0] for r in assays), np.int64, len(assays))
        a_el = np.fromiter((e_pos.get(r[1], -1) for r in assays), np.int64, len(assays))
        a_val = np.fromiter((r[2] for r in assays), np.float64, len(assays)) / 1e9
        pos = np.searchsorted(store_lot, a_lot)
        ok = (a_el >= 0) & (pos < n)
        ok[ok] &= store_lot[pos[ok]] == a_lot[ok]
        assay[pos[ok], a_el[ok]] = a_val[ok]
    loss = np.zeros((len(runs), len(elements)), np.float64)
    if losses:
        l_run = np.fromiter((r[0] for r in losses), np.int64, len(losses))
        l_el = np.fromiter((e_pos.get(r[1], -1) for r in losses), np.int64, len(losses))
        l_val = np.fromiter((r[2] for r in losses), np.float64, len(losses)) / 1e6
        pos = np.searchsorted(run_store, l_run)
        ok = (l_el >= 0) & (pos < len(runs))
        ok[ok] &= run_store[pos[ok]] == l_run[ok]
        loss[pos[ok], l_el[ok]] = l_val[ok]
    m = len(cons)
    c_run = np.fromiter((r[0] for r in cons), np.int64, m)
    c_lot = np.fromiter((r[1] for r in cons), np.int64, m)
    arrays = LedgerArrays(
        elements=elements,
        lot_ids=tuple(r[1] for r in lots),
        lot_mass_kg=np.fromiter((r[5] for r in lots), np.float64, n) / 1e6,
        lot_assay=assay,
        lot_run=lot_run,
        lot_site=np.fromiter((site_pos[r[3]] for r in lots), np.int32, n),
        lot_material=lot_material,
        lot_stage=mat_stage[lot_material] if n else np.zeros(0, np.int8),
        lot_origin=np.fromiter((origin_pos.get(r[6], 0) for r in lots), np.int8, n),
        lot_time=np.fromiter((r[4] // 1_000_000 for r in lots), np.int64, n),
        run_time=np.fromiter((r[2] // 1_000_000 for r in runs), np.int64, len(runs)),
        run_site=np.fromiter((site_pos[r[1]] for r in runs), np.int32, len(runs)),
        cons_run=np.searchsorted(all_runs, c_run).astype(np.int32),
        cons_lot=np.searchsorted(all_lots, c_lot).astype(np.int32),
        cons_kg=np.fromiter((r[2] for r in cons), np.float64, m) / 1e6,
        run_loss_kg=loss,
        site_ids=site_ids,
        site_country=tuple(r[1] for r in sites),
        site_org=tuple(r[2] for r in sites),
        material_codes=mat_codes,
        stage_names=STAGES,
    )
    return StoreArrays(arrays, store_lot, run_store, int(retractions))
