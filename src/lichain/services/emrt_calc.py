"""The numbers behind a customer declaration: element-weighted shares of the delivered metal by site and risk.

Why this exists: an EMRT-layout declaration (:mod:`lichain.services.emrt`) lists the processors and mines behind
every lot shipped to one customer in a period, per metal, with the share of that metal through (or from) each.
All shares are the engine's one propagation (:func:`lichain.analysis.shares.shares`) evaluated at the delivered
lots and weighted by the delivered element mass [kg]; this module only chooses the masks:

- *through a processor* P: the fraction of the metal that passed through a lot made at P
  (:func:`lichain.analysis.diligence.through_share`);
- *from a mine* M: the fraction whose origin is a virgin source lot made at M, recycled material counted as
  recycled (the reset points of :func:`lichain.analysis.shares.reset_points`, as for recycled content);
- *through P from M*: the values "from M" of P's lots, propagated from P's lots on (P's lots reset);
- *recycled or scrap*: post-consumer (``recycled``) and pre-consumer (``scrap``) origin classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from lichain.analysis.diligence import through_share
from lichain.analysis.shares import origin_shares, reset_points, shares
from lichain.analysis.snapshot import Snapshot

__all__ = ["RECYCLED_CLASSES", "Delivered"]

F64 = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]
#: Origin classes of :data:`lichain.analysis.shares.ORIGINS` (index) and the word RMI asks for in their place.
RECYCLED_CLASSES: dict[int, str] = {1: "scrap", 2: "recycled"}


@dataclass(eq=False)
class Delivered:
    """Lots delivered to a customer (snapshot positions) with the mass shipped [kg] of each shipment."""

    snap: Snapshot
    lots: npt.NDArray[np.int64]
    kg: F64
    _reset: Bool | None = field(default=None, repr=False)
    _origins: dict[str, F64] = field(default_factory=dict, repr=False)

    @property
    def reset(self) -> Bool:
        """Lots whose origin class is their own (sources, and recycled lots made from virgin ones)."""
        if self._reset is None:
            self._reset = reset_points(self.snap)
        return self._reset

    def element_kg(self, e: str) -> F64:
        """Delivered mass of element ``e`` per shipment [kg]."""
        out: F64 = self.kg * self.snap.lot_assay[self.lots, self.snap.element_index(e)]
        return out

    def weighted(self, e: str, values: F64) -> float:
        """The delivered-element-mass-weighted mean of per-lot ``values`` (NaN counts as 0) [kg kg⁻¹]."""
        w = self.element_kg(e)
        total = float(w.sum())
        if total <= 0:
            return 0.0
        v = np.nan_to_num(values[self.lots], nan=0.0)
        return float(np.clip((w * v).sum() / total, 0.0, 1.0))

    def site_lots(self, site: int) -> Bool:
        """Lots made at site number ``site``."""
        out: Bool = self.snap.lot_site == site
        return out

    def through(self, e: str, mask: Bool) -> F64:
        """Per lot: fraction of ``e`` that passed through a lot in ``mask``."""
        return through_share(self.snap, e, mask).values

    def from_sources(self, e: str, mask: Bool) -> F64:
        """Per lot: fraction of ``e`` from the reset lots in ``mask`` (virgin sources of a mine)."""
        m = mask & self.reset
        return shares(self.snap, e, m.astype(np.float64), self.reset | m).values

    def origins(self, e: str) -> F64:
        """Per lot and origin class (virgin, pre-consumer, post-consumer): fraction of ``e`` [N, 3]."""
        if e not in self._origins:
            self._origins[e] = origin_shares(self.snap, e, "origin").values
        return self._origins[e]

    def via(self, e: str, processor: Bool, values_at_processor: F64) -> F64:
        """Per lot: fraction of ``e`` that passed through ``processor`` lots, weighted by their ``values``."""
        v = np.where(processor, np.nan_to_num(values_at_processor, nan=0.0), 0.0)
        return shares(self.snap, e, v, processor | self.reset).values
