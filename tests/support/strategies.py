"""Hypothesis strategies: random valid chains of lots and runs that conserve element mass by construction."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from lichain.core.model import Consumption, Event, Lot, Material, Run, Shipment, Site
from lichain.core.validate import LocatedEvent
from tests.support.chain_text import event

ELEMENTS = ("Ni", "Co", "Mn", "Li")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@st.composite
def valid_chain(draw: st.DrawFn, prefix: str = "x", max_runs: int = 12) -> list[LocatedEvent]:
    """Sites, materials, 1–5 source lots, then runs that each consume parts of earlier lots.

    Each run's outputs split the input element mass exactly (integer mg × ppb), minus a declared loss, so
    every run balances; total consumption of a lot never exceeds its mass, and a shipment moves
    only what is left of its lot.
    """
    evs: list[Event] = [event(Site(f"{prefix}S", "site", "refinery", "CN", "Org"), T0),
                        event(Material(f"{prefix}M", "mix", "intermediate"), T0)]
    avail: dict[str, int] = {}
    assay: dict[str, dict[str, int]] = {}
    t = T0
    for i in range(draw(st.integers(1, 5))):
        lot_id = f"{prefix}L{i}"
        mass = draw(st.integers(1_000_000, 10_000_000_000))  # 1 kg .. 10 t, in mg
        fr = {e: draw(st.integers(0, 200_000_000)) for e in draw(st.sets(st.sampled_from(ELEMENTS), min_size=1))}
        evs.append(event(Lot(lot_id, f"{prefix}M", f"{prefix}S", t, mass, fr), t))
        avail[lot_id], assay[lot_id] = mass, fr
    for r in range(draw(st.integers(0, max_runs))):
        t = t + timedelta(hours=draw(st.integers(1, 48)))
        candidates = sorted(k for k, v in avail.items() if v >= 2_000)
        if not candidates:
            break
        picked = draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=3, unique=True))
        inputs = []
        for lot in picked:
            take = draw(st.integers(1_000, avail[lot]))
            avail[lot] -= take
            inputs.append(Consumption(lot, take))
        mass_in = sum(c.mass_mg for c in inputs)
        # element mass in mg·ppb units, exact
        el_in = {e: sum(c.mass_mg * assay[c.lot].get(e, 0) for c in inputs) for e in ELEMENTS}
        n_out = draw(st.integers(1, 3))
        masses = _split(mass_in, n_out, draw)
        outs: list[Lot] = []
        losses: dict[str, int] = {}
        # all outputs share the blend's composition; the declared loss makes the balance exact to rounding
        for k, m in enumerate(masses):
            fr = {e: v // mass_in for e, v in el_in.items() if v // mass_in > 0}
            outs.append(Lot(f"{prefix}R{r}O{k}", f"{prefix}M", f"{prefix}S", t, m, fr))
        for e in ELEMENTS:
            out_e = sum(o.mass_mg * o.assay.get(e, 0) for o in outs)
            loss_mg = (el_in[e] - out_e) // 1_000_000_000
            if loss_mg > 0:
                losses[e] = loss_mg
        run = Run(f"{prefix}R{r}", f"{prefix}S", "blend", t, t, tuple(inputs), tuple(outs), losses)
        evs.append(event(run, t))
        for o in outs:
            avail[o.id], assay[o.id] = o.mass_mg, o.assay
    if draw(st.booleans()) and avail and avail[sorted(avail)[0]] > 0:
        lot = sorted(avail)[0]  # custody: only what is left of it at the site can be shipped
        evs.append(event(Shipment(f"{prefix}SH", lot, draw(st.integers(1, avail[lot])), f"{prefix}S", f"{prefix}S",
                                  t + timedelta(days=1), "road", draw(st.decimals(0, 20000, places=1))),
                         t + timedelta(days=1)))
    return [LocatedEvent(f"gen:{i}", e) for i, e in enumerate(evs)]


def _lots(e: Event) -> list[Lot]:
    b = e.body
    if isinstance(b, Lot):
        return [b]
    if isinstance(b, Run):
        return list(b.outputs)
    return []


def _split(total: int, n: int, draw: st.DrawFn) -> list[int]:
    if n == 1 or total < n * 1000:
        return [total]
    cuts = sorted(draw(st.lists(st.integers(1, total - 1), min_size=n - 1, max_size=n - 1, unique=True)))
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    return parts if all(p > 0 for p in parts) else [total]


def with_body(le: LocatedEvent, **changes: object) -> LocatedEvent:
    """The same located event with its body changed (and a fresh content id)."""
    body = replace(le.event.body, **changes)  # type: ignore[arg-type]
    return LocatedEvent(le.location, event(body, le.event.time))
