"""Element-weighted shares on the lot graph: recycled content and origin per element, through the one kernel.

A lot's share of element e coming from a class (recycled pre-/post-consumer, an origin country …) is what its
inputs bring, weighted by the element mass each input brings; classes enter at reset points. The linear system
is solved by :func:`lichain.analysis.propagate.propagate`, the single propagation path of the engine.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from lichain.analysis.propagate import propagate
from lichain.analysis.snapshot import F64, I32, I64, Snapshot, jit

__all__ = [
    "ORIGINS",
    "Shares",
    "nan_to_none",
    "origin_shares",
    "recycled_share",
    "reset_points",
    "share_weights",
    "shares",
    "to_optional",
]

ORIGINS = ("virgin", "pre_consumer", "post_consumer")
Bool = npt.NDArray[np.bool_]


@jit
def _share_weights(indptr: I64, src: I32, kg: F64, assay: F64, e: int, reset: Bool, w: F64,
                   defined: Bool) -> None:
    for o in range(indptr.shape[0] - 1):
        b, end = indptr[o], indptr[o + 1]
        fo = assay[o, e]
        den = 0.0
        if not reset[o]:
            for j in range(b, end):
                s = src[j]
                if defined[s]:
                    den += kg[j] * assay[s, e]
        ok = fo > 0.0 and (reset[o] or b == end or den > 0.0)
        defined[o] = ok
        inner = ok and not reset[o] and den > 0.0
        for j in range(b, end):
            s = src[j]
            w[j] = kg[j] * assay[s, e] / den if inner and defined[s] else 0.0


def share_weights(snap: Snapshot, element: str | int, reset: Bool | None = None) -> tuple[F64, Bool]:
    r"""W for element-weighted shares, and which lots have a defined share.

    .. math:: w_{io} = \frac{\mathrm{kg}_{io}\, f_{e,i}}{\sum_{i' \to o,\ \mathrm{defined}} \mathrm{kg}_{i'o}\, f_{e,i'}}

    where :math:`f_{e,i}` is the mass fraction of element ``e`` in input lot ``i`` [kg kg⁻¹]: a share is mixed in
    proportion to the element mass each input brings, not the lot mass (DESIGN §3).

    Parameters
    ----------
    snap
        The lot graph.
    element
        Element symbol (``"Ni"``) or column index.
    reset
        bool[N]: lots whose share is their own value (their row of W is zero). Default: :func:`reset_points`.

    Returns
    -------
    weights : float64[E], rows sum to 1 where defined and not reset.
    defined : bool[N]. A share is undefined for a lot with no element ``e`` (``f_e = 0``) and for a non-reset
        lot whose defined inputs bring none of it; undefined inputs are left out of the mix.
    """
    e = snap.element_index(element)
    if reset is not None and (reset.shape != (snap.n_lots,) or reset.dtype != np.bool_):
        raise ValueError(f"reset must be bool[{snap.n_lots}]")
    reset = reset_points(snap) if reset is None else reset | snap.is_source
    w = np.empty(snap.n_edges)
    defined = np.empty(snap.n_lots, np.bool_)
    _share_weights(snap.up_indptr, snap.up_src, snap.up_kg, snap.lot_assay, e, reset, w, defined)
    return w, defined


@jit
def _reset_points(indptr: I64, src: I32, origin: npt.NDArray[np.int8], out: Bool) -> None:
    for o in range(indptr.shape[0] - 1):
        if indptr[o] == indptr[o + 1]:
            out[o] = True
        elif origin[o] != 0:
            clean = True
            for j in range(indptr[o], indptr[o + 1]):
                if origin[src[j]] != 0:
                    clean = False
                    break
            out[o] = clean
        else:
            out[o] = False


def reset_points(snap: Snapshot) -> Bool:
    """Lots whose origin class is their own: sources, and lots declared recycled made only from virgin lots.

    A production-scrap lot (declared pre-consumer) made from virgin cathode is where recycled material enters the
    chain, so its share is its own class; black mass made from such scrap is computed from its inputs.
    """
    out = np.empty(snap.n_lots, np.bool_)
    _reset_points(snap.up_indptr, snap.up_src, snap.lot_origin, out)
    return out


@dataclass(frozen=True, eq=False)
class Shares:
    """Element-weighted shares of every lot: ``values`` float64[N] or [N, K] (NaN where undefined)."""

    element: str
    values: F64
    defined: Bool
    classes: tuple[str, ...] = ()

    def of(self, lot: int) -> float | list[float] | None:
        """JSON-safe share(s) of one lot: None when undefined."""
        if not self.defined[lot]:
            return None
        v = self.values[lot]
        return float(v) if np.ndim(v) == 0 else [float(a) for a in v]


def shares(snap: Snapshot, element: str | int, values: F64, reset: Bool | None = None) -> Shares:
    r"""Propagate per-lot values of reset lots as element-weighted shares (:func:`share_weights`).

    .. math:: s_{e,o} = \sum_{i \to o} w_{io}\, s_{e,i} \quad (s_{e,o} = \mathrm{values}_o \text{ at reset lots})

    Parameters
    ----------
    values
        float64[N] or [N, K] in [0, 1]: the share(s) of each reset lot (ignored elsewhere).

    Returns
    -------
    :class:`Shares`; shares stay within the range of ``values`` (convex combinations). Undefined lots hold NaN:
    use :func:`to_optional` or :meth:`Shares.of` before JSON.
    """
    if np.shape(values)[:1] != (snap.n_lots,) or np.ndim(values) not in (1, 2):
        raise ValueError(f"values must have shape ({snap.n_lots},) or ({snap.n_lots}, K)")
    reset = reset_points(snap) if reset is None else reset
    w, defined = share_weights(snap, element, reset)
    reset = reset | snap.is_source
    own = np.where((reset & defined).reshape((-1,) + (1,) * (np.ndim(values) - 1)), values, 0.0)
    x = propagate(snap.up_indptr, snap.up_src, w, own, out=own)
    x[~defined] = np.nan
    return Shares(snap.elements[snap.element_index(element)], x, defined)


def origin_shares(snap: Snapshot, element: str | int, by: str = "origin") -> Shares:
    """Fraction of each lot's element coming from each origin class or origin country (one pass, K classes).

    ``by="origin"``: classes virgin / pre_consumer / post_consumer of the reset lots (:func:`reset_points`);
    ``by="country"`` or ``"organisation"``: of the reset lots' sites. Rows sum to 1 where defined.
    """
    reset = reset_points(snap)
    if by == "origin":
        cls, names = snap.lot_origin.astype(np.int64), ORIGINS
    elif by in ("country", "organisation"):
        table = snap.site_country if by == "country" else snap.site_org
        names = tuple(sorted({table[s] for s in np.unique(snap.lot_site[reset])}))
        lookup = np.array([names.index(v) if v in names else -1 for v in table] + [-1], np.int64)
        cls = lookup[np.where(snap.lot_site >= 0, snap.lot_site, len(table))]
    else:
        raise ValueError(f"by must be 'origin', 'country' or 'organisation', not {by!r}")
    onehot = np.zeros((snap.n_lots, len(names)))
    rows = np.flatnonzero(reset & (cls >= 0))
    onehot[rows, cls[rows]] = 1.0
    s = shares(snap, element, onehot, reset)
    return Shares(s.element, s.values, s.defined, tuple(names))


def recycled_share(snap: Snapshot, element: str | int) -> Shares:
    """Recycled (pre- plus post-consumer) share of ``element`` in every lot [kg kg⁻¹] (EU 2023/1542 Art. 8)."""
    reset = reset_points(snap)
    return shares(snap, element, (snap.lot_origin != 0).astype(np.float64), reset)


def nan_to_none(x: Any) -> Any:
    """Replace NaN and ±inf by None in a float, array or nested sequence (for JSON)."""
    if isinstance(x, np.ndarray):
        x = x.tolist()
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, Sequence) and not isinstance(x, str):
        return [nan_to_none(v) for v in x]
    if isinstance(x, dict):
        return {k: nan_to_none(v) for k, v in x.items()}
    return x


def to_optional(values: F64, defined: Bool) -> list[Any]:
    """Per-lot values as JSON-safe lists: None for undefined lots, floats (or lists of floats) otherwise."""
    out = cast(list[Any], nan_to_none(values))
    for i in np.flatnonzero(~defined):
        out[int(i)] = None
    return out
