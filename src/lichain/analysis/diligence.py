"""Which part of each lot's element passed through a set of lots: the propagation behind due diligence.

A lot made at a site while the site carried a risk is *tainted*; the share of a lot's element that passed through
any tainted lot is 1 at a tainted lot and, elsewhere, what its inputs bring weighted by the element mass each
brings (the one share kernel, :func:`lichain.analysis.shares.shares`). The same function gives the share of a
lot's element that passed through one processing site (all lots made there).
"""

from __future__ import annotations

import numpy as np

from lichain.analysis.shares import Bool, Shares, shares
from lichain.analysis.snapshot import Snapshot

__all__ = ["through_share"]


def through_share(snap: Snapshot, element: str | int, mask: Bool) -> Shares:
    """Fraction of every lot's ``element`` that passed through a lot in ``mask`` (bool[N]) [kg kg⁻¹].

    Undefined (NaN) where a lot holds none of the element.
    """
    if mask.shape != (snap.n_lots,) or mask.dtype != np.bool_:
        raise ValueError(f"mask must be bool[{snap.n_lots}]")
    return shares(snap, element, mask.astype(np.float64), mask | snap.is_source)
