"""Stocks, lot making and exact run balances for the demo generator.

Why: every generated run must pass the ledger's element balance, so outputs are computed from what was actually
consumed, in the ledger's own integer units: masses in mg, assays in parts per 10⁹, element amounts in mg·ppb
(mass × assay). Output assays are rounded to 1 ppb and declared losses to 1 mg; a residual below 1 g per element
and run is rounding (an assay's last ppb on a multi-tonne lot), not a loss, and is not declared. Either way the
residual stays below 10⁻⁶ of the input, far inside the ledger's 0.5 % tolerance. Stocks are FIFO queues of partly consumed lots, so a lot
is never consumed beyond its mass and every input was available before the run that uses it.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from lichain.core.model import DEFAULT_ELEMENTS, Activity, Consumption, Lot
from lichain.demo.sites import MATERIALS, SITES, lot_uri

__all__ = ["KG", "PPB", "Factory", "Item", "Stock", "consumptions", "elements_in", "losses", "majority_origin"]

PPB = 1_000_000_000
_TRACKED = frozenset(DEFAULT_ELEMENTS)
_MIN_LOSS_MG = 1000  # below 1 g per element and run a difference is assay rounding, not a loss
KG = 1_000_000 * PPB  # 1 kg of an element in mg·ppb


class Item:
    """A lot in a stock: what is left of it [mg], its assay [ppb] and origin, and when it became available."""

    __slots__ = ("arrived", "assay", "lot", "material", "origin", "remaining")

    def __init__(self, lot: str, material: str, mass_mg: int, assay: dict[str, int], origin: str,
                 arrived: int) -> None:
        self.lot = lot
        self.material = material
        self.remaining = mass_mg
        self.assay = assay
        self.origin = origin
        self.arrived = arrived  # [min] since the start of the chain


class Stock:
    """FIFO stock of one material group at one site, with running totals of mass [mg] and main element [mg·ppb]."""

    __slots__ = ("element", "items", "mass", "total")

    def __init__(self, element: str | None) -> None:
        self.element = element
        self.items: deque[Item] = deque()
        self.mass = 0
        self.total = 0

    def add(self, item: Item) -> None:
        """Put a lot that has become available at the back of the queue."""
        self.items.append(item)
        self.mass += item.remaining
        if self.element is not None:
            self.total += item.remaining * item.assay.get(self.element, 0)

    def take_element(self, need: int, out: list[tuple[Item, int]]) -> None:
        """Take lots, oldest first, until ``need`` [mg·ppb] of the main element is covered (caller checks total)."""
        e = self.element
        assert e is not None
        items = self.items
        while need > 0 and items:
            it = items[0]
            a = it.assay[e]
            avail = it.remaining * a
            if avail <= need:
                m = it.remaining
                items.popleft()
            else:
                m = -(-need // a)  # ceiling: never short of the need
            it.remaining -= m
            self.mass -= m
            self.total -= m * a
            need -= m * a
            out.append((it, m))

    def take_mass(self, need: int, out: list[tuple[Item, int]]) -> None:
        """Take ``need`` [mg] (or all that is there), oldest lots first."""
        items = self.items
        while need > 0 and items:
            it = items[0]
            m = min(it.remaining, need)
            if m == it.remaining:
                items.popleft()
            it.remaining -= m
            self.mass -= m
            if self.element is not None:
                self.total -= m * it.assay.get(self.element, 0)
            need -= m
            out.append((it, m))


def elements_in(taken: list[tuple[Item, int]]) -> dict[str, int]:
    """Element amounts consumed [mg·ppb], exact."""
    tot: dict[str, int] = {}
    for it, m in taken:
        for e, a in it.assay.items():
            tot[e] = tot.get(e, 0) + m * a
    return tot


def losses(inp: dict[str, int], outs: list[Lot]) -> dict[str, int]:
    """Declared element losses [mg]: input minus recorded output, rounded to 1 mg; rounding residue (< 1 g) left out."""
    out: dict[str, int] = {}
    half = PPB // 2
    if len(outs) == 1:
        m, a = outs[0].mass_mg, outs[0].assay
        for e, i in inp.items():
            if e in _TRACKED:
                loss = (i - m * a.get(e, 0) + half) // PPB
                if loss >= _MIN_LOSS_MG:
                    out[e] = loss
        return out
    for e, i in inp.items():
        if e in _TRACKED:
            o = 0
            for lot in outs:
                o += lot.mass_mg * lot.assay.get(e, 0)
            loss = (i - o + half) // PPB
            if loss >= _MIN_LOSS_MG:
                out[e] = loss
    return out


def majority_origin(taken: list[tuple[Item, int]]) -> str:
    """Origin class carrying the most consumed mass (ties: the first in input order)."""
    by: dict[str, int] = {}
    for it, m in taken:
        by[it.origin] = by.get(it.origin, 0) + m
    return max(by, key=lambda o: by[o])


class Factory:
    """Makes lots with GS1 Digital Link ids, integer assays and cached times."""

    __slots__ = ("_labs", "_next", "_prefix", "_t0", "_times")

    def __init__(self, t0: datetime) -> None:
        self._t0 = t0
        self._next: dict[str, int] = dict.fromkeys(MATERIALS, 0)
        self._prefix = {code: lot_uri(spec.gtin, "L") for code, spec in MATERIALS.items()}
        self._times: dict[int, datetime] = {}
        self._labs = {site.id: f"{site.id} QC laboratory" for site in SITES}

    def time(self, minute: int) -> datetime:
        """The datetime ``minute`` minutes after the start."""
        t = self._times.get(minute)
        if t is None:
            t = self._times[minute] = self._t0 + timedelta(minutes=minute)
        return t

    def forget_times(self) -> None:
        """Drop cached times (call now and then; times of past days are rarely asked again)."""
        if len(self._times) > 50_000:
            self._times.clear()

    @property
    def made(self) -> dict[str, int]:
        """Lots made so far, by material code."""
        return self._next

    def lot_count(self) -> int:
        """Lots made so far."""
        return sum(self._next.values())

    def lot(self, code: str, site: str, minute: int, mass_mg: int, elems: dict[str, int], origin: str,
            quality: dict[str, str] | None = None, activity: Activity | None = None,
            method: str | None = "ICP-OES") -> Lot:
        """A lot of ``mass_mg`` [mg] carrying ``elems`` [mg·ppb]; assay = elems / mass rounded to 1 ppb."""
        half = mass_mg // 2
        assay = {e: (v + half) // mass_mg for e, v in elems.items() if v > 0}
        if len(assay) > 1 and sum(assay.values()) > PPB:
            raise AssertionError(f"{code}: assay sums above 1 ({assay})")
        n = self._next[code] + 1
        self._next[code] = n
        t = self._times.get(minute)
        if t is None:
            t = self._times[minute] = self._t0 + timedelta(minutes=minute)
        return Lot(f"{self._prefix[code]}{n:08d}", code, site, t, mass_mg, assay, origin,
                   quality or {}, method, self._labs[site] if method else None, activity)


def consumptions(taken: list[tuple[Item, int]]) -> tuple[Consumption, ...]:
    """Consumptions of a run, one per lot (a stock hands out each lot at most once per run)."""
    return tuple([Consumption(it.lot, m) for it, m in taken])

