"""Synthetic ledgers of any size, for tests and benchmarks of the analysis engine.

The engine must be checked on graphs shaped like the real chain (mine → concentrate → intermediate → refined
salt → pCAM → CAM → cell, production scrap and end-of-life batteries recycled into salts that feed later pCAM)
and measured at millions of lots, which no demo database reaches in seconds. :func:`synthetic_ledger` builds such a
chain step by step in time (one step = one day): each lot's inputs are drawn from a feeding stage's lots of the
previous days (mostly recent, a few from long ago), consumptions are partial, runs may have two outputs (cell +
scrap), and the mass, assay and declared losses follow from a single compiled pass in creation order, so each run
balances per element exactly (inputs = outputs + losses). :func:`blend_tank` builds the deep shape: a tank whose
every day's output feeds the next day's run. Both are numpy-vectorised, seeded and reproducible.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import numpy.typing as npt

from lichain.analysis.snapshot import F64, I32, I64, LedgerArrays, csr_by_key, jit

__all__ = ["ELEMENTS", "STAGES", "blend_tank", "random_ledger", "synthetic_ledger"]

ELEMENTS = ("Ni", "Co", "Mn", "Li")
STAGES = ("ore", "concentrate", "intermediate", "refined_salt", "pcam", "cam", "cell", "scrap", "black_mass",
          "recovered_salt")
_T0 = 1_704_067_200  # 2024-01-01T00:00:00Z
_DAY = 86_400

# kind: stage, origin, weight (lots per step, relative), yield range (output mass / input mass), sites
_KINDS: dict[str, tuple[str, int, float, tuple[float, float], tuple[int, ...]]] = {
    "ore": ("ore", 0, 2.0, (0.0, 0.0), (0, 1, 2, 3, 4, 5)),
    "eol": ("scrap", 2, 0.25, (0.0, 0.0), (6, 7, 8)),
    "concentrate": ("concentrate", 0, 1.5, (0.25, 0.35), (9, 10)),
    "intermediate": ("intermediate", 0, 1.2, (0.55, 0.65), (11, 12)),
    "tank": ("intermediate", 0, 0.0, (0.95, 1.0), (13,)),
    "salt": ("refined_salt", 0, 1.2, (0.9, 1.0), (13, 14)),
    "pcam": ("pcam", 0, 1.0, (0.85, 0.95), (15, 16)),
    "cam": ("cam", 0, 1.0, (0.95, 1.05), (17, 18)),
    "cell": ("cell", 0, 0.8, (1.4, 1.8), (19, 20, 21)),
    "scrap": ("scrap", 1, 0.0, (0.0, 0.0), (19, 20, 21)),
    "eol_linked": ("scrap", 2, 0.0, (0.97, 1.0), (6, 7, 8)),
    "black_mass": ("black_mass", 1, 0.3, (0.75, 0.85), (22, 23)),
    "recovered": ("recovered_salt", 1, 0.3, (0.9, 1.0), (22, 23)),
}
_ORDER = tuple(_KINDS)
_SITES = (
    ("mine-weda-bay", "ID", "Halmahera Nickel"), ("mine-morowali", "ID", "Sulawesi Mining"),
    ("mine-kolwezi", "CD", "Katanga Cobalt"), ("mine-greenbushes", "AU", "Talison"),
    ("mine-atacama", "CL", "Salar Lithium"), ("mine-kalahari", "ZA", "Kalahari Manganese"),
    ("collect-de", "DE", "EU Battery Collect"), ("collect-cn", "CN", "Huayou Recycling"),
    ("collect-us", "US", "Redwood Collect"), ("conc-id", "ID", "Halmahera Nickel"),
    ("conc-au", "AU", "Talison"), ("hpal-id", "ID", "Sulawesi HPAL"), ("hpal-cd", "CD", "Katanga Cobalt"),
    ("ref-quzhou", "CN", "Quzhou Refining"), ("ref-harjavalta", "FI", "Nordic Refining"),
    ("pcam-tongxiang", "CN", "Precursor Co"), ("pcam-pohang", "KR", "Precursor Co"),
    ("cam-gumi", "KR", "Cathode Co"), ("cam-nysa", "PL", "Cathode Co"), ("cell-wroclaw", "PL", "Cell Co"),
    ("cell-gyor", "HU", "Cell Co"), ("cell-ochang", "KR", "Cell Co"), ("rec-magdeburg", "DE", "Loop Recycling"),
    ("rec-quzhou", "CN", "Huayou Recycling"),
)
# ore sub-types: material code and assay ranges (Ni, Co, Mn, Li) [kg kg⁻¹]; probabilities
_ORES = (
    ("NI-LATERITE", ((0.012, 0.018), (0.0008, 0.0015), (0.003, 0.008), (0.0, 0.0)), 0.6),
    ("CO-HYDROXIDE", ((0.01, 0.03), (0.25, 0.35), (0.02, 0.05), (0.0, 0.0)), 0.15),
    ("MN-ORE", ((0.0, 0.0), (0.0, 0.0), (0.30, 0.45), (0.0, 0.0)), 0.1),
    ("SPODUMENE", ((0.0, 0.0), (0.0, 0.0), (0.0, 0.0), (0.025, 0.035)), 0.15),
)
_EOL_ASSAY = ((0.15, 0.25), (0.02, 0.05), (0.02, 0.05), (0.02, 0.03))
_MATERIALS = {"ore": "NI-LATERITE", "eol": "EOL-BATTERY", "concentrate": "NI-CONCENTRATE", "intermediate": "MHP",
              "tank": "MHP-BLEND", "salt": "NISO4-6H2O", "pcam": "PCAM-NCM811", "cam": "CAM-NCM811",
              "cell": "CELL-NCM811", "scrap": "CELL-SCRAP", "eol_linked": "EOL-BATTERY",
              "black_mass": "BLACK-MASS", "recovered": "RECOVERED-SALT"}


@jit
def _fill(run_ptr: I64, run_order: I64, cons_lot: I32, claim: F64, claim_sum: F64, util: F64, out_ptr: I64,
          out_lots: I64, out_frac: F64, run_yield: F64, loss_rate: F64, mass: F64, assay: F64, cons_kg: F64,
          loss: F64) -> None:
    """Masses, assays and losses in run order, so every run balances per element exactly."""
    n_el = assay.shape[1]
    el = np.zeros(n_el)
    f = np.zeros(n_el)
    for r in range(run_ptr.shape[0] - 1):
        el[:] = 0.0
        tot = 0.0
        for q in range(run_ptr[r], run_ptr[r + 1]):
            c = run_order[q]
            i = cons_lot[c]
            kg = mass[i] * util[i] * claim[c] / claim_sum[i]
            cons_kg[c] = kg
            tot += kg
            for e in range(n_el):
                el[e] += kg * assay[i, e]
        s = 0.0
        for e in range(n_el):
            s += el[e] * (1.0 - loss_rate[r, e])
        om = max(tot * run_yield[r], s / 0.9, 1e-3)
        for e in range(n_el):
            f[e] = el[e] * (1.0 - loss_rate[r, e]) / om
            loss[r, e] = el[e] - om * f[e]
        for q in range(out_ptr[r], out_ptr[r + 1]):
            o = out_lots[q]
            mass[o] = om * out_frac[o]
            for e in range(n_el):
                assay[o, e] = f[e]


def _lot_ids(n: int, prefix: str = "urn:epc:class:lgtin:4012345.099999.L") -> npt.NDArray[np.bytes_]:
    """GS1 LGTIN-style URNs with a 12-digit lot number, built as bytes without a Python loop."""
    width = len(prefix) + 12
    buf = np.empty((n, width // 4), np.uint32)
    buf[:, : len(prefix) // 4] = np.frombuffer(prefix.encode(), np.uint32)
    four = np.frombuffer("".join(f"{i:04d}" for i in range(10_000)).encode(), np.uint32)
    v = np.arange(n, dtype=np.int64)
    for k in range(3):
        buf[:, -1 - k] = four[v % 10_000]
        v //= 10_000
    return buf.view(f"S{width}").ravel()


def _finish(rng: np.random.Generator, lot_kind: I32, lot_t: I64, kinds: tuple[str, ...], lot_run: I32,
            main: npt.NDArray[np.intp], cons_run: I32, cons_lot: I32, claim: F64, mass: F64, assay: F64,
            out_frac: F64, material: I32, materials: tuple[str, ...], util: F64 | None = None,
            origin: npt.NDArray[np.int8] | None = None) -> LedgerArrays:
    """Shared tail of both generators: value pass, times, sites, ids."""
    n, r = lot_kind.shape[0], main.shape[0]
    info = [_KINDS[k] for k in kinds]
    run_kind = lot_kind[main]
    lo = np.array([i[3][0] for i in info])[run_kind]
    hi = np.array([i[3][1] for i in info])[run_kind]
    run_yield = rng.uniform(lo, hi)
    loss_rate = rng.uniform(0.002, 0.03, size=(r, assay.shape[1]))
    util_ = cast(F64, rng.uniform(0.6, 1.0, n)) if util is None else util
    claim_sum = cast(F64, np.bincount(cons_lot, weights=claim, minlength=n))
    run_ptr, run_order = csr_by_key(cons_run, r)
    produced = np.flatnonzero(lot_run >= 0)
    out_ptr, out_order = csr_by_key(lot_run[produced], r)
    cons_kg = np.zeros(cons_run.shape[0])
    loss = np.zeros((r, assay.shape[1]))
    _fill(run_ptr, run_order, cons_lot, claim, claim_sum, util_, out_ptr, produced[out_order].astype(np.int64),
          out_frac, run_yield, loss_rate, mass, assay, cons_kg, loss)
    # consumptions listed run by run, as a store reader returns them
    cons_run, cons_lot, cons_kg = cons_run[run_order], cons_lot[run_order], cons_kg[run_order]
    lot_time = _T0 + lot_t * _DAY + lot_kind.astype(np.int64) * 60
    produced_lots = lot_run >= 0
    lot_time[produced_lots] = lot_time[main][lot_run[produced_lots]]  # outputs carry their run's time
    flat = np.concatenate([np.array(i[4], np.int32) for i in info])
    n_sites = np.array([len(i[4]) for i in info])
    first = np.concatenate([[0], np.cumsum(n_sites)[:-1]])
    lot_site = flat[first[lot_kind] + rng.integers(0, 1 << 30, n) % n_sites[lot_kind]]
    stage = np.array([STAGES.index(i[0]) for i in info], np.int8)[lot_kind]
    if origin is None:
        origin = np.array([i[1] for i in info], np.int8)[lot_kind]
    return LedgerArrays(
        elements=ELEMENTS, lot_ids=_lot_ids(n), lot_mass_kg=mass, lot_assay=assay, lot_run=lot_run,
        lot_site=lot_site, lot_material=material, lot_stage=stage, lot_origin=origin, lot_time=lot_time,
        run_time=lot_time[main], run_site=lot_site[main], cons_run=cons_run, cons_lot=cons_lot, cons_kg=cons_kg,
        run_loss_kg=loss, site_ids=tuple(s[0] for s in _SITES), site_country=tuple(s[1] for s in _SITES),
        site_org=tuple(s[2] for s in _SITES), material_codes=materials, stage_names=STAGES)


def _run_order(runs: list[I32], lots: list[I64], claims: list[F64], n_runs: int) -> tuple[I32, I32, F64]:
    """Concatenate per-feeder picks (each sorted by run) into one list ordered by run, without a sort."""
    counts = [np.bincount(r, minlength=n_runs) for r in runs]
    ptr = np.zeros(n_runs + 1, np.int64)
    np.cumsum(sum(counts), out=ptr[1:])
    fill = ptr[:-1].copy()
    m = int(ptr[-1])
    cons_run, cons_lot, claim = np.empty(m, np.int32), np.empty(m, np.int32), np.empty(m)
    for r, lot, c, cnt in zip(runs, lots, claims, counts, strict=True):
        if r.size == 0:
            continue
        first = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
        rank = np.arange(r.size) - np.repeat(first, np.diff(np.r_[first, r.size]))
        pos = fill[r] + rank
        cons_run[pos], cons_lot[pos], claim[pos] = r, lot, c
        fill += cnt
    return cons_run, cons_lot, claim


def _source_values(rng: np.random.Generator, n: int, ranges: tuple[tuple[float, float], ...],
                   mass_kg: float) -> tuple[F64, F64]:
    lo = np.array([a for a, _ in ranges])
    hi = np.array([b for _, b in ranges])
    return rng.lognormal(np.log(mass_kg), 0.3, n), rng.uniform(lo, hi, size=(n, lo.size))


def synthetic_ledger(n_lots: int = 100_000, *, seed: int = 0, steps: int | None = None, window: float = 2.0,
                     long_frac: float = 0.03, long_window: int = 500, recycling: float = 0.01,
                     eol_linked: float = 0.2, tank_lines: int = 0, tank_feed: float = 0.2) -> LedgerArrays:
    """A layered battery-materials chain of about ``n_lots`` lots (≈ 3 edges per lot, depth ≈ 7).

    Parameters
    ----------
    n_lots
        Approximate number of lots (the generator rounds per-day counts).
    seed
        Seed of the random generator (same seed, same ledger).
    steps
        Number of days; default ``max(30, n_lots // 400)``.
    window
        Mean age [days] of an input lot (geometric); ``long_frac`` of the inputs are instead drawn uniformly from
        up to ``long_window`` days back (stock piles).
    recycling
        Probability that a pCAM run also consumes a recovered-salt lot (closes the recycling loop across time).
    eol_linked
        Fraction of end-of-life battery lots that are linked by a collection run to cell lots made long before
        (a loop across the whole history); the others are commissioned as post-consumer source lots.
    tank_lines, tank_feed
        Number of blend tanks (each day's tank lot feeds the next day's run, so the depth grows with ``steps``)
        and the probability that a refined-salt run draws from a tank.
    """
    rng = np.random.default_rng(seed)
    t_steps = steps if steps is not None else max(30, n_lots // 400)
    weights = {k: v[2] for k, v in _KINDS.items()}
    weights["eol_linked"] = 0.25 * eol_linked
    weights["eol"] = 0.25 * (1.0 - eol_linked)
    scale = n_lots / (t_steps * sum(weights.values()))
    count = {k: (max(1, round(w * scale)) if w > 0 else 0) for k, w in weights.items()}
    count["tank"] = tank_lines
    count["scrap"] = max(1, round(0.3 * count["cell"]))
    life = (max(1, t_steps // 10), max(2, t_steps // 3))
    # feeders: consumer -> [(feeder, base picks, extra Poisson mean, probability, delay kind)]
    feeds: dict[str, list[tuple[str, int, float, float, str]]] = {
        "concentrate": [("ore", 3, 1.5, 1.0, "recent")],
        "intermediate": [("concentrate", 3, 1.0, 1.0, "recent")],
        "tank": [("intermediate", 2, 0.0, 1.0, "recent"), ("tank", 1, 0.0, 1.0, "tank")],
        "salt": [("intermediate", 2, 1.5, 1.0, "recent"), ("tank", 1, 0.0, tank_feed, "recent")],
        "pcam": [("salt", 3, 1.0, 1.0, "recent"), ("recovered", 1, 0.0, recycling, "recent")],
        "cam": [("pcam", 2, 1.0, 1.0, "recent"), ("salt", 1, 0.0, 1.0, "recent")],
        "cell": [("cam", 2, 1.5, 1.0, "recent")],
        "eol_linked": [("cell", 1, 1.0, 1.0, "life")],
        "black_mass": [("scrap", 1, 1.0, 1.0, "recent"), ("eol", 1, 1.0, 0.7, "recent"),
                       ("eol_linked", 1, 0.0, 0.5, "recent")],
        "recovered": [("black_mass", 1, 0.5, 1.0, "recent")],
    }
    start = {"ore": 0, "eol": 0}
    for k in _ORDER:  # feeders come before consumers in _ORDER except optional loop edges
        if k in start:
            continue
        mand = [start[f] for f, _, _, p, d in feeds.get(k, []) if p >= 1.0 and d != "tank" and f in start]
        start[k] = start["cell"] if k == "scrap" else (max(mand) + 1 if mand else 0)
        if k == "eol_linked":
            start[k] = start["cell"] + life[0]
    kinds = tuple(k for k in _ORDER if count[k] > 0)
    kid = {k: i for i, k in enumerate(kinds)}
    ts = np.arange(t_steps)
    present = ts[:, None] >= np.array([start[k] for k in kinds])[None, :]
    blocks = present * np.array([count[k] for k in kinds])[None, :]
    base = np.zeros(blocks.size + 1, np.int64)
    np.cumsum(blocks.ravel(), out=base[1:])
    n = int(base[-1])
    base2 = base[:-1].reshape(blocks.shape)
    lot_kind = np.repeat(np.tile(np.arange(len(kinds), dtype=np.int32), t_steps), blocks.ravel())
    lot_t = np.repeat(np.repeat(ts, len(kinds)), blocks.ravel()).astype(np.int64)
    lot_j = np.arange(n, dtype=np.int64) - np.repeat(base[:-1], blocks.ravel())
    produced = (lot_kind != kid["ore"]) & (lot_kind != kid.get("eol", -1))
    is_main = produced & (lot_kind != kid["scrap"])
    run_of = np.cumsum(is_main) - 1
    lot_run = np.where(is_main, run_of, -1).astype(np.int32)
    scrap = np.flatnonzero(lot_kind == kid["scrap"])
    cell_of_scrap = base2[lot_t[scrap], kid["cell"]] + lot_j[scrap]
    lot_run[scrap] = lot_run[cell_of_scrap]
    out_frac = np.ones(n)
    out_frac[scrap] = rng.uniform(0.05, 0.15, scrap.size)
    out_frac[cell_of_scrap] = 1.0 - out_frac[scrap]
    runs_c, lots_c, claims = [], [], []
    for k, specs in feeds.items():
        if k not in kid:
            continue
        cons = np.flatnonzero(lot_kind == kid[k])
        for f, b, lam, p, how in specs:
            if f not in kid:
                continue
            m = b + (rng.poisson(lam, cons.size) if lam > 0 else 0)
            if p < 1.0:
                m = m * (rng.random(cons.size) < p)
            who = np.repeat(cons, m)
            t = lot_t[who]
            if how == "tank":
                src_t, src_j = t - 1, lot_j[who]
            else:
                if how == "life":
                    d = rng.integers(life[0], life[1] + 1, who.size)
                else:
                    d = rng.geometric(1.0 / window, who.size)
                    far = rng.random(who.size) < long_frac
                    d[far] = rng.integers(1, long_window + 1, int(far.sum()))
                src_t = t - d
                src_j = rng.integers(0, count[f], who.size)
            ok = src_t >= start[f]
            if p >= 1.0 and how != "tank":  # too old for a mandatory feeder: redraw among the available days
                low = src_t < start[f]
                src_t[low] = rng.integers(start[f], t[low] - (life[0] - 1 if how == "life" else 0))
                ok = np.ones(who.size, bool)
            runs_c.append(lot_run[who[ok]])
            lots_c.append(base2[src_t[ok], kid[f]] + src_j[ok])
            claims.append(np.full(int(ok.sum()), 3.0 if how == "tank" else 1.0))
    cons_run, cons_lot, claim = _run_order(runs_c, lots_c, claims, int(is_main.sum()))
    mass, assay = np.zeros(n), np.zeros((n, len(ELEMENTS)))
    material_codes = (*(o[0] for o in _ORES), *dict.fromkeys(_MATERIALS[k] for k in kinds if k != "ore"))
    material = np.array([material_codes.index(_MATERIALS[k]) for k in kinds], np.int32)[lot_kind]
    ore = np.flatnonzero(lot_kind == kid["ore"])
    sub = rng.choice(len(_ORES), ore.size, p=[o[2] for o in _ORES])
    for s, (_, ranges, _) in enumerate(_ORES):
        sel = ore[sub == s]
        mass[sel], assay[sel] = _source_values(rng, sel.size, ranges, 30_000.0)
        material[sel] = s
    if "eol" in kid:
        sel = np.flatnonzero(lot_kind == kid["eol"])
        mass[sel], assay[sel] = _source_values(rng, sel.size, _EOL_ASSAY, 5_000.0)
    main = np.flatnonzero(is_main)
    return _finish(rng, lot_kind, lot_t, kinds, lot_run, main, cons_run, cons_lot, claim, mass, assay, out_frac,
                   material, material_codes)


def blend_tank(days: int = 10_000, *, feeds_per_day: int = 2, carry: float = 0.6, seed: int = 0) -> LedgerArrays:
    """The deep shape: each day ``feeds_per_day`` fresh source lots and yesterday's tank lot make today's.

    Lot numbering per day: the feed lots, then the tank lot, so the tank lot of day ``d`` is
    ``d × (feeds_per_day + 1) + feeds_per_day`` and the graph depth is ``days``. The tank lot gives ``carry`` of
    its mass to the next day (the rest stays in stock).
    """
    rng = np.random.default_rng(seed)
    per = feeds_per_day + 1
    n = days * per
    lot_t = np.repeat(np.arange(days, dtype=np.int64), per)
    is_tank = np.arange(n) % per == feeds_per_day
    kinds = ("ore", "tank")
    lot_kind = is_tank.astype(np.int32)
    lot_run = np.where(is_tank, np.arange(n) // per, -1).astype(np.int32)
    tank = np.flatnonzero(is_tank)
    feed_run = np.repeat(np.arange(days, dtype=np.int32), feeds_per_day)
    cons_run, cons_lot, claim = _run_order(
        [feed_run, np.arange(1, days, dtype=np.int32)], [np.flatnonzero(~is_tank), tank[:-1]],
        [np.ones(feed_run.size), np.ones(days - 1)], days)
    mass, assay = np.zeros(n), np.zeros((n, len(ELEMENTS)))
    feeds = np.flatnonzero(~is_tank)
    mass[feeds], assay[feeds] = _source_values(rng, feeds.size, _EOL_ASSAY, 10_000.0)
    assay[feeds[rng.random(feeds.size) < 0.2], 3] = 0.0  # some feeds carry no lithium
    util = np.where(is_tank, carry, 1.0)
    origin = np.where(is_tank, 0, np.where(rng.random(n) < 0.3, 2, 0)).astype(np.int8)
    return _finish(rng, lot_kind, lot_t, kinds, lot_run, tank, cons_run, cons_lot, claim, mass, assay,
                   np.ones(n), lot_kind.copy(), ("FEED", "TANK-BLEND"), util, origin)


def random_ledger(n_lots: int = 40, *, seed: int = 0, n_elements: int = 4, p_source: float = 0.3,
                  p_multi: float = 0.3, max_inputs: int = 4, p_zero: float = 0.25) -> LedgerArrays:
    """A small random ledger with the awkward cases, for property tests.

    Multi-output runs, partial consumptions, repeated inputs, source lots with no element (``p_zero``), outputs
    with none of an element, ties in time, declared losses; every run balances per element exactly and
    consumes each lot at most up to its mass. Times are non-decreasing in creation order; outputs carry their
    run's time.
    """
    rng = np.random.default_rng(seed)
    lot_run: list[int] = []
    cons: list[tuple[int, int, float]] = []
    remaining: list[float] = []
    mass = np.zeros(n_lots)
    assay = np.zeros((n_lots, n_elements))
    times: list[int] = []
    run_time: list[int] = []
    losses: list[F64] = []
    t, o = _T0, 0
    while o < n_lots:
        t += int(rng.integers(0, 3)) * 3_600
        if o == 0 or rng.random() < p_source:
            mass[o] = rng.uniform(1.0, 100.0)
            assay[o] = np.where(rng.random(n_elements) < p_zero, 0.0, rng.uniform(0.0, 0.25, n_elements))
            lot_run.append(-1)
            remaining.append(mass[o])
            times.append(t)
            o += 1
            continue
        r = len(run_time)
        k = int(rng.integers(1, max_inputs + 1))
        el = np.zeros(n_elements)
        tot = 0.0
        for i in rng.integers(0, o, k):  # repeats allowed: a run may record the same lot twice
            kg = remaining[i] * rng.uniform(0.0, 0.8)
            remaining[i] -= kg
            cons.append((r, int(i), kg))
            el += kg * assay[i]
            tot += kg
        outs = min(n_lots - o, 1 + int(rng.random() < p_multi) * int(rng.integers(1, 3)))
        out_mass = rng.uniform(0.5, 1.5, outs) * max(tot, 1e-3) / outs
        kept = el * rng.uniform(0.9, 1.0, n_elements)
        frac = np.tile(kept / out_mass.sum(), (outs, 1))
        if outs > 1 and rng.random() < 0.5:  # a by-product without one element
            frac[-1, rng.integers(n_elements)] = 0.0
        scale = np.minimum(1.0, 0.95 / np.maximum(frac.sum(axis=1), 1e-300))
        frac *= scale[:, None]
        for q in range(outs):
            mass[o + q], assay[o + q] = out_mass[q], frac[q]
            lot_run.append(r)
            remaining.append(out_mass[q])
            times.append(t)
        losses.append(el - (out_mass[:, None] * frac).sum(axis=0))
        run_time.append(t)
        o += outs
    n_runs = len(run_time)
    c = np.array(cons, dtype=[("r", np.int32), ("i", np.int32), ("kg", np.float64)]) if cons else None
    sites = ("site-a", "site-b", "site-c")
    return LedgerArrays(
        elements=ELEMENTS[:n_elements] if n_elements <= 4 else tuple(f"E{k}" for k in range(n_elements)),
        lot_ids=np.array([f"lot-{i:05d}" for i in range(n_lots)], dtype=object), lot_mass_kg=mass,
        lot_assay=assay, lot_run=np.array(lot_run, np.int32), lot_site=rng.integers(0, 3, n_lots).astype(np.int32),
        lot_material=rng.integers(0, 2, n_lots).astype(np.int32),
        lot_stage=rng.integers(0, len(STAGES), n_lots).astype(np.int8),
        lot_origin=rng.integers(0, 3, n_lots).astype(np.int8), lot_time=np.array(times, np.int64),
        run_time=np.array(run_time, np.int64), run_site=rng.integers(0, 3, n_runs).astype(np.int32),
        cons_run=c["r"].copy() if c is not None else np.zeros(0, np.int32),
        cons_lot=c["i"].copy() if c is not None else np.zeros(0, np.int32),
        cons_kg=c["kg"].copy() if c is not None else np.zeros(0),
        run_loss_kg=np.array(losses).reshape(n_runs, n_elements), site_ids=sites, site_country=("ID", "CN", "DE"),
        site_org=("Org A", "Org B", "Org A"), material_codes=("M0", "M1"), stage_names=STAGES)
