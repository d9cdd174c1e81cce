"""The immutable lot-graph snapshot every analysis runs on.

The ledger is a database; analysis needs arrays. A :class:`Snapshot` is the lot graph compiled once from
:class:`LedgerArrays` (what the store reader returns) into two CSR adjacency structures plus per-lot arrays, so
whole-chain propagation is one forward pass and a trace is a walk over contiguous memory. Lots are numbered in
creation order, which is a topological order: every edge goes from a smaller to a larger lot number.

Memory layout (``E`` edges, ``N`` lots):

* upstream CSR, rows = output lots: ``up_indptr`` int64[N+1], ``up_src`` int32[E], ``up_kg`` float64[E];
* downstream CSR, rows = input lots: ``down_indptr`` int64[N+1], ``down_dst`` int32[E] and ``down_pos`` int32[E]
  (the position of the same edge in the upstream arrays, so edge data is stored once).

That is 24 bytes per edge plus 16 bytes per lot. The derived per-edge weight ``kg / mass[dst]`` used by mass
propagation is computed on first use and cached (8 more bytes per edge).
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from lichain.analysis.arrays import (
    _DTYPES,
    _LOT_FIELDS,
    _RUN_FIELDS,
    _TABLE_FIELDS,
    F64,
    I32,
    I64,
    AnyArray,
    LedgerArrays,
    _as_str,
    _remap_runs,
    arrays_as_of,
    jit,
    split_arrays,
)
from lichain.analysis.grow import append_rows
from lichain.analysis.lot_index import LotIndex

__all__ = [
    "F64",
    "I32",
    "I64",
    "LedgerArrays",
    "Snapshot",
    "arrays_as_of",
    "csr_by_key",
    "jit",
    "split_arrays",
]



@jit
def _counting_sort(keys: I32, n: int) -> tuple[I64, I64]:
    indptr = np.zeros(n + 1, np.int64)
    for k in keys:
        indptr[k + 1] += 1
    for i in range(n):
        indptr[i + 1] += indptr[i]
    fill = indptr[:-1].copy()
    order = np.empty(keys.shape[0], np.int64)
    for j in range(keys.shape[0]):
        k = keys[j]
        order[fill[k]] = j
        fill[k] += 1
    return indptr, order


def csr_by_key(keys: AnyArray, n: int) -> tuple[I64, I64]:
    """Stable counting sort: ``indptr`` int64[n+1] and ``order`` such that ``keys[order]`` is sorted, O(len + n)."""
    return _counting_sort(np.ascontiguousarray(keys, dtype=np.int32), n)


@jit
def _up_rows(lot_run: I32, lot0: int, run0: int, run_ptr: I64, run_order: I64, cons_lot: I32, cons_kg: F64,
             alloc: F64) -> tuple[I64, I32, F64, int]:
    """Upstream rows of lots ``lot0 + j``: the consumptions of each lot's run, scaled by its allocation."""
    n = lot_run.shape[0]
    indptr = np.zeros(n + 1, np.int64)
    for j in range(n):
        r = lot_run[j]
        indptr[j + 1] = indptr[j] + (run_ptr[r - run0 + 1] - run_ptr[r - run0] if r >= 0 else 0)
    src = np.empty(indptr[n], np.int32)
    kg = np.empty(indptr[n], np.float64)
    bad = -1
    for j in range(n):
        r = lot_run[j]
        if r < 0:
            continue
        p = indptr[j]
        for q in range(run_ptr[r - run0], run_ptr[r - run0 + 1]):
            c = run_order[q]
            s = cons_lot[c]
            if s >= lot0 + j and bad < 0:
                bad = j
            src[p] = s
            kg[p] = cons_kg[c] * alloc[j]
            p += 1
    return indptr, src, kg, bad


def _mass_alloc(lot_run: I32, mass: F64, run0: int, n_runs: int) -> F64:
    """Default allocation: each output's share of its run's total output mass."""
    has = lot_run >= 0
    tot = np.bincount(lot_run[has] - run0, weights=mass[has], minlength=n_runs)
    out = np.zeros(lot_run.shape[0])
    denom = tot[lot_run[has] - run0]
    out[has] = np.divide(mass[has], denom, out=np.zeros(int(has.sum())), where=denom > 0)
    return out


def _build_up(arrays: LedgerArrays, lot0: int, run0: int, alloc: F64 | None) -> tuple[I64, I32, F64]:
    """Upstream CSR rows for ``arrays``' lots, numbered from ``lot0`` (runs from ``run0``)."""
    n, r = arrays.n_lots, arrays.n_runs
    lot_run = np.ascontiguousarray(arrays.lot_run, np.int32)
    cons_run = np.asarray(arrays.cons_run, np.int64)
    cons_lot = np.asarray(arrays.cons_lot)
    if not cons_run.shape == cons_lot.shape == np.shape(arrays.cons_kg):
        raise ValueError("cons_run, cons_lot and cons_kg must have the same length")
    if cons_lot.size and (cons_lot.min() < 0 or cons_lot.max() >= lot0 + n):
        raise ValueError(f"consumption refers to a lot outside 0..{lot0 + n - 1}")
    if cons_run.size and (cons_run.min() < run0 or cons_run.max() >= run0 + r):
        raise ValueError(f"consumption refers to a run outside {run0}..{run0 + r - 1}")
    if lot_run.size and (lot_run.max() >= run0 + r or ((lot_run >= 0) & (lot_run < run0)).any()):
        raise ValueError(f"lot refers to a producing run outside {run0}..{run0 + r - 1}")
    if alloc is None:
        alloc = _mass_alloc(lot_run, np.asarray(arrays.lot_mass_kg, np.float64), run0, r)
    elif alloc.shape != (n,):
        raise ValueError(f"alloc must have shape ({n},), not {alloc.shape}")
    run_ptr, run_order = csr_by_key(cons_run - run0, r)
    indptr, src, kg, bad = _up_rows(lot_run, lot0, run0, run_ptr, run_order,
                                    np.ascontiguousarray(arrays.cons_lot, np.int32),
                                    np.ascontiguousarray(arrays.cons_kg, np.float64),
                                    np.ascontiguousarray(alloc, np.float64))
    if bad >= 0:
        raise ValueError(f"lot {lot0 + bad} is produced by run {int(lot_run[bad])} from a lot that is not older: "
                         "lots must be numbered in creation (topological) order")
    return indptr, src, kg


def _down(up_indptr: I64, up_src: I32, n: int) -> tuple[I64, I32, I32]:
    """Downstream CSR (rows = input lots) as positions into the upstream arrays, stable by output lot."""
    indptr, order = csr_by_key(up_src, n)
    dst = np.repeat(np.arange(n, dtype=np.int32), np.diff(up_indptr))[order]
    return indptr, dst, order.astype(np.int32)


def _freeze(*arrays: AnyArray) -> None:
    for a in arrays:
        a.flags.writeable = False


@dataclass(frozen=True, eq=False)
class Snapshot:
    """The lot graph of a ledger at one moment, as CSR arrays (immutable; see the module docstring)."""

    elements: tuple[str, ...]
    lot_ids: AnyArray
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
    run_loss_kg: F64
    site_ids: tuple[str, ...]
    site_country: tuple[str, ...]
    site_org: tuple[str, ...]
    material_codes: tuple[str, ...]
    stage_names: tuple[str, ...]
    up_indptr: I64
    up_src: I32
    up_kg: F64

    # -- construction -------------------------------------------------------------------------------------------
    @classmethod
    def build(cls, arrays: LedgerArrays, *, alloc: F64 | None = None) -> Snapshot:
        """Compile ``arrays`` into a snapshot.

        Parameters
        ----------
        arrays
            The ledger in creation order.
        alloc
            Optional float64[N]: fraction of its run's consumption allocated to each output lot (economic
            allocation). Default: by mass, ``alloc[o] = mass[o] / Σ mass of the run's outputs``. The edge from
            input lot ``i`` to output ``o`` of run ``r`` then carries ``kg = cons_kg × alloc[o]`` [kg].
        """
        cols = _lot_run_arrays(arrays)
        up_indptr, up_src, up_kg = _build_up(arrays, 0, 0, alloc)
        return cls._assemble(cols, _tables(arrays), arrays.elements, up_indptr, up_src, up_kg)

    @classmethod
    def _assemble(cls, cols: dict[str, Any], tables: dict[str, Any], elements: tuple[str, ...], up_indptr: I64,
                  up_src: I32, up_kg: F64) -> Snapshot:
        _freeze(up_indptr, up_src, up_kg, *cols.values())
        return cls(elements=tuple(elements), **cols, **tables, up_indptr=up_indptr, up_src=up_src, up_kg=up_kg)

    def extend(self, delta: LedgerArrays, *, alloc: F64 | None = None) -> Snapshot:
        """Append new lots and runs; the result equals a full rebuild of the concatenated ledger.

        ``delta`` holds only the new lots (numbered ``n_lots..``) and new runs (numbered ``n_runs..``) with
        *global* numbers in ``lot_run``, ``cons_run`` and ``cons_lot`` (consumptions may reference old lots but
        must belong to new runs: closed runs never change). Its name tables must extend this snapshot's.
        """
        if tuple(delta.elements) != self.elements:
            raise ValueError(f"elements differ: {delta.elements} vs {self.elements}")
        tables = _tables(delta)
        for name, old in _tables(self).items():
            if tables[name][: len(old)] != old:
                raise ValueError(f"{name} of the delta must extend the snapshot's")
        new = _lot_run_arrays(delta)
        up_indptr, up_src, up_kg = _build_up(delta, self.n_lots, self.n_runs, alloc)
        # every column grows in place (analysis.grow): an extension costs what it appends, not the ledger
        cols = {k: append_rows(getattr(self, k), v) for k, v in new.items() if k != "lot_ids"}
        cols["lot_ids"] = _append_ids(self.lot_ids, new["lot_ids"])
        indptr = append_rows(self.up_indptr, up_indptr[1:] + self.up_indptr[-1])
        out = self._assemble(cols, tables, self.elements, indptr, append_rows(self.up_src, up_src),
                             append_rows(self.up_kg, up_kg))
        idx = self.__dict__.get("_lot_index")
        if idx is not None:  # the id index grows with the lots (shared: earlier snapshots check the position)
            out.__dict__["_lot_index"] = idx.extended(new["lot_ids"], self.n_lots)
        w = self.__dict__.get("up_w")
        if w is not None:  # edge weights of earlier lots do not change: only the new rows' are computed
            new_w = append_rows(w, _weights(up_indptr, up_kg, new["lot_mass_kg"]))
            new_w.flags.writeable = False
            out.__dict__["up_w"] = new_w
        return out

    def with_room(self) -> Snapshot:
        """This snapshot with every column copied into a buffer with room to grow (:mod:`lichain.analysis.grow`),
        so that the next extensions append in place (a snapshot memory-mapped from the cache is copied by its first
        extension otherwise, hundreds of megabytes at a million lots). Same content; the id index and edge weights
        are kept."""
        cols: dict[str, Any] = {f.name: append_rows(getattr(self, f.name), getattr(self, f.name)[:0])
                                for f in fields(self) if isinstance(getattr(self, f.name), np.ndarray)}
        _freeze(*cols.values())
        out = replace(self, **cols)
        for k in ("_lot_index", "up_w"):
            if k in self.__dict__:
                v = self.__dict__[k]
                if k == "up_w":
                    v = append_rows(v, v[:0])
                    v.flags.writeable = False
                out.__dict__[k] = v
        return out

    def as_of(self, t: int) -> Snapshot:
        """The graph as it stood at ``t`` [epoch s]: lots with ``lot_time ≤ t``, runs with ``run_time ≤ t``.

        Lots are renumbered (creation order kept). Edge kg are kept as built (allocation fixed at build time); a
        kept lot whose run is not kept becomes a source lot.
        """
        keep = self.lot_time <= t
        keep_run = self.run_time <= t
        if keep.all() and keep_run.all():
            return self
        lot_map = np.cumsum(keep, dtype=np.int64) - 1
        run_map = np.cumsum(keep_run, dtype=np.int64) - 1
        dst = np.repeat(np.arange(self.n_lots), np.diff(self.up_indptr))
        run_ok = np.zeros(self.n_lots, bool)
        has_run = self.lot_run >= 0
        run_ok[has_run] = keep_run[self.lot_run[has_run]]
        edge = keep[self.up_src] & keep[dst] & run_ok[dst]
        new_dst = lot_map[dst[edge]]
        n = int(keep.sum())
        up_indptr = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(new_dst, minlength=n), out=up_indptr[1:])
        cols: dict[str, AnyArray] = {k: getattr(self, k)[keep] for k in ("lot_ids", *_LOT_FIELDS)}
        lot_run = cols["lot_run"]
        cols["lot_run"] = _remap_runs(lot_run, (lot_run >= 0) & run_ok[keep], run_map)
        cols.update({k: getattr(self, k)[keep_run] for k in _RUN_FIELDS})
        return self._assemble(cols, _tables(self), self.elements, up_indptr,
                              lot_map[self.up_src[edge]].astype(np.int32), self.up_kg[edge])

    # -- sizes --------------------------------------------------------------------------------------------------
    @property
    def n_lots(self) -> int:
        """Number of lots N."""
        return int(self.lot_mass_kg.shape[0])

    @property
    def n_runs(self) -> int:
        """Number of runs R."""
        return int(self.run_time.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of lot-to-lot edges E."""
        return int(self.up_src.shape[0])

    @property
    def graph_nbytes(self) -> int:
        """Bytes held by the two CSR structures (upstream and downstream)."""
        return sum(int(a.nbytes) for a in (self.up_indptr, self.up_src, self.up_kg, self.down_indptr,
                                           self.down_dst, self.down_pos))

    @property
    def nbytes(self) -> int:
        """Bytes held by all numeric arrays (graph, per-lot and per-run; lot id strings excluded)."""
        per = sum(int(getattr(self, k).nbytes) for k in (*_LOT_FIELDS, *_RUN_FIELDS))
        return self.graph_nbytes + per

    @property
    def bytes_per_edge(self) -> float:
        """Graph bytes per edge (the figure compared with SQLite's and networkx's)."""
        return self.graph_nbytes / max(self.n_edges, 1)

    # -- derived arrays -----------------------------------------------------------------------------------------
    @cached_property
    def _down_csr(self) -> tuple[I64, I32, I32]:
        out = _down(self.up_indptr, self.up_src, self.n_lots)
        _freeze(*out)
        return out

    @property
    def down_indptr(self) -> I64:
        """Downstream CSR row pointers int64[N+1] (rows = input lots; built on first use, not by extensions)."""
        return self._down_csr[0]

    @property
    def down_dst(self) -> I32:
        """Output lot of each downstream edge, int32[E]."""
        return self._down_csr[1]

    @property
    def down_pos(self) -> I32:
        """Position of each downstream edge in the upstream arrays, int32[E]."""
        return self._down_csr[2]

    @cached_property
    def up_w(self) -> F64:
        """Mass weights ``w = kg / mass[dst]`` [kg kg⁻¹] in upstream order (cached, 8 bytes per edge)."""
        w = _weights(self.up_indptr, self.up_kg, self.lot_mass_kg)
        w.flags.writeable = False
        return w

    @cached_property
    def element_kg(self) -> F64:
        """Element mass of every lot, ``mass × mass_fraction`` [kg], float64[N, E]."""
        out: F64 = self.lot_mass_kg[:, None] * self.lot_assay
        out.flags.writeable = False
        return out

    @cached_property
    def is_source(self) -> npt.NDArray[np.bool_]:
        """True for lots with no upstream edge (commissioned lots, or lots whose run consumed nothing)."""
        out: npt.NDArray[np.bool_] = np.diff(self.up_indptr) == 0
        out.flags.writeable = False
        return out

    def edge_dst(self) -> I32:
        """Output lot of every upstream edge, int32[E] (materialised on demand)."""
        return np.repeat(np.arange(self.n_lots, dtype=np.int32), np.diff(self.up_indptr))

    def element_index(self, element: str | int) -> int:
        """Column of ``element`` in ``lot_assay``."""
        if isinstance(element, int | np.integer):
            if not 0 <= element < len(self.elements):
                raise KeyError(f"element column {element} out of range")
            return int(element)
        try:
            return self.elements.index(element)
        except ValueError:
            raise KeyError(f"element {element!r} is not tracked (tracked: {', '.join(self.elements)})") from None

    def attach_index(self, index: LotIndex) -> None:
        """Use ``index`` (of these lots, e.g. memory-mapped from the snapshot cache) for :meth:`index_of`."""
        self.__dict__["_lot_index"] = index

    @property
    def lot_index(self) -> LotIndex | None:
        """The id index in use, if one was built or attached."""
        return self.__dict__.get("_lot_index")

    def index_of(self, lot_id: str) -> int:
        """Lot number of an external lot id.

        A one-off lookup scans the id array with numpy (tens of ms at 5 M lots); from the third lookup on (or at
        once when the snapshot cache brought one), a sorted index (:class:`LotIndex`, ~0.3 s per million lots
        to build) answers by binary search for the rest of the snapshot's life.
        """
        idx: LotIndex | None = self.__dict__.get("_lot_index")
        if idx is None:
            n = self.__dict__["_lookups"] = self.__dict__.get("_lookups", 0) + 1  # frozen: bookkeeping
            if n < 3 and isinstance(self.lot_ids, np.ndarray):
                raw = lot_id.encode()
                if self.lot_ids.dtype.kind == "S":
                    hits = np.flatnonzero(self.lot_ids == raw)
                else:  # object arrays may mix str and bytes (a cached snapshot extended with new lots)
                    hits = np.flatnonzero((self.lot_ids == lot_id) | (self.lot_ids == raw))
                if hits.size:
                    return int(hits[0])
                raise KeyError(f"unknown lot {lot_id!r}")
            idx = self.__dict__.setdefault("_lot_index", LotIndex.build(self.lot_ids))
        pos: int = idx.get(lot_id)
        if not 0 <= pos < self.n_lots:  # the index may be shared with an extension holding later lots
            raise KeyError(f"unknown lot {lot_id!r}")
        return pos

    def element_kg_of(self, lot: int) -> F64:
        """Element mass of one lot, ``mass × mass_fraction`` [kg], float64[E] (the row of :attr:`element_kg`
        without computing the whole array)."""
        out: F64 = self.lot_mass_kg[lot] * self.lot_assay[lot]
        return out

    def lot_id(self, lot: int) -> str:
        """External id of lot number ``lot``."""
        return _as_str(self.lot_ids[lot])

    def equals(self, other: Snapshot) -> bool:
        """Exact equality of every array and table (for tests of ``extend`` and ``as_of``)."""
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if f.name == "lot_ids":  # str, bytes (cached) or mixed: the ids as text are what must match
                if len(a) != len(b) or any(_as_str(x) != _as_str(y) for x, y in zip(a, b, strict=True)):
                    return False
            elif isinstance(a, np.ndarray):
                if a.shape != np.shape(b) or not np.array_equal(a, b):
                    return False
            elif a != b:
                return False
        return all(np.array_equal(getattr(self, k), getattr(other, k)) for k in ("down_indptr", "down_dst", "down_pos"))

    # -- export -------------------------------------------------------------------------------------------------
    def to_arrow(self) -> dict[str, Any]:
        """``{"lots": pyarrow.Table, "edges": pyarrow.Table}`` (pyarrow is imported here, lazily)."""
        import pyarrow as pa

        def dictionary(codes: AnyArray, names: tuple[str, ...]) -> Any:
            idx = np.asarray(codes, np.int32)
            if not names:
                return pa.array(idx)
            return pa.DictionaryArray.from_arrays(pa.array(idx, mask=idx < 0), pa.array(list(names), pa.string()))

        ids = pa.array(self.lot_ids) if self.lot_ids.dtype.kind != "S" else pa.array(self.lot_ids).cast(pa.string())
        countries = tuple(sorted(set(self.site_country)))
        country = np.array([countries.index(c) for c in self.site_country] + [-1], np.int32)[
            np.where(self.lot_site >= 0, self.lot_site, len(self.site_country))]
        lots = {
            "lot": pa.array(np.arange(self.n_lots, dtype=np.int32)),
            "lot_id": ids.cast(pa.string()),
            "mass_kg": pa.array(self.lot_mass_kg),
            **{f"mass_fraction_{e}": pa.array(np.ascontiguousarray(self.lot_assay[:, k]))
               for k, e in enumerate(self.elements)},
            "run": pa.array(self.lot_run, mask=self.lot_run < 0),
            "site": dictionary(self.lot_site, self.site_ids),
            "country": dictionary(country, countries),
            "material": dictionary(self.lot_material, self.material_codes),
            "stage": dictionary(self.lot_stage, self.stage_names),
            "origin": dictionary(self.lot_origin, ("virgin", "pre_consumer", "post_consumer")),
            "produced_at": pa.array(self.lot_time.astype("datetime64[s]"), pa.timestamp("s", tz="UTC")),
        }
        edges = {"src": pa.array(self.up_src), "dst": pa.array(self.edge_dst()), "kg": pa.array(self.up_kg)}
        return {"lots": pa.table(lots), "edges": pa.table(edges)}

    def write_parquet(self, directory: str | Path) -> dict[str, Path]:
        """Write ``lots.parquet`` and ``edges.parquet`` into ``directory``; returns their paths."""
        import pyarrow.parquet as pq

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        paths = {}
        for name, table in self.to_arrow().items():
            paths[name] = out / f"{name}.parquet"
            pq.write_table(table, paths[name])
        return paths


def _weights(up_indptr: I64, up_kg: F64, mass: F64) -> F64:
    """``kg / mass[dst]`` of each upstream edge [kg kg⁻¹] (rows of lots without mass weigh 0)."""
    w: F64 = up_kg / np.repeat(np.where(mass > 0, mass, np.inf), np.diff(up_indptr))
    return w


def _append_ids(old: AnyArray, new: AnyArray) -> AnyArray:
    """Lot ids ``old`` then ``new``: fixed-width bytes stay so (grown in place while the new ids fit the width),
    other arrays are concatenated as objects."""
    if old.dtype.kind == "S":
        enc = [_as_str(v).encode("utf-8") for v in new]
        width = max((len(b) for b in enc), default=0)
        if width <= old.dtype.itemsize:
            return append_rows(old, np.array(enc, dtype=old.dtype))
        wide = f"S{width}"
        return np.concatenate([old.astype(wide), np.array(enc, dtype=wide)])
    return np.concatenate([old, new])


def _lot_run_arrays(a: LedgerArrays) -> dict[str, AnyArray]:
    n, r, e = a.n_lots, a.n_runs, len(a.elements)
    cols: dict[str, AnyArray] = {}
    for k in (*_LOT_FIELDS, *_RUN_FIELDS):
        v = np.ascontiguousarray(getattr(a, k), dtype=_DTYPES[k])
        want = (n, e) if k == "lot_assay" else (r, e) if k == "run_loss_kg" else (r if k in _RUN_FIELDS else n,)
        if v.shape != want:
            raise ValueError(f"{k} has shape {v.shape}, expected {want}")
        cols[k] = v.copy() if v is getattr(a, k) else v
    ids = a.lot_ids if isinstance(a.lot_ids, np.ndarray) else np.array(list(a.lot_ids), dtype=object)
    if ids.shape != (n,):
        raise ValueError(f"lot_ids has shape {ids.shape}, expected ({n},)")
    cols["lot_ids"] = ids
    return cols


def _tables(a: LedgerArrays | Snapshot) -> dict[str, tuple[str, ...]]:
    return {k: tuple(getattr(a, k)) for k in _TABLE_FIELDS}
