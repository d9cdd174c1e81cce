"""Day-stepped simulation of the integrated chain, emitting ledger events in time order.

Why: a generated chain must be valid event by event (inputs exist and were made before the run, no lot is used
beyond its mass, every run balances per element) and must scale to millions of lots without holding them. The
simulation keeps only open stocks: FIFO queues of lots that have arrived at a site and are not used up. Demand
flows upstream as in a base-stock policy: the CAM lines run at the planned rate (the driver), and every other
producer runs when the stock position it feeds (on hand + in transit, per tracked element) is below a target of a
few days to weeks of demand, within its capacity. Recycling is flow-driven: scrap and end-of-life modules are
shredded when a batch is full, black mass is leached when a batch is full, and recovered salts are blended into
later pCAM and NCM622 runs up to a fixed share.

Events are bucketed by day; a day's bucket is sorted by time (a stable sort, so a producer stays ahead of its
consumer at equal minutes) and emitted once the simulation has moved past that day, because nothing generated later
can be earlier. A run's event time is its end (when its outputs exist), a lot commissioning's is the lot's production
time, a shipment's is its departure. Lots become usable at a site from the start of the day after they arrive. The
simulation (this file: state and upstream stages; :mod:`lichain.demo.loop`: downstream stages and the day loop)
stops at the requested lot count.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from lichain.core.model import Activity, Event, EventKind, Lot, Origin, Run, Shipment, SupplierPcf
from lichain.core.recipe import NAMED_COMPOSITIONS
from lichain.demo import activity as act
from lichain.demo.plan import CAM_CHEMS, LI_RECOVERY, P, Plan, wf
from lichain.demo.sites import MATERIALS, ROUTES, S
from lichain.demo.stock import (
    KG,
    PPB,
    Factory,
    Item,
    Stock,
    consumptions,
    elements_in,
    losses,
    majority_origin,
)

__all__ = ["DAY", "W_CAM", "W_PCAM", "DemoStats", "Sim"]

DAY = 1440  # [min]
_T = 1_000_000_000  # 1 t in mg
VIRGIN, PRE, POST = Origin.VIRGIN.value, Origin.PRE_CONSUMER.value, Origin.POST_CONSUMER.value
#: Supplier PCFs the demo's suppliers declare per lot [kg CO2e per kg of the lot]. Mn ore: 0.1 [A], an assumption of
#: the demo standing in for a supplier's declaration (no published Mn ore figure was retrieved, docs/demo.md).
SUPPLIER_PCF: dict[str, Decimal] = {"MN-ORE": Decimal("0.1")}

#: Days of demand a stock position is kept at (lead time + safety) [A].
_COVER = {"ore:Ni": 6, "mhp:Ni": 24, "coh:Co": 55, "sc6:Li": 40, "mnore:Mn": 50, "li:Li2CO3": 45,
          "salt:Ni": 8, "salt:Co": 9, "salt:Mn": 9, "li:LiOH·H2O": 10, "pcam:NCM811": 9, "pcam:NCM622": 9}  # fmt: skip
#: Tracked-element mass fractions of the pCAM and CAM formulas [kg kg⁻¹], by chemistry.
W_PCAM = {c: wf(NAMED_COMPOSITIONS[c].pcam_formula) for c in CAM_CHEMS}
W_CAM = {c: wf(NAMED_COMPOSITIONS[c].cam_formula) for c in (*CAM_CHEMS, "NCM523")}
_W_LIOH, _W_LI2CO3 = wf("LiOH·H2O")["Li"], wf("Li2CO3")["Li"]
_SALT = {"Ni": ("NISO4", wf("NiSO4·6H2O")["Ni"]), "Co": ("COSO4", wf("CoSO4·7H2O")["Co"]),
         "Mn": ("MNSO4", wf("MnSO4·H2O")["Mn"])}  # fmt: skip


@dataclass(slots=True)
class DemoStats:
    """What one full pass of the generator produced."""

    lots: int = 0
    events: int = 0
    days: int = 0
    first: datetime | None = None
    last: datetime | None = None
    lots_by_material: dict[str, int] = field(default_factory=dict)
    runs_by_kind: dict[str, int] = field(default_factory=dict)
    shipments_by_mode: dict[str, int] = field(default_factory=dict)
    recovered_inputs_to_pcam: int = 0  # consumptions of recovered-salt lots by co-precipitation runs

    @property
    def lots_by_stage(self) -> dict[str, int]:
        """Lot counts by material stage."""
        out: dict[str, int] = {}
        for code, n in self.lots_by_material.items():
            stage = MATERIALS[code].stage
            out[stage] = out.get(stage, 0) + n
        return out


class Sim:
    """State and upstream stages of one simulation (downstream stages in :class:`lichain.demo.loop.Loop`)."""

    def __init__(self, plan: Plan, seed: int, start: datetime, stats: DemoStats) -> None:
        self.plan, self.k, self.stats = plan, plan.k, stats
        self.rng = random.Random(seed)
        self.f = Factory(start)
        self.nrun = self.nship = 0
        self.kinds: Counter[str] = Counter()
        self.modes: Counter[str] = Counter()
        self.buckets: dict[int, list[tuple[int, Event]]] = {}  # day → (minute, event), in generation order
        self.arrivals: dict[int, list[tuple[str, Item]]] = {}  # day → lots that are available from its start
        main = {"ore": "Ni", "mhp": "Ni", "coh": "Co", "sc6": "Li", "mnore": "Mn", "li:LiOH·H2O": "Li",
                "li:Li2CO3": "Li", "rec:Li": "Li", "pcam:NCM811": "Ni", "pcam:NCM622": "Ni", "waste": None,
                "bm": None, **{f"{g}:{e}": e for g in ("salt", "rec") for e in ("Ni", "Co", "Mn")},
                **{f"cells:{s}": "Ni" for s in (S.KR, S.PL, S.HU)}}  # fmt: skip
        self.stocks = {key: Stock(e) for key, e in main.items()}
        self.pos = dict.fromkeys(_COVER, 0)
        w_li2co3 = _W_LI2CO3 * P.SALT_PURITY
        per_run = {  # element per producer run or lot [kg], to turn demand into capacity
            "ore:Ni": P.ORE_LOT_T * 1000 * P.ORE_GRADE["Ni"],
            "mhp:Ni": P.HPAL_ORE_T * 1000 * P.ORE_GRADE["Ni"] * P.HPAL_YIELD["Ni"],
            "coh:Co": P.COH_LOT_T * 1000 * P.COH_GRADE["Co"],
            "sc6:Li": P.SC6_LOT_T * 1000 * P.SC6_LI2O * wf("Li2O")["Li"],
            "li:Li2CO3": P.LI2CO3_LOT_T * 1000 * w_li2co3,
            "mnore:Mn": P.MNORE_LOT_T * 1000 * P.MNORE_GRADE["Mn"],
            "salt:Ni": P.MHP_REFINE_NI_T * 1000 * P.MHP_REFINE_YIELD["Ni"],
            "salt:Co": P.COH_REFINE_CO_T * 1000 * P.COH_REFINE_YIELD["Co"],
            "salt:Mn": P.MN_REFINE_MN_T * 1000 * P.MN_REFINE_YIELD["Mn"],
            "li:LiOH·H2O": P.LI_REFINE_LI_T * 1000 * LI_RECOVERY,
            **{f"pcam:{c}": P.PCAM_LOT_T * P.PCAM_LOTS_PER_RUN * 1000 * W_PCAM[c]["Ni"] * P.PCAM_PURITY
               for c in W_PCAM},
        }
        cam_t = P.CAM_LOT_T * P.CAM_LOTS_PER_RUN * 1000 * 1.02 / P.CAM_YIELD
        need = {  # element one consumer run takes from the stock [kg]
            "ore:Ni": P.HPAL_ORE_T * 1000 * P.ORE_GRADE["Ni"], "mhp:Ni": P.MHP_REFINE_NI_T * 1000,
            "coh:Co": P.COH_REFINE_CO_T * 1000, "sc6:Li": P.LI_REFINE_LI_T * 1000,
            "mnore:Mn": P.MN_REFINE_MN_T * 1000, "li:Li2CO3": cam_t * W_CAM["NCM622"]["Li"] * float(P.LI_ME),
            **{f"salt:{e}": P.PCAM_LOT_T * P.PCAM_LOTS_PER_RUN * 1030 * max(w[e] for w in W_PCAM.values())
               for e in ("Ni", "Co", "Mn")},
            "li:LiOH·H2O": cam_t * W_CAM["NCM811"]["Li"] * float(P.LI_ME),
            **{f"pcam:{c}": cam_t * W_CAM[c]["Ni"] for c in W_PCAM},
        }  # fmt: skip
        # target position: days of demand, but never below one consumer run plus one producer output, so that
        # a producer whose lots are large against a small demand cannot starve its consumer
        self.target = {key: int(max(plan.demand[key] * self.k * days, need[key] + per_run[key]) * KG)
                       for key, days in _COVER.items()}
        self.rate = {key: 1.5 * plan.demand[key] * self.k / kg for key, kg in per_run.items()}
        for c in ("NCM811", "NCM622"):
            self.rate[f"cam:{c}"] = P.CAM_T_PER_DAY[c] / (P.CAM_LOT_T * P.CAM_LOTS_PER_RUN) * self.k
        self.rate["eol"] = P.EOL_T_PER_DAY / P.EOL_LOT_T * self.k
        self.credit = dict.fromkeys(self.rate, 1.0)

    # --- plumbing ------------------------------------------------------------------------------------------------
    def emit(self, minute: int, ev: Event) -> None:
        """Queue an event for emission in time order (ties keep generation order: the sort is stable)."""
        b = self.buckets.get(minute // DAY)
        if b is None:
            b = self.buckets[minute // DAY] = []
        b.append((minute, ev))

    def within(self, lo: int, hi: int) -> int:
        """A pseudo-random integer in [lo, hi) (cheaper than ``randrange``)."""
        return lo + int(self.rng.random() * (hi - lo))

    def push(self, minute: int, key: str, lot: Lot) -> None:
        """Make a lot that arrives at ``minute`` available in stock ``key`` from the next day's start on."""
        day = minute // DAY + 1
        b = self.arrivals.get(day)
        if b is None:
            b = self.arrivals[day] = []
        b.append((key, Item(lot.id, lot.material, lot.mass_mg, lot.assay, lot.origin, day * DAY)))

    def release(self, now: int) -> None:
        """Move everything that has arrived by the start of the day ``now`` into its stock."""
        stocks = self.stocks
        for key, item in self.arrivals.pop(now // DAY, ()):
            stocks[key].add(item)

    def ship(self, lot: Lot, frm: str, to: str, at: int, key: str) -> None:
        """Record a shipment of a whole lot at ``at`` and make it available at the destination on arrival."""
        r = ROUTES[(frm, to)]
        self.nship += 1
        t = self.f.time(at)
        sh = Shipment(f"SHP-{self.nship:09d}", lot.id, lot.mass_mg, frm, to, t, r.mode, r.distance_km,
                      r.to_organisation)
        b = self.buckets.get(at // DAY)
        if b is None:
            b = self.buckets[at // DAY] = []
        b.append((at, Event("", EventKind.SHIPMENT, t, sh)))
        self.modes[r.mode] += 1
        day = (at + int(r.days * DAY * (0.95 + 0.15 * self.rng.random()))) // DAY + 1  # as in push()
        a = self.arrivals.get(day)
        if a is None:
            a = self.arrivals[day] = []
        a.append((key, Item(lot.id, lot.material, lot.mass_mg, lot.assay, lot.origin, day * DAY)))

    def run(self, site: str, kind: str, start: int, end: int, taken: list[tuple[Item, int]],
            inp: dict[str, int], outs: list[Lot], activity: Activity) -> None:
        """Record a run whose outputs were computed from ``inp`` [mg·ppb]; losses close the balance."""
        self.nrun += 1
        time = self.f.time
        t_end = time(end)
        r = Run(f"{site}/R{self.nrun:09d}", site, kind, time(start), t_end, consumptions(taken), tuple(outs),
                losses(inp, outs), activity)
        b = self.buckets.get(end // DAY)
        if b is None:
            b = self.buckets[end // DAY] = []
        b.append((end, Event("", EventKind.RUN, t_end, r)))
        self.kinds[kind] += 1

    def runs_left(self, key: str) -> bool:
        """Whether the producer ``key`` has capacity left today (call :meth:`accrue` once a day first)."""
        return self.credit[key] >= 1.0

    def accrue(self, key: str) -> None:
        """Add a day's capacity to a producer, keeping at most two days' worth."""
        r = self.rate[key]
        self.credit[key] = min(self.credit[key] + r, max(2.0, 2.0 * r))

    def jitter(self, sd: float) -> float:
        """A multiplicative lot-to-lot factor ~ N(1, sd), clipped to ±3 sd."""
        return 1.0 + max(-3 * sd, min(3 * sd, self.rng.gauss(0.0, sd)))

    def split(self, code: str, site: str, minute: int, element: str, amount: int, fraction: float,
              origin: str) -> list[Lot]:
        """Lots of a salt holding ``amount`` [mg·ppb] of ``element`` at ``fraction`` [kg kg⁻¹], ≤ SALT_LOT_T each."""
        mass = int(amount / fraction / PPB)
        n = max(1, round(mass / (P.SALT_LOT_T * _T)))
        lots, left_m, left_e = [], mass, amount
        for i in range(n, 0, -1):
            m = left_m // i
            e = left_e * m // left_m
            lots.append(self.f.lot(code, site, minute, m, {element: e}, origin))
            left_m, left_e = left_m - m, left_e - e
        return lots

    def lots(self, code: str, site: str, minute: int, mass: int, elems: dict[str, int], n: int, origin: str,
             quality: list[dict[str, str]] | None = None) -> list[Lot]:
        """``n`` lots of equal assay sharing ``mass`` [mg] and ``elems`` [mg·ppb] of one run's output."""
        out: list[Lot] = []
        left_m, left = mass, dict(elems)
        for i in range(n, 0, -1):
            m = left_m // i
            part = {e: v * m // left_m for e, v in left.items()}
            out.append(self.f.lot(code, site, minute, m, part, origin, quality[i - 1] if quality else None))
            left_m -= m
            for e, v in part.items():
                left[e] -= v
        return out

    # --- upstream stages ---------------------------------------------------------------------------------------
    def commission(self, now: int, key: str, code: str, site: str, lot_t: float, grade: Mapping[str, float],
                   sd: float, to: str, stock: str, activity: Activity | None = None) -> None:
        """Source lots (mine output, purchased intermediates) while the stock position is below target."""
        self.accrue(key)
        rng, elem = self.rng, self.stocks[stock].element
        assert elem is not None
        while self.runs_left(key) and self.pos[key] < self.target[key]:
            self.credit[key] -= 1.0
            t = now + self.within(0, DAY - 120)
            mass = int(lot_t * _T * (0.9 + 0.2 * rng.random()))
            elems = {e: int(mass * g * self.jitter(sd) * PPB) for e, g in grade.items()}
            lot = self.f.lot(code, site, t, mass, elems, VIRGIN,
                             activity=act.mining(mass / _T) if code == "NI-LATERITE-ORE"
                             else activity or act.purchased(code, mass / 1e6),
                             method="XRF" if MATERIALS[code].stage in ("ore", "concentrate") else "ICP-OES")
            self.emit(t, Event("", EventKind.LOT, lot.produced_at, lot))
            if code in SUPPLIER_PCF:  # the supplier declares its product's footprint for each lot [A]
                pcf = SupplierPcf(lot.id, SUPPLIER_PCF[code], MATERIALS[code].owner,
                                  f"DEMO-PCF-{code}-{lot.id.rsplit('/', 1)[-1]}", data_quality_rating=Decimal("3"))
                self.emit(t, Event("", EventKind.SUPPLIER_PCF, lot.produced_at, pcf))
            self.pos[key] += lot.mass_mg * lot.assay[elem]
            self.ship(lot, site, to, t + self.within(60, 3 * DAY), stock)

    def sources(self, now: int) -> None:
        """Mine output in Indonesia and purchases from the DRC, Australia, Chile and South Africa."""
        self.commission(now, "ore:Ni", "NI-LATERITE-ORE", S.MINE, P.ORE_LOT_T, P.ORE_GRADE, P.ORE_GRADE_SD,
                        S.HPAL, "ore")
        self.commission(now, "coh:Co", "CO-HYDROXIDE", S.DRC, P.COH_LOT_T, P.COH_GRADE, 0.03, S.REFINERY, "coh")
        sc6 = {"Li": P.SC6_LI2O * wf("Li2O")["Li"]}
        self.commission(now, "sc6:Li", "SPODUMENE-SC6", S.AU, P.SC6_LOT_T, sc6, 0.015, S.LIREF, "sc6")
        li2co3 = {"Li": _W_LI2CO3 * P.SALT_PURITY}
        self.commission(now, "li:Li2CO3", "LI2CO3", S.CL, P.LI2CO3_LOT_T, li2co3, 0.001, S.CAM, "li:Li2CO3")
        self.commission(now, "mnore:Mn", "MN-ORE", S.ZA, P.MNORE_LOT_T, P.MNORE_GRADE, 0.03, S.REFINERY, "mnore")

    def hpal(self, now: int) -> None:
        """HPAL leaching of laterite into MHP, shipped to the refinery."""
        key, st = "mhp:Ni", self.stocks["ore"]
        need = int(P.HPAL_ORE_T * _T * P.ORE_GRADE["Ni"] * PPB)
        self.accrue(key)
        while self.runs_left(key) and self.pos[key] < self.target[key] and st.total >= need:
            self.credit[key] -= 1.0
            taken: list[tuple[Item, int]] = []
            st.take_element(need, taken)
            inp = elements_in(taken)
            out = {e: int(v * P.HPAL_YIELD[e]) for e, v in inp.items() if e in P.HPAL_YIELD}
            start = now + self.within(0, 600)
            end = start + DAY
            mhp = self.f.lot("MHP", S.HPAL, end, int(out["Ni"] / (P.MHP_NI * self.jitter(0.01)) / PPB), out,
                             majority_origin(taken))
            ore_t = sum(m for _, m in taken) / _T
            self.run(S.HPAL, "leaching", start, end, taken, inp, [mhp], act.hpal(ore_t, out["Ni"] / KG))
            self.pos["ore:Ni"] -= inp["Ni"]
            self.pos[key] += out["Ni"]
            self.ship(mhp, S.HPAL, S.REFINERY, end + self.within(DAY, 4 * DAY), "mhp")

    def refine(self, now: int, key: str, stock: str, need_t: float, yields: Mapping[str, float], site: str,
               naoh_per_kg_co: float = 0.0) -> None:
        """Leach an intermediate into battery-grade sulfate salts (or LiOH·H2O) shipped on to the next plant.

        ``key`` is the stock position the run feeds, ``stock`` the intermediate it consumes; ``need_t`` [t] of the
        intermediate's main element is leached per run.
        """
        st, rng = self.stocks[stock], self.rng
        elem = st.element
        assert elem is not None
        src_key = f"{stock}:{elem}"
        need = int(need_t * _T * PPB)
        self.accrue(key)
        while self.runs_left(key) and self.pos[key] < self.target[key] and st.total >= need:
            self.credit[key] -= 1.0
            taken: list[tuple[Item, int]] = []
            st.take_element(need, taken)
            inp = elements_in(taken)
            start = now + self.within(0, 600)
            end = start + 16 * 60
            outs: list[Lot] = []
            for e, y in yields.items():
                amount = int(inp.get(e, 0) * y)
                if amount <= 0:
                    continue
                if key == "li:LiOH·H2O":
                    outs += self.split("LIOH", site, end, "Li", amount, _W_LIOH * P.SALT_PURITY,
                                       majority_origin(taken))
                else:
                    code, w = _SALT[e]
                    purity = P.SALT_PURITY + 0.001 * (2 * rng.random() - 1)
                    outs += self.split(code, site, end, e, amount, w * purity, majority_origin(taken))
            salt_kg = sum(o.mass_mg for o in outs) / 1e6
            if key == "li:LiOH·H2O":
                activity = act.lioh(salt_kg)
            else:
                mol, _ = act.metal_mol({e: v / KG for e, v in inp.items()})
                co_kg = sum(o.mass_mg for o in outs if o.material == "COSO4") / 1e6
                activity = act.refining(site, salt_kg, mol, naoh_per_kg_co * co_kg,
                                        "coal" if stock == "mnore" else "natural_gas")
            self.run(site, "refining", start, end, taken, inp, outs, activity)
            self.pos[src_key] -= inp[elem]
            for lot in outs:
                e = next(iter(lot.assay))
                dest_key = "li:LiOH·H2O" if lot.material == "LIOH" else f"salt:{e}"
                self.pos[dest_key] += lot.mass_mg * lot.assay[e]
                to = S.CAM if lot.material == "LIOH" else S.PCAM
                self.ship(lot, site, to, end + self.within(120, DAY), dest_key)

    def refineries(self, now: int) -> None:
        """MHP → NiSO4 + CoSO4; Co(OH)2 → CoSO4; Mn ore → MnSO4; spodumene → LiOH·H2O."""
        self.refine(now, "salt:Ni", "mhp", P.MHP_REFINE_NI_T, P.MHP_REFINE_YIELD, S.REFINERY)
        # NaOH 3.3 kg per kg CoSO4·7H2O [S: Istrate et al. 2024 LCI, Cobalt sheet, via emission-factors.csv]
        self.refine(now, "salt:Co", "coh", P.COH_REFINE_CO_T, P.COH_REFINE_YIELD, S.REFINERY, 3.3)
        self.refine(now, "salt:Mn", "mnore", P.MN_REFINE_MN_T, P.MN_REFINE_YIELD, S.REFINERY)
        self.refine(now, "li:LiOH·H2O", "sc6", P.LI_REFINE_LI_T, {"Li": LI_RECOVERY}, S.LIREF)
