"""Use case: a lot's own origin class beside the recycled content its elements carry.

Why this exists: ``origin`` is the class declared for the lot itself (virgin, pre_consumer, post_consumer) when
it was made or received; it is not its recycled content. A cathode lot made from 30 % recycled nickel sulfate is
of class ``virgin`` (it is new material, not scrap) and holds 30 % recycled Ni. Showing one without the other
misleads, so every lot display shows both, named: the class as "this lot's own class", and the physical
recycled share per element (pre- plus post-consumer, element-mass weighted over the lot graph,
:func:`lichain.analysis.shares.origin_shares`, the figure of ``lichain recycled`` and Regulation (EU)
2023/1542 Art. 8).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["ORIGIN_CLASS_MEANING", "ElementRecycled", "LotOrigin", "lot_origins"]

ORIGIN_CLASS_MEANING = ("the class declared for this lot itself (virgin, pre_consumer or post_consumer), not its "
                        "recycled content: see recycled_content, the physical pre- plus post-consumer share of "
                        "each element, element-mass weighted over the lot's inputs")


@dataclass(frozen=True, slots=True)
class ElementRecycled:
    """Physical recycled shares of one element in a lot [kg kg⁻¹]; None when the lot holds none of it."""

    element: str
    recycled: float | None
    pre_consumer: float | None
    post_consumer: float | None


@dataclass(frozen=True, slots=True)
class LotOrigin:
    """A lot's own origin class and its recycled content per element."""

    lot: str
    origin_class: str
    recycled_content: tuple[ElementRecycled, ...]

    def to_json(self) -> dict[str, Any]:
        """``origin_class``, its meaning, and ``recycled_content`` per element (fractions 0..1)."""
        return {"origin_class": self.origin_class, "origin_class_meaning": ORIGIN_CLASS_MEANING,
                "recycled_content": {r.element: {"recycled": r.recycled, "pre_consumer": r.pre_consumer,
                                                 "post_consumer": r.post_consumer}
                                     for r in self.recycled_content}}

    def summary(self) -> str:
        """For people: ``virgin (this lot's own class); recycled content Ni 30.0 %, Co 0.0 %``."""
        parts = [f"{r.element} {100 * r.recycled:.1f} %" for r in self.recycled_content if r.recycled is not None]
        return (f"{self.origin_class} (this lot's own class); recycled content "
                + (", ".join(parts) if parts else "not defined (no tracked element)"))


def _opt(x: float) -> float | None:
    return None if x != x else float(x)  # NaN: undefined share


def lot_origins(store: Any, lot_ids: Sequence[str]) -> dict[str, LotOrigin]:
    """:class:`LotOrigin` of each lot of ``lot_ids`` (ledger spelling), from the cached snapshot.

    Lots not in the snapshot (none when the ledger is consistent) are left out of the result.
    """
    from lichain.analysis.shares import ORIGINS, origin_shares
    from lichain.services.snapshot import load_snapshot

    if not lot_ids:
        return {}
    snap = load_snapshot(store).snapshot
    found: list[tuple[str, int]] = []
    for lot in lot_ids:
        try:
            found.append((lot, snap.index_of(lot)))
        except (KeyError, ValueError):
            continue
    pre, post = ORIGINS.index("pre_consumer"), ORIGINS.index("post_consumer")
    per_el = {e: origin_shares(snap, e) for e in snap.elements}
    out = {}
    for lot, i in found:
        rows = []
        for e, sh in per_el.items():
            if sh.defined[i]:
                p, q = float(sh.values[i, pre]), float(sh.values[i, post])
                rows.append(ElementRecycled(e, _opt(p + q), _opt(p), _opt(q)))
        out[lot] = LotOrigin(lot, ORIGINS[int(snap.lot_origin[i])], tuple(rows))
    return out
