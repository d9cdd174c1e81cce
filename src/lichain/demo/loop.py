"""Downstream half of the demo chain and the day loop: pCAM, CAM, cells, scrap, recycling back into pCAM.

Why a module of its own: this is where the loop closes. Recovered salts and lithium carbonate are blended into later
co-precipitation and NCM622 calcination runs (up to :attr:`P.RECOVERED_MAX_SHARE` / :attr:`P.RECOVERED_LI_MAX_SHARE`
of each element per run), so recycled content spreads over many lots across time and the lot graph stays acyclic.
Lot origin: production scrap is ``pre_consumer``, end-of-life modules ``post_consumer``; black mass, recovered salts
and every other produced lot take the origin class carrying most of the consumed input mass. That class is a label
for lots; the physical recycled share is derived per element by the analysis engine from the lot graph.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from operator import itemgetter

from lichain.core.model import Event, EventKind, Lot
from lichain.demo import activity as act
from lichain.demo import cells as cells_demo
from lichain.demo.chain import DAY, POST, PRE, W_CAM, W_PCAM, Sim
from lichain.demo.plan import CAM_CHEMS, RECIPES, P, wf
from lichain.demo.sites import CUSTOMERS, S
from lichain.demo.stock import KG, PPB, Item, elements_in, majority_origin

__all__ = ["Loop"]

_T = 1_000_000_000  # 1 t in mg
_A = {"Ni": 58.6934, "Co": 58.933194, "Mn": 54.938043, "Li": 6.94}  # CIAAW 2021 [g mol⁻¹]
_METALS = ("Ni", "Co", "Mn")
_REC = {"Ni": ("NISO4-REC", wf("NiSO4·6H2O")["Ni"]), "Co": ("COSO4-REC", wf("CoSO4·7H2O")["Co"]),
        "Mn": ("MNSO4-REC", wf("MnSO4·H2O")["Mn"]), "Li": ("LI2CO3-REC", wf("Li2CO3")["Li"])}  # fmt: skip
# quality readings of pCAM lots within the commercial ranges of reference §5.3 (D50 [µm], Na and S [ppm], tap density
# [g cm⁻³]) and the pH set point 11.00 ± 0.05 [S: reference §5.3]
_D50 = [f"{x / 10:.1f}" for x in range(105, 116)]
_NA = [str(x) for x in range(100, 301, 10)]
_S = [str(x) for x in range(1500, 2501, 50)]
_TAP = [f"{x / 100:.2f}" for x in range(190, 211)]
_PH = [f"{11 + x / 100:.2f}" for x in range(-4, 5)]
_FIRST = itemgetter(0)
_LI_SRC = {chem: ("li:LiOH·H2O" if src == "LiOH·H2O" else "li:Li2CO3") for chem, (_, _, src) in CAM_CHEMS.items()}


class Loop(Sim):
    """The whole simulation: upstream stages from :class:`Sim`, downstream stages and the day loop here."""

    def events(self) -> Iterator[Event]:
        """All events of the chain in (time, generation) order; stops at the planned lot count."""
        for day_events in self.days():
            yield from day_events

    def days(self) -> Iterator[list[Event]]:
        """The events of each finished day, in order.

        Garbage collection: the simulation makes no reference cycles, yet the cyclic collector's full passes over
        the many live event objects (a caller's batch of tens of thousands) cost ~40 % of the run time. So the
        collector is paused while a day is simulated, and at each yield the live objects are moved to the
        permanent generation (``gc.freeze``) so that later passes skip them; refcounting still frees them. Both
        are undone when the generator ends or is closed. If the process already uses ``gc.freeze`` (pre-fork
        servers), only the pause is applied.
        """
        stats, buckets, lots = self.stats, self.buckets, self.plan.lots
        was_enabled, freeze = gc.isenabled(), gc.get_freeze_count() == 0
        day = 0
        try:
            for day in range(self.plan.max_days):
                done = buckets.pop(day - 1, None)
                if done:
                    done.sort(key=_FIRST)
                    if freeze:
                        gc.freeze()
                    if was_enabled:
                        gc.enable()
                    yield [ev for _, ev in done]
                gc.disable()
                now = day * DAY
                self.release(now)
                self.sources(now)
                self.hpal(now)
                self.refineries(now)
                self.pcam(now)
                self.cam(now)
                self.cells(now)
                self.eol(now)
                self.shred(now)
                self.hydromet(now)
                self.f.forget_times()
                if self.f.lot_count() >= lots:
                    break
        finally:
            if freeze:
                gc.unfreeze()
            if was_enabled:
                gc.enable()
        stats.days = day + 1
        stats.lots = self.f.lot_count()
        stats.lots_by_material = {code: n for code, n in self.f.made.items() if n}
        stats.runs_by_kind, stats.shipments_by_mode = dict(self.kinds), dict(self.modes)
        for d in sorted(buckets):
            rest = buckets.pop(d)
            rest.sort(key=_FIRST)
            yield [ev for _, ev in rest]

    # --- precursor and cathode ---------------------------------------------------------------------------------
    def _quality(self) -> dict[str, str]:
        r = int(self.rng.random() * 1_000_000)  # one draw for the four readings
        return {"D50_um": _D50[r % 11], "Na_ppm": _NA[r // 11 % 21], "S_ppm": _S[r // 231 % 21],
                "tap_density_g_cm3": _TAP[r // 4851 % 21]}

    def pcam(self, now: int) -> None:
        """Co-precipitation lines: salts (recovered first, up to the blend limit) → pCAM lots → cathode plant."""
        rng, stocks, pos, credit = self.rng, self.stocks, self.pos, self.credit
        n_lots, share = P.PCAM_LOTS_PER_RUN, P.RECOVERED_MAX_SHARE
        feeds = [(e, stocks[f"rec:{e}"], stocks[f"salt:{e}"], f"salt:{e}") for e in _METALS]
        for chem, (code, _, _) in CAM_CHEMS.items():
            key, target = f"pcam:{chem}", self.target[f"pcam:{chem}"]
            factor = [W_PCAM[chem][e] * P.PCAM_PURITY / P.PCAM_YIELD * PPB for e in _METALS]
            naoh = RECIPES[chem]["naoh_per_pcam"]
            self.accrue(key)
            while credit[key] >= 1.0 and pos[key] < target:
                mass = int(P.PCAM_LOT_T * n_lots * _T * (0.97 + 0.06 * rng.random()))
                plan = []
                for (e, rec_st, vir_st, pkey), f in zip(feeds, factor, strict=True):
                    need = int(mass * f)
                    rec = min(rec_st.total, int(need * share))
                    if vir_st.total < need - rec:
                        break
                    plan.append((e, rec_st, vir_st, pkey, rec, need - rec))
                if len(plan) < 3:
                    break
                credit[key] -= 1.0
                taken: list[tuple[Item, int]] = []
                for _e, rec_st, vir_st, pkey, rec, vir in plan:
                    if rec:
                        n = len(taken)
                        rec_st.take_element(rec, taken)
                        self.stats.recovered_inputs_to_pcam += len(taken) - n
                    vir_st.take_element(vir, taken)
                    pos[pkey] -= vir  # positions count virgin salts only
                inp = elements_in(taken)
                out = {e: int(v * P.PCAM_YIELD) for e, v in inp.items()}
                start = now + int(rng.random() * 900)
                end = start + 36 * 60
                lots = self.lots(code, S.PCAM, end, mass, out, n_lots, majority_origin(taken),
                                 [self._quality() for _ in range(n_lots)])
                ph = _PH[int(rng.random() * 9)]
                self.run(S.PCAM, "co_precipitation", start, end, taken, inp, lots, act.pcam(mass / 1e6, naoh, ph))
                pos[key] += out["Ni"]
                for lot in lots:
                    self.ship(lot, S.PCAM, S.CAM, end + 120 + int(rng.random() * 2 * DAY), key)

    def cam(self, now: int) -> None:
        """Calcination lines at the planned rate: pCAM + lithium salt → CAM lots → customers' cell plants."""
        rng, stocks, pos, credit = self.rng, self.stocks, self.pos, self.credit
        n_lots, li_me, a_li = P.CAM_LOTS_PER_RUN, float(P.LI_ME), _A["Li"]
        rec_li = stocks["rec:Li"]
        for chem, (_, code, _) in CAM_CHEMS.items():
            key, w, li_key = f"cam:{chem}", W_CAM[chem], _LI_SRC[chem]
            pkey, pst, li_st = f"pcam:{chem}", stocks[f"pcam:{chem}"], stocks[li_key]
            share = P.RECOVERED_LI_MAX_SHARE if li_key == "li:Li2CO3" else 0.0
            ni_f = w["Ni"] * P.CAM_PURITY / P.CAM_YIELD * PPB
            li_f = w["Li"] * P.CAM_PURITY / P.CAM_YIELD * li_me * 1.01 * PPB
            metal_f = sum(w[e] for e in _METALS) * P.CAM_PURITY * PPB
            self.accrue(key)
            while credit[key] >= 1.0:
                mass = int(P.CAM_LOT_T * n_lots * _T * (0.98 + 0.04 * rng.random()))
                need_ni, li_guess = int(mass * ni_f), int(mass * li_f)
                if pst.total < need_ni or li_st.total < li_guess - min(rec_li.total, int(li_guess * share)):
                    break
                credit[key] -= 1.0
                taken: list[tuple[Item, int]] = []
                pst.take_element(need_ni, taken)
                inp = elements_in(taken)
                li_need = int((inp["Ni"] / _A["Ni"] + inp["Co"] / _A["Co"] + inp["Mn"] / _A["Mn"]) * li_me * a_li) + 1
                rec = min(rec_li.total, int(li_need * share))
                if rec:
                    rec_li.take_element(rec, taken)
                li_st.take_element(li_need - rec, taken)
                inp["Li"] = sum(m * it.assay.get("Li", 0) for it, m in taken)
                y = P.CAM_YIELD
                out = {"Ni": int(inp["Ni"] * y), "Co": int(inp["Co"] * y), "Mn": int(inp["Mn"] * y)}
                out["Li"] = int((out["Ni"] / _A["Ni"] + out["Co"] / _A["Co"] + out["Mn"] / _A["Mn"]) * a_li)
                cam_mass = int((out["Ni"] + out["Co"] + out["Mn"]) / metal_f)  # Li/Me = 1 in LiMO2
                start = now + int(rng.random() * 900)
                end = start + 20 * 60
                lots = self.lots(code, S.CAM, end, cam_mass, out, n_lots, majority_origin(taken),
                                 [{"D50_um": _D50[int(rng.random() * 11)]} for _ in range(n_lots)])
                self.run(S.CAM, "calcination", start, end, taken, inp, lots, act.cam(cam_mass / 1e6, chem))
                pos[pkey] -= inp["Ni"]
                pos[li_key] -= li_need - rec
                for lot in lots:
                    x, site = rng.random(), CUSTOMERS[-1][0]
                    for s, _org, p in CUSTOMERS:
                        x -= p
                        if x < 0:
                            site = s
                            break
                    self.ship(lot, S.CAM, site, end + DAY + int(rng.random() * 2 * DAY), f"cells:{site}")

    def cells(self, now: int) -> None:
        """Cell plants: each arrived CAM lot → one cell lot + one production-scrap lot (scrap back to recycling)."""
        rng, f = self.rng, self.f
        for site, org, _ in CUSTOMERS:
            st, cc, base = self.stocks[f"cells:{site}"], site[:2], P.SCRAP_RATE[site]
            while st.items:
                taken: list[tuple[Item, int]] = []
                st.take_mass(st.items[0].remaining, taken)
                item, cam_mass = taken[0]
                chem = item.material[4:]
                inp = elements_in(taken)
                rate = base * (0.9 + 0.2 * rng.random())
                scrap = {e: int(v * rate) for e, v in inp.items()}
                cell = {e: v - scrap[e] for e, v in inp.items()}
                start = now + 60 + int(rng.random() * 660)
                end = start + DAY
                kwh = cam_mass / 1e6 * (1 - rate) * P.CAM_KWH_PER_KG[chem]
                cells = f.lot(f"CELL-{chem}-{cc}", site, end, int(cam_mass * (1 - rate) / P.CELL_CAM_SHARE[chem]), cell,
                              item.origin, {"chemistry": chem, "energy_kWh": str(round(kwh))}, method=None)
                waste = f.lot(f"SCRAP-{cc}", site, end, int(cam_mass * rate / P.SCRAP_CAM_SHARE), scrap, PRE,
                              {"chemistry": chem})
                self.run(site, "cell_manufacturing", start, end, taken, inp, [cells, waste], act.cells(site, kwh))
                self.cell_data(site, org, chem, cells.id, end)
                self.ship(waste, site, S.RECYCLER, end + 3 * DAY + int(rng.random() * 7 * DAY), "waste")

    def cell_data(self, site: str, org: str, chem: str, lot: str, end: int) -> None:
        """The cell maker's passport data for its first cell lots, an hour after the run (:mod:`lichain.demo.cells`)."""
        counts: dict[str, int] = self.__dict__.setdefault("_spec_lots", {})  # per simulation, made on first use
        done = counts.get(site, 0)
        if done >= cells_demo.SPEC_LOTS:
            return
        counts[site] = done + 1
        t = end + 60
        spec = cells_demo.cell_spec(lot, site, org, chem)
        self.emit(t, Event("", EventKind.CELL_SPEC, self.f.time(t), spec))
        if done == 0:
            self.emit(t, Event("", EventKind.BATTERY_REGISTRATION, self.f.time(t), cells_demo.battery_ids(lot, site)))

    # --- recycling ------------------------------------------------------------------------------------------------
    def eol(self, now: int) -> None:
        """End-of-life modules received at the recycler (post-consumer, commissioned as source lots)."""
        rng, key = self.rng, "eol"
        self.accrue(key)
        while self.runs_left(key):
            self.credit[key] -= 1.0
            x, chem = rng.random(), P.EOL_MIX[-1][0]
            for c, p in P.EOL_MIX:
                x -= p
                if x < 0:
                    chem = c
                    break
            t = now + self.within(0, DAY - 60)
            mass = int(P.EOL_LOT_T * _T * (0.7 + 0.6 * rng.random()))
            share = P.EOL_CAM_SHARE * (0.9 + 0.2 * rng.random())
            elems = {e: int(mass * share * v * PPB) for e, v in W_CAM[chem].items()}
            lot = self.f.lot("EOL-MODULES", S.RECYCLER, t, mass, elems, POST, {"chemistry": chem})
            self.emit(t, Event("", EventKind.LOT, lot.produced_at, lot))
            self.push(t, "waste", lot)

    def _batches(self, now: int, stock: str, batch_t: float) -> Iterator[list[tuple[Item, int]]]:
        """Batches from a waste stock: full ones, then a part batch if the oldest lot waited too long."""
        st = self.stocks[stock]
        while st.items and (st.mass >= batch_t * _T or now - st.items[0].arrived >= P.AGE_DAYS * DAY):
            taken: list[tuple[Item, int]] = []
            st.take_mass(int(batch_t * _T), taken)
            yield taken

    def shred(self, now: int) -> None:
        """Shredding and sieving of scrap and modules into black mass (≥ 98 % of the electrode powder)."""
        for taken in self._batches(now, "waste", P.SHRED_BATCH_T):
            inp = elements_in(taken)
            out = {e: int(v * P.SHRED_YIELD) for e, v in inp.items()}
            bm = sum(m * P.BM_MASS_YIELD["scrap" if it.material.startswith("SCRAP") else "eol"] for it, m in taken)
            start = now + self.within(0, 600)
            end = start + 8 * 60
            lot = self.f.lot("BLACK-MASS", S.RECYCLER, end, int(bm), out, majority_origin(taken))
            self.run(S.RECYCLER, "shredding", start, end, taken, inp, [lot],
                     act.shredding(sum(m for _, m in taken) / _T))
            self.push(end, "bm", lot)

    def hydromet(self, now: int) -> None:
        """Hydrometallurgical recycling: black mass → recovered NiSO4, CoSO4, MnSO4 and Li2CO3."""
        for taken in self._batches(now, "bm", P.HYDROMET_BATCH_T):
            inp = elements_in(taken)
            origin = majority_origin(taken)
            start = now + self.within(0, 600)
            end = start + 30 * 60
            outs: list[Lot] = []
            for e, y in P.HYDROMET_YIELD.items():
                amount = int(inp.get(e, 0) * y)
                if amount > 0:
                    code, w = _REC[e]
                    outs.append(self.f.lot(code, S.RECYCLER, end, int(amount / (w * P.SALT_PURITY) / PPB),
                                           {e: amount}, origin))
            mol, li_mol = act.metal_mol({e: v / KG for e, v in inp.items()})
            self.run(S.RECYCLER, "hydromet_recycling", start, end, taken, inp, outs,
                     act.hydromet(sum(m for _, m in taken) / 1e6, mol, li_mol))
            for lot in outs:
                e = next(iter(lot.assay))
                self.ship(lot, S.RECYCLER, S.CAM if e == "Li" else S.PCAM, end + self.within(120, DAY),
                          f"rec:{e}")
