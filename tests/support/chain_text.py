"""Ledger fixtures as short readable text, one event per line.

    site M1 mine ID Nickel-Co
    material ORE ore
    material NSO refined_salt NiSO4·6H2O
    lot L1 ORE @M1 2026-01-01 1000kg Ni=0.012 Co=0.001 origin=virgin
    run R1 refining @R1 2026-01-02..2026-01-03 in L1:500kg out L2:NSO:26.8kg:Ni=0.2233 loss Ni=0.0156kg
    ship S1 L2 12kg R1->C1 2026-01-04 sea_container 9000km Customer

Times are UTC dates or ISO times; masses take kg/t/g suffixes; assays are mass fractions.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from lichain.core.codec import canonical_payload, content_event_id, kind_of
from lichain.core.model import Consumption, Event, EventBody, Lot, Material, Run, Shipment, Site
from lichain.core.quantities import fraction_to_ppb, kg_to_mg, parse_mass_kg
from lichain.core.validate import LocatedEvent

__all__ = ["parse_chain"]

_MASS = re.compile(r"^[0-9.]+(kg|t|g)$")


def _time(text: str) -> datetime:
    t = datetime.fromisoformat(text)
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _mass(text: str) -> int:
    for suffix in ("kg", "t", "g"):
        if text.endswith(suffix):
            kg = parse_mass_kg(text[: -len(suffix)], suffix)
            assert not isinstance(kg, str), kg
            return kg_to_mg(kg)
    raise ValueError(f"mass needs a unit: {text}")


def _assay(parts: list[str]) -> dict[str, int]:
    return {p.split("=")[0]: fraction_to_ppb(Decimal(p.split("=")[1])) for p in parts if "=" in p
            and not p.startswith("origin=")}


def _origin(parts: list[str]) -> str:
    return next((p.split("=")[1] for p in parts if p.startswith("origin=")), "virgin")


def event(body: EventBody, time: datetime) -> Event:
    """An event with its content id."""
    k = kind_of(body)
    return Event(content_event_id(k, canonical_payload(body)), k, time, body)


def parse_chain(text: str, doc: str = "fixture") -> list[LocatedEvent]:
    """Parse the fixture text into located events (location = doc:line)."""
    out: list[LocatedEvent] = []
    epoch = datetime(2026, 1, 1, tzinfo=UTC)
    for n, raw in enumerate(text.strip().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        w = line.split()
        loc = f"{doc}:{n}"
        body: EventBody
        if w[0] == "site":
            body, t = Site(w[1], w[1], w[2], w[3], w[4] if len(w) > 4 else "Org"), epoch
        elif w[0] == "material":
            body, t = Material(w[1], w[1], w[2], w[3] if len(w) > 3 else None), epoch
        elif w[0] == "lot":
            t = _time(w[4])
            body = Lot(w[1], w[2], w[3].lstrip("@"), t, _mass(w[5]), _assay(w[6:]), _origin(w[6:]))
        elif w[0] == "run":
            start, end = (_time(x) for x in w[4].split(".."))
            i_in, i_out = w.index("in"), w.index("out")
            i_loss = w.index("loss") if "loss" in w else len(w)
            inputs = tuple(Consumption(p.rsplit(":", 1)[0], _mass(p.rsplit(":", 1)[1])) for p in w[i_in + 1 : i_out])
            outputs = []
            for p in w[i_out + 1 : i_loss]:
                f = p.split(":")
                k = next(i for i, x in enumerate(f) if _MASS.match(x))  # ids may contain ':' (URIs)
                lot_id, material = ":".join(f[: k - 1]), f[k - 1]
                outputs.append(Lot(lot_id, material, w[3].lstrip("@"), end, _mass(f[k]), _assay(f[k + 1 :]),
                                   _origin(f[k + 1 :])))
            losses = {p.split("=")[0]: _mass(p.split("=")[1]) for p in w[i_loss + 1 :]}
            body, t = Run(w[1], w[3].lstrip("@"), w[2], start, end, inputs, tuple(outputs), losses), end
        elif w[0] == "ship":
            a, b = w[4].split("->")
            t = _time(w[5])
            body = Shipment(w[1], w[2], _mass(w[3]), a, b, t, w[6], Decimal(w[7].rstrip("km")),
                            w[8] if len(w) > 8 else None)
        else:
            raise ValueError(f"{loc}: unknown fixture line {raw!r}")
        out.append(LocatedEvent(loc, event(body, t)))
    return out
