"""Cradle-to-gate carbon footprint of every lot, with its breakdowns, as one pass of the propagation kernel.

Why a module of its own: the footprint is the propagation engine's main customer, and its inputs need shaping
first. Each step's own emissions (a run's activity data, a commissioning step, a lot's shipments) are allocated
to the lots it made, divided by their mass, and laid out as the columns of one ``own`` matrix [N, K]: the
location- and market-based totals, the four life-cycle stages of Regulation (EU) 2023/1542 Annex II, the causes,
and a flag for incomplete data. :func:`lichain.analysis.propagate.intensity` then solves
x = own + W x for all K columns in one forward pass (DESIGN §3):

.. math:: x_o = \\frac{E_{r(o)}\\, a_o + E^{c}_o + T_o}{m_o} + \\frac{a_o}{m_o}\\sum_{i \\to o} c_{i,r(o)}\\, x_i

with :math:`E_r` the run's own emissions [kg CO2e], :math:`a_o` the lot's allocation factor (mass share of the
run's outputs by default, declared-value share for economic allocation), :math:`E^c_o` commissioning emissions
of a source lot, :math:`T_o` the transport emissions of the lot's shipments, :math:`m_o` its mass [kg] and
:math:`c_{i,r}` the mass of input i the run consumed [kg]. Every column is linear in its own burdens, so the
breakdowns sum to the total exactly (up to rounding).

This module is numpy only (plus the kernel); reading the ledger is :mod:`lichain.services.footprint`'s job.

References: Regulation (EU) 2023/1542 Art. 7 and Annex II (life-cycle stages); Andreasi Bassi S. et al., *Rules
for the calculation of the Carbon Footprint of Electric Vehicle Batteries (CFB-EV)*, JRC 2023 (allocation
hierarchy, electricity); ISO 14067:2018 §6.4.6 (allocation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from lichain.analysis.propagate import intensity, propagate
from lichain.analysis.snapshot import F64, I32, I64, Snapshot
from lichain.analysis.trace import trace_up

__all__ = [
    "CAM_DEFAULTS",
    "CAUSES",
    "COLUMNS",
    "DISTRIBUTION",
    "EOL",
    "LCA_STAGES",
    "MAIN",
    "MATERIAL_STAGE_STAGE",
    "RAW",
    "RUN_KIND_STAGE",
    "SITE_KIND_STAGE",
    "Allocation",
    "CamEnergy",
    "OwnEmissions",
    "allocation",
    "cam_energy",
    "column",
    "footprint",
    "named",
    "own_per_kg",
    "per_kwh",
    "reallocated",
    "stage_code",
    "upstream_breakdown",
]

Bool = npt.NDArray[np.bool_]
I8 = npt.NDArray[np.int8]

#: Life-cycle stages of Annex II point 4 of Regulation (EU) 2023/1542, in column order.
LCA_STAGES: tuple[str, ...] = (
    "raw_material_acquisition_and_pre_processing",
    "main_product_production",
    "distribution",
    "end_of_life_and_recycling",
)
RAW, MAIN, DISTRIBUTION, EOL = range(4)

#: Causes of emissions, in column order: the four of :data:`lichain.core.emissions.CAUSES`, then transport, then
#: purchased lots at their suppliers' PCFs (cradle-to-gate of the supplier, whatever its own causes).
CAUSES: tuple[str, ...] = ("electricity", "fuels", "reagents", "process", "transport", "supplier_pcf")

#: Columns of the ``own`` and footprint matrices: totals, stages, causes (all location-based but "market"),
#: and "incomplete" (> 0 where some step upstream had a datum without a factor).
COLUMNS: tuple[str, ...] = ("location", "market", *(f"stage:{s}" for s in LCA_STAGES),
                            *(f"cause:{c}" for c in CAUSES), "incomplete")
_LOC, _MKT, _STAGE0, _CAUSE0, _INC = 0, 1, 2, 2 + len(LCA_STAGES), len(COLUMNS) - 1

#: Stage of a run's own emissions by run kind (DESIGN §2 kinds; "calcination" is the CAM step).
RUN_KIND_STAGE: dict[str, int] = {
    **dict.fromkeys(("mining", "beneficiation", "concentration", "flotation", "leaching", "hpal", "smelting",
                     "refining", "purification", "crystallisation", "crystallization", "conversion"), RAW),
    **dict.fromkeys(("co_precipitation", "calcination", "lithiation", "coating", "electrode_manufacturing",
                     "cell_manufacturing", "module_assembly", "pack_assembly"), MAIN),
    **dict.fromkeys(("repacking", "storage", "transport"), DISTRIBUTION),
    **dict.fromkeys(("collection", "discharging", "dismantling", "shredding", "black_mass_refining",
                     "hydromet_recycling", "pyromet_recycling", "direct_recycling", "recycling"), EOL),
}
#: Stage by the material stage of the step's main output (used when the run kind is not in the table).
MATERIAL_STAGE_STAGE: dict[str, int] = {
    **dict.fromkeys(("ore", "concentrate", "intermediate", "refined_salt", "reagent"), RAW),
    **dict.fromkeys(("pcam", "cam", "cell"), MAIN),
    **dict.fromkeys(("scrap", "black_mass", "recovered_salt"), EOL),
}
#: Stage by site kind (last resort before the default).
SITE_KIND_STAGE: dict[str, int] = {
    **dict.fromkeys(("mine", "concentrator", "refinery"), RAW),
    **dict.fromkeys(("precursor_plant", "cathode_plant", "cell_plant"), MAIN),
    "warehouse": DISTRIBUTION,
    "recycler": EOL,
}


def stage_code(run_kind: str | None, material_stage: str | None, site_kind: str | None, *,
               default: int = MAIN) -> int:
    """Index into :data:`LCA_STAGES` of a step's own emissions: by run kind, else output material, else site.

    Source lots (no run) pass ``run_kind=None`` and ``default=0`` (raw material acquisition). The mapping is the
    producer's view of its own processes; in a cell maker's Art. 7 declaration our pCAM/CAM enter whole as
    "raw material acquisition and pre-processing" ([R] in docs/reference/regulation-and-factors.md §1.1).
    """
    for table, key in ((RUN_KIND_STAGE, run_kind), (MATERIAL_STAGE_STAGE, material_stage),
                       (SITE_KIND_STAGE, site_kind)):
        if key is not None and key.casefold() in table:
            return table[key.casefold()]
    return default


@dataclass(frozen=True, eq=False)
class OwnEmissions:
    """Own emissions of every step, aligned with a snapshot's runs (R) and lots (N) [kg CO2e].

    ``run_location_by_cause`` float64[R, 4] and ``lot_location_by_cause`` float64[N, 4] (commissioning of source
    lots) follow the first four :data:`CAUSES`; ``*_market`` are market-based totals [R] / [N]; ``lot_transport``
    [N] is transport a lot carries as a whole (stage distribution); ``run_transport`` [R] the inbound transport
    of what each run consumed (:mod:`lichain.analysis.transport`; the ledger charges shipments this way and
    passes zero ``lot_transport``), allocated to the run's outputs like its own emissions, in stage raw-material
    acquisition and pre-processing; ``run_stage`` int8[R] and ``lot_stage`` int8[N] index :data:`LCA_STAGES` for
    run and commissioning emissions; ``run_complete`` / ``lot_complete`` are False where a datum had no factor
    (or a source lot has no data at all); ``lot_supplier`` [N] is a purchased lot's burden from its supplier's
    PCF [kg CO2e] (cause "supplier_pcf", stage ``lot_stage``), which replaces its commissioning emissions.
    """

    run_location_by_cause: F64
    run_market: F64
    run_stage: I8
    run_complete: Bool
    lot_location_by_cause: F64
    lot_market: F64
    lot_transport: F64
    lot_stage: I8
    lot_complete: Bool
    run_transport: F64 | None = None
    lot_supplier: F64 | None = None


@dataclass(frozen=True, eq=False)
class Allocation:
    """Allocation factor of every lot among its run's outputs, and which runs use declared values.

    ``factor`` float64[N] (0 for source lots); ``economic`` bool[R]; ``fallback`` bool[R] marks runs with
    declared values that could not be used (some output without a value, or a zero total): they fall back to
    mass allocation and are reported.
    """

    factor: F64
    economic: Bool
    fallback: Bool


def allocation(lot_run: I32, mass_kg: F64, n_runs: int, value: F64 | None = None) -> Allocation:
    """Allocation factors: each output's share of its run's output mass, or of its declared value.

    Parameters
    ----------
    lot_run : int32[N]
        Producing run of each lot (-1 for source lots).
    mass_kg : float64[N]
        Lot masses [kg].
    n_runs : int
        Number of runs R.
    value : float64[N], optional
        Declared economic value of each output (any currency; NaN where none is declared). A run uses
        economic allocation when an output has a value; it needs one for every output and a positive total.

    Returns
    -------
    Allocation
        Factors sum to 1 over each run's outputs (ISO 14067:2018 §6.4.6.2: physical relationship first,
        economic value where the co-products' physical relation does not reflect the purpose of the process).
    """
    lot_run = np.asarray(lot_run)
    has = lot_run >= 0
    r = lot_run[has]
    m = np.asarray(mass_kg, np.float64)[has]
    tot_m = np.bincount(r, weights=m, minlength=n_runs)
    factor = np.zeros(lot_run.shape[0])
    factor[has] = np.divide(m, tot_m[r], out=np.zeros(m.shape[0]), where=tot_m[r] > 0)
    economic = np.zeros(n_runs, np.bool_)
    fallback = np.zeros(n_runs, np.bool_)
    if value is None:
        return Allocation(factor, economic, fallback)
    v = np.asarray(value, np.float64)[has]
    declared = ~np.isnan(v)
    wants = np.bincount(r[declared], minlength=n_runs) > 0
    missing = np.bincount(r[~declared], minlength=n_runs) > 0
    tot_v = np.bincount(r[declared], weights=v[declared], minlength=n_runs)
    bad = wants & (missing | ~(tot_v > 0) | (np.bincount(r[declared & (v < 0)], minlength=n_runs) > 0))
    economic = wants & ~bad
    use = economic[r]
    econ = np.zeros(m.shape[0])
    econ[use] = v[use] / tot_v[r[use]]
    f = factor[has]
    f[use] = econ[use]
    factor[has] = f
    return Allocation(factor, economic, bad)


def reallocated(snap: Snapshot, alloc: Allocation) -> Snapshot:
    """``snap`` with edge masses rescaled from mass to the given allocation (the same graph otherwise).

    Edges carry ``kg = consumed × a_o`` (:meth:`Snapshot.build`); a snapshot built with mass allocation is
    turned into one built with ``alloc.factor`` by scaling each row by ``factor / mass_share``. Returns ``snap``
    itself when no run uses economic allocation.
    """
    if not alloc.economic.any():
        return snap
    mass = allocation(snap.lot_run, snap.lot_mass_kg, snap.n_runs)
    scale = np.divide(alloc.factor, mass.factor, out=np.ones(snap.n_lots), where=mass.factor > 0)
    up_kg = snap.up_kg * np.repeat(scale, np.diff(snap.up_indptr))
    up_kg.flags.writeable = False
    return replace(snap, up_kg=up_kg)


def own_per_kg(snap: Snapshot, own: OwnEmissions, alloc: F64) -> F64:
    """Own burden of every lot per kg of the lot [kg CO2e kg⁻¹], float64[N, K] in :data:`COLUMNS` order.

    Column "incomplete" is 1 where the lot's own step had a datum without a factor, else 0.
    """
    n = snap.n_lots
    lot_run = snap.lot_run
    has = lot_run >= 0
    r = lot_run[has]
    a = np.asarray(alloc, np.float64)[has]
    by_cause = np.zeros((n, len(CAUSES)))  # [kg CO2e]
    by_cause[:, :4] = own.lot_location_by_cause
    by_cause[has, :4] += own.run_location_by_cause[r] * a[:, None]
    by_cause[:, 4] = own.lot_transport
    supplier = own.lot_supplier if own.lot_supplier is not None else np.zeros(n)
    by_cause[:, 5] = supplier
    inbound = np.zeros(n)
    if own.run_transport is not None:
        inbound[has] = own.run_transport[r] * a
    by_cause[:, 4] += inbound
    market = own.lot_market + own.lot_transport + inbound + supplier
    market[has] += own.run_market[r] * a
    run_part = np.zeros(n)
    run_part[has] = own.run_location_by_cause[r].sum(axis=1) * a
    stage = np.zeros((n, len(LCA_STAGES)))
    stage[:, RAW] += inbound
    np.add.at(stage, (np.arange(n), own.lot_stage), own.lot_location_by_cause.sum(axis=1) + supplier)
    idx = np.flatnonzero(has)
    np.add.at(stage, (idx, own.run_stage[r]), run_part[has])
    stage[:, DISTRIBUTION] += own.lot_transport
    out = np.empty((n, len(COLUMNS)))
    inv_m = np.divide(1.0, snap.lot_mass_kg, out=np.zeros(n), where=snap.lot_mass_kg > 0)
    out[:, _LOC] = by_cause.sum(axis=1) * inv_m
    out[:, _MKT] = market * inv_m
    out[:, _STAGE0:_CAUSE0] = stage * inv_m[:, None]
    out[:, _CAUSE0:_INC] = by_cause * inv_m[:, None]
    incomplete = ~own.lot_complete
    incomplete[has] |= ~own.run_complete[r]
    out[:, _INC] = incomplete
    return out


def footprint(snap: Snapshot, own: OwnEmissions, alloc: F64) -> tuple[F64, F64]:
    """Own burden and cradle-to-gate footprint of every lot, float64[N, K] each [kg CO2e kg⁻¹].

    ``snap`` must carry the same allocation as ``alloc`` (see :func:`reallocated`). The footprint is
    :func:`lichain.analysis.propagate.intensity` of :func:`own_per_kg`: one pass for all :data:`COLUMNS`.
    """
    o = own_per_kg(snap, own, alloc)
    return o, intensity(snap, o)


def _closure_rows(snap: Snapshot, lots: I32) -> tuple[I64, I32, I64]:
    """Sub-CSR of the upward-closed, ascending ``lots``: indptr, local src, and edge positions in ``snap``."""
    starts = snap.up_indptr[lots]
    lens = snap.up_indptr[lots + 1] - starts
    indptr = np.zeros(lots.shape[0] + 1, np.int64)
    np.cumsum(lens, out=indptr[1:])
    pos = np.repeat(starts - indptr[:-1], lens) + np.arange(int(indptr[-1]))
    src = np.searchsorted(lots, snap.up_src[pos]).astype(np.int32)
    return indptr, src, pos


def upstream_breakdown(snap: Snapshot, own: F64, root: int, labels: npt.ArrayLike,
                       lots: npt.NDArray[np.integer[Any]] | None = None) -> dict[int, float]:
    """Split lot ``root``'s footprint by a label of the lot where each burden arose (e.g. its site).

    Parameters
    ----------
    snap : Snapshot
        The lot graph (with the allocation the footprint used).
    own : float64[N]
        Own burden per kg of every lot (one column of :func:`own_per_kg`) [kg CO2e kg⁻¹].
    root : int
        Lot number.
    labels : int array [N], or [len(lots)] with ``lots``
        Group code of every lot (e.g. ``snap.lot_site``), or of each lot of ``lots``.
    lots : int array, optional
        The root's upstream closure as :func:`lichain.analysis.trace.trace_up` gives it (ascending), when the
        caller has it already: nothing of the ledger's size is then read or allocated.

    Returns
    -------
    dict
        ``{label: kg CO2e per kg of root}``, summing to ``footprint[root]``: the propagation kernel run with one
        column per label over the root's upstream closure (:func:`lichain.analysis.trace.trace_up`), so a
        burden reaches the root along exactly the weighted paths of the whole-ledger pass.
    """
    closure: I32 = trace_up(snap, root).lots if lots is None else np.asarray(lots, np.int32)
    lab = np.asarray(labels)[closure] if lots is None else np.asarray(labels)
    indptr, src, pos = _closure_rows(snap, closure)
    uniq, col = np.unique(lab, return_inverse=True)
    o = np.zeros((closure.shape[0], uniq.shape[0]))
    o[np.arange(closure.shape[0]), col.reshape(-1)] = np.asarray(own, np.float64)[closure]
    x = propagate(indptr, src, np.ascontiguousarray(snap.up_w[pos]), o)
    return {int(u): float(v) for u, v in zip(uniq, x[-1], strict=True)}


@dataclass(frozen=True, slots=True)
class CamEnergy:
    """Specific capacity [mAh g⁻¹] and average voltage [V] of a cathode active material, with their source."""

    capacity_mah_per_g: float
    voltage_v: float
    source: str

    @property
    def kwh_per_kg(self) -> float:
        """Specific energy of the CAM [kWh kg⁻¹] = mAh g⁻¹ × V / 1000."""
        return self.capacity_mah_per_g * self.voltage_v / 1000.0


_CATENAX = ("capacity from the Catena-X io.catenax.pcf_for_battery_component_supplier 1.0.0 example payload "
            "(\"specific capacity of NMC811: 200 mAh/g\")")
_TYPICAL = "a typical value, not a measurement of this material: give the measured values to replace it"
#: Default capacity and voltage per CAM formula (spaces removed), used only when none are given; each says so.
#: Pass the measured values of the material (first-discharge capacity at the cell maker's cut-off voltages).
CAM_DEFAULTS: dict[str, CamEnergy] = {
    "LiNi0.8Co0.1Mn0.1O2": CamEnergy(200.0, 3.7, f"{_CATENAX}; average voltage 3.7 V vs graphite: {_TYPICAL}"),
    "LiNi0.6Co0.2Mn0.2O2": CamEnergy(175.0, 3.7, f"capacity 175 mAh/g at 4.3 V and average voltage 3.7 V: {_TYPICAL}"),
    "LiNi0.5Co0.2Mn0.3O2": CamEnergy(160.0, 3.7, f"capacity 160 mAh/g at 4.3 V and average voltage 3.7 V: {_TYPICAL}"),
    "LiFePO4": CamEnergy(160.0, 3.3, f"capacity 160 mAh/g (of 170 mAh/g theoretical) and average voltage 3.3 V: "
                                     f"{_TYPICAL}"),
}


def cam_energy(formula: str | None) -> CamEnergy | None:
    """Default :class:`CamEnergy` of a CAM formula, or None when there is none."""
    return CAM_DEFAULTS.get((formula or "").replace(" ", ""))


def per_kwh(kg_co2e_per_kg: float, capacity_mah_per_g: float, voltage_v: float) -> float:
    """Footprint per kWh of the CAM's nominal energy [kg CO2e kWh⁻¹] = per kg ÷ (mAh g⁻¹ × V / 1000).

    Parameters
    ----------
    kg_co2e_per_kg : float
        Cradle-to-gate footprint of the CAM [kg CO2e kg⁻¹].
    capacity_mah_per_g : float
        Specific discharge capacity [mAh g⁻¹] (NCM811 ≈ 200).
    voltage_v : float
        Average discharge voltage [V] (NCM811 vs graphite ≈ 3.7).

    Returns
    -------
    float
        [kg CO2e per kWh of nominal energy]; e.g. 25 kg kg⁻¹ at 200 mAh g⁻¹ × 3.7 V (0.74 kWh kg⁻¹) gives 33.8.
        This is per kWh of *capacity*; the Art. 7 functional unit is the energy delivered over the service life
        (draft delegated act Ares(2024)3131389, not adopted), which the cell maker derives further.
    """
    if capacity_mah_per_g <= 0 or voltage_v <= 0:
        raise ValueError("capacity and voltage must be positive")
    return kg_co2e_per_kg / (capacity_mah_per_g * voltage_v / 1000.0)


def column(name: str) -> int:
    """Index of a column of :data:`COLUMNS`."""
    return COLUMNS.index(name)


def named(row: Sequence[float] | F64, prefix: str) -> Mapping[str, float]:
    """The columns of ``row`` whose name starts with ``prefix`` (``"stage:"``, ``"cause:"``), by short name."""
    return {c[len(prefix):]: float(row[i]) for i, c in enumerate(COLUMNS) if c.startswith(prefix)}
