"""The ledger as flat arrays in creation order: the contract between the store reader and the engine.

:class:`LedgerArrays` is what ``lichain.storage.arrays`` fills from the database and what
:class:`lichain.analysis.snapshot.Snapshot` compiles; :func:`arrays_as_of` and :func:`split_arrays` cut it by
time or position (the reference implementations that ``Snapshot.as_of`` and ``Snapshot.extend`` are tested
against). Also the shared numpy array aliases and the ``jit`` decorator of the analysis package.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt

__all__ = ["F64", "I32", "I64", "AnyArray", "LedgerArrays", "arrays_as_of", "jit", "split_arrays"]

F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
AnyArray = npt.NDArray[Any]

_F = TypeVar("_F", bound=Callable[..., Any])


def jit(fn: _F) -> _F:
    """Compile ``fn`` with numba in nopython mode, cached on disk, releasing the GIL (typed wrapper)."""
    return cast(_F, numba.njit(cache=True, nogil=True)(fn))


@dataclass(frozen=True, eq=False)
class LedgerArrays:
    """The ledger as flat arrays, numbered in creation order (what the store reader returns).

    Lots ``0..N-1`` are numbered in creation order, runs ``0..R-1``; ``E`` tracked elements. Run ``r`` consumed
    ``cons_kg[m]`` [kg] of lot ``cons_lot[m]`` where ``cons_run[m] == r``; ``lot_run`` is the producing run of each
    lot (-1 for source lots: mine output, purchases, commissioned end-of-life batteries). ``lot_assay`` holds
    mass fractions [kg kg⁻¹]; ``lot_time`` and ``run_time`` are epoch seconds (UTC); ``run_loss_kg`` the declared
    element losses [kg]; ``lot_origin`` is 0 virgin, 1 pre-consumer, 2 post-consumer.
    """

    elements: tuple[str, ...]
    lot_ids: Sequence[str] | AnyArray
    lot_mass_kg: F64
    lot_assay: F64
    lot_run: I32
    lot_site: I32
    lot_material: I32
    lot_stage: AnyArray
    lot_origin: AnyArray
    lot_time: I64
    run_time: I64
    run_site: I32
    cons_run: I32
    cons_lot: I32
    cons_kg: F64
    run_loss_kg: F64
    site_ids: tuple[str, ...] = ()
    site_country: tuple[str, ...] = ()
    site_org: tuple[str, ...] = ()
    material_codes: tuple[str, ...] = ()
    stage_names: tuple[str, ...] = ()

    @property
    def n_lots(self) -> int:
        """Number of lots."""
        return int(self.lot_mass_kg.shape[0])

    @property
    def n_runs(self) -> int:
        """Number of runs."""
        return int(self.run_time.shape[0])


_LOT_FIELDS = ("lot_mass_kg", "lot_assay", "lot_run", "lot_site", "lot_material", "lot_stage", "lot_origin",
               "lot_time")
_RUN_FIELDS = ("run_time", "run_site", "run_loss_kg")
_TABLE_FIELDS = ("site_ids", "site_country", "site_org", "material_codes", "stage_names")
_DTYPES = {"lot_mass_kg": np.float64, "lot_assay": np.float64, "lot_run": np.int32, "lot_site": np.int32,
           "lot_material": np.int32, "lot_stage": np.int8, "lot_origin": np.int8, "lot_time": np.int64,
           "run_time": np.int64, "run_site": np.int32, "run_loss_kg": np.float64}


def _remap_runs(lot_run: I32, ok: npt.NDArray[np.bool_], run_map: I64) -> I32:
    """New run numbers of lots whose run is kept, -1 for the others."""
    out = np.full(lot_run.shape[0], -1, np.int32)
    out[ok] = run_map[lot_run[ok]]
    return out


def _as_str(v: Any) -> str:
    return v.decode() if isinstance(v, bytes | np.bytes_) else str(v)


def arrays_as_of(a: LedgerArrays, t: int) -> LedgerArrays:
    """``a`` restricted to lots with ``lot_time ≤ t`` and runs with ``run_time ≤ t``, renumbered.

    Consumptions are kept when both their run and their lot are kept; a kept lot whose run is dropped becomes a
    source lot. ``Snapshot.build(arrays_as_of(a, t))`` equals ``Snapshot.build(a).as_of(t)`` when every lot is
    produced at its run's time (allocation is then unchanged).
    """
    keep = np.asarray(a.lot_time) <= t
    keep_run = np.asarray(a.run_time) <= t
    lot_map = np.cumsum(keep) - 1
    run_map = np.cumsum(keep_run) - 1
    cons = keep_run[a.cons_run] & keep[a.cons_lot]
    lot_run = np.asarray(a.lot_run)[keep]
    ok = lot_run >= 0
    ok[ok] = keep_run[lot_run[ok]]
    ids = a.lot_ids if isinstance(a.lot_ids, np.ndarray) else np.array(list(a.lot_ids), dtype=object)
    changes: dict[str, Any] = {k: np.asarray(getattr(a, k))[keep] for k in _LOT_FIELDS}
    changes.update({k: np.asarray(getattr(a, k))[keep_run] for k in _RUN_FIELDS})
    changes.update(lot_ids=ids[keep], lot_run=_remap_runs(lot_run, ok, run_map),
                   cons_run=run_map[np.asarray(a.cons_run)[cons]].astype(np.int32),
                   cons_lot=lot_map[np.asarray(a.cons_lot)[cons]].astype(np.int32),
                   cons_kg=np.asarray(a.cons_kg)[cons])
    return replace(a, **changes)


def split_arrays(a: LedgerArrays, n_lots: int, n_runs: int) -> tuple[LedgerArrays, LedgerArrays]:
    """Split ``a`` into the first ``n_lots``/``n_runs`` and the delta that :meth:`Snapshot.extend` takes.

    Consumptions go with their run; the delta keeps global numbers. Raises ``ValueError`` when the cut separates
    a run from one of its outputs.
    """
    lot_run = np.asarray(a.lot_run)
    head_lot = np.arange(a.n_lots) < n_lots
    produced = lot_run >= 0
    if ((lot_run[produced] < n_runs) != head_lot[produced]).any():
        raise ValueError("the cut separates a run from one of its output lots")
    cons_head = np.asarray(a.cons_run) < n_runs
    if (np.asarray(a.cons_lot)[cons_head] >= n_lots).any():
        raise ValueError("an old run consumes a lot after the cut")
    ids = a.lot_ids if isinstance(a.lot_ids, np.ndarray) else np.array(list(a.lot_ids), dtype=object)

    def part(lots: slice, runs: slice, cons: npt.NDArray[np.bool_]) -> LedgerArrays:
        changes: dict[str, Any] = {k: np.asarray(getattr(a, k))[lots] for k in _LOT_FIELDS}
        changes.update({k: np.asarray(getattr(a, k))[runs] for k in _RUN_FIELDS})
        changes.update({k: np.asarray(getattr(a, k))[cons] for k in ("cons_run", "cons_lot", "cons_kg")})
        return replace(a, lot_ids=ids[lots], **changes)

    return (part(slice(0, n_lots), slice(0, n_runs), cons_head),
            part(slice(n_lots, None), slice(n_runs, None), ~cons_head))

