"""Use case: design a recipe and price it with the footprint and recycled content of given lots or suppliers.

Why here: the stoichiometry is pure (:mod:`lichain.core.recipe_design`); what a recipe would *carry* depends on
the inputs' origin — a ledger lot (its recorded assay, its footprint and recycled shares as the ledger computes
them), a supplier site (the mass-weighted figures of its lots of that material), or a specification (assay,
kg CO2e/kg and recycled shares given in a file). The recipe is then laid out as a two-run chain (inputs → pCAM →
CAM, per kg CAM) and solved by the ledger's own kernels: :func:`lichain.analysis.propagate.intensity` for the
footprint and :func:`lichain.analysis.shares.shares` for the element-weighted recycled content. Nothing is
written to the ledger.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from lichain.analysis.arrays import LedgerArrays
from lichain.analysis.propagate import intensity
from lichain.analysis.scenario import recycled_of
from lichain.analysis.shares import shares
from lichain.analysis.snapshot import Snapshot
from lichain.core.errors import Problem, RecipeError, ValidationFailed
from lichain.core.factors import default_library
from lichain.core.recipe_design import Design, InputSpec, Line, design, parse_target
from lichain.storage.sql import SqlStore

__all__ = ["InputLine", "RecipeResult", "Source", "design_recipe", "read_spec"]


@dataclass(frozen=True, slots=True)
class Source:
    """Where an input's figures come from: ``kind`` lot | site | spec | factor | formula, and what it names."""

    kind: str
    ref: str
    kg_co2e_per_kg: float | None = None
    market_kg_co2e_per_kg: float | None = None
    recycled: dict[str, float] | None = None


@dataclass(frozen=True, slots=True)
class InputLine:
    """One input of the recipe: step, element supplied, name, assay [kg kg⁻¹], kg per kg of the step's product
    and per kg CAM, and its source."""

    step: str
    element: str
    name: str
    assay: float
    kg_per_kg_product: float
    kg_per_kg_cam: float
    source: Source


@dataclass(frozen=True, slots=True)
class RecipeResult:
    """A designed recipe with what it would carry.

    Footprints are kg CO2e per kg of pCAM or CAM (location- and market-based, cradle-to-gate of the inputs plus
    the steps' own burdens given); ``complete`` is False when some input had no footprint (counted as zero, named
    in ``missing``); recycled content is the element-mass-weighted recycled share [kg kg⁻¹] per element.
    """

    target: str
    family: str
    cam_formula: str
    pcam_formula: str
    dopants_ppm: dict[str, float]
    li_me_ratio: float
    pcam_yield: float
    cam_yield: float
    cam_molar_mass_g_per_mol: float
    pcam_molar_mass_g_per_mol: float
    pcam_kg_per_kg_cam: float
    inputs: tuple[InputLine, ...]
    cam_mass_fractions: dict[str, float]
    pcam_kg_co2e_per_kg: float
    cam_kg_co2e_per_kg: float
    pcam_market_kg_co2e_per_kg: float
    cam_market_kg_co2e_per_kg: float
    own_kg_co2e_per_kg: dict[str, float]
    pcam_recycled: dict[str, float | None]
    cam_recycled: dict[str, float | None]
    complete: bool
    missing: tuple[str, ...]
    notes: tuple[str, ...]


NOTES = (
    "Stoichiometry from CIAAW 2021 atomic weights; the model and its sources are in docs/rnd.md.",
    "Footprints: inputs at their ledger footprint (lot), supplier average (site), specification, or factor "
    "library (reagents), laid out as inputs → pCAM → CAM and solved by the ledger's propagation kernel; the steps' "
    "own burdens are the ones given (default 0).",
    "Recycled content: element-mass-weighted recycled share of each element, from the inputs' recycled shares.",
)


def _number(v: Any, where: str, problems: list[Problem]) -> Fraction | None:
    try:
        if isinstance(v, bool) or not isinstance(v, int | float | str):
            raise ValueError
        return Fraction(Decimal(str(v)))
    except (ValueError, ArithmeticError):
        problems.append(Problem(where, f"not a number: {v!r}"))
        return None


def read_spec(path: str | Path) -> dict[str, Any]:
    """A recipe specification file (TOML): ``[recipe]`` defaults and ``[[input]]`` tables; refused located."""
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValidationFailed([Problem(str(p), f"cannot read a TOML recipe file: {exc}")]) from exc
    problems = [Problem(f"{p}:{k}", "unknown key; keys: recipe, input") for k in doc if k not in ("recipe", "input")]
    if problems:
        raise ValidationFailed(problems)
    return {"recipe": doc.get("recipe", {}), "input": doc.get("input", []), "path": str(p)}


class _Ledger:
    """The ledger's footprint and recycled shares, loaded once when an input names a lot or a site."""

    def __init__(self, store: SqlStore) -> None:
        from lichain.services.footprint import ledger_footprint
        from lichain.services.snapshot import load_snapshot

        self.lf = ledger_footprint(store)
        self.snap = load_snapshot(store).snapshot
        self.rec = {e: recycled_of(self.snap, e) for e in self.snap.elements}

    def lot(self, element: str, lot_id: str) -> tuple[InputSpec, Source]:
        from lichain.services.snapshot import lot_position

        i = lot_position(self.snap, lot_id)
        mat = self.snap.material_codes[int(self.snap.lot_material[i])]
        return self._figures(element, np.array([i]), mat, "lot", self.snap.lot_id(i))

    def site(self, element: str, text: str) -> tuple[InputSpec, Source]:
        site, _, material = text.partition(":")
        s = self.snap
        if site not in s.site_ids:
            raise RecipeError(f"unknown site {site!r}")
        k = s.element_index(element) if element in s.elements else None
        lots = s.lot_site == s.site_ids.index(site)
        if material:
            if material not in s.material_codes:
                raise RecipeError(f"unknown material {material!r}")
            lots &= s.lot_material == s.material_codes.index(material)
        elif k is not None:
            lots &= s.lot_assay[:, k] > 0
            mats = np.unique(s.lot_material[lots])
            if mats.size > 1:
                raise RecipeError(f"site {site} makes several materials with {element} ("
                                  f"{', '.join(s.material_codes[m] for m in mats)}): write @{site}:MATERIAL")
        idx = np.flatnonzero(lots)
        if not idx.size:
            raise RecipeError(f"site {site} has no lot{' of ' + material if material else ''} with {element}")
        mat = s.material_codes[int(s.lot_material[idx[0]])]
        return self._figures(element, idx, f"{mat} ({idx.size} lots, mass-weighted)", "site", site)

    def _figures(self, element: str, idx: np.ndarray, name: str, kind: str, ref: str) -> tuple[InputSpec, Source]:
        s = self.snap
        m = s.lot_mass_kg[idx]
        if element not in s.elements:
            raise RecipeError(f"{element} is not tracked by the ledger: give its input by formula or in a file")
        f = s.lot_assay[idx, s.element_index(element)]
        if not (f > 0).any():
            raise RecipeError(f"{name} holds no {element}")
        assay = Fraction(float((m * f).sum() / m.sum())) if idx.size > 1 else Fraction(round(float(f[0]) * 10**9),
                                                                                         10**9)
        x = self.lf.x[idx, :2]
        rec: dict[str, float] = {}
        for e, (v, d) in self.rec.items():
            w = m * s.lot_assay[idx, s.element_index(e)] * d[idx]
            if w.sum() > 0:
                rec[e] = float((w * np.nan_to_num(v[idx])).sum() / w.sum())
        return (InputSpec(element, name, assay),
                Source(kind, ref, float((m * x[:, 0]).sum() / m.sum()), float((m * x[:, 1]).sum() / m.sum()), rec))


def _spec_input(raw: Any, where: str, problems: list[Problem]) -> tuple[str, InputSpec, Source, str | None] | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("element"), str):
        problems.append(Problem(where, "an input is a table with element and name (or lot, or site)"))
        return None
    e = raw["element"]
    allowed = ("element", "name", "assay", "kg_co2e_per_kg", "market_kg_co2e_per_kg", "recycled", "lot", "site")
    problems += [Problem(f"{where}.{k}", f"unknown field; fields: {', '.join(allowed)}") for k in raw
                 if k not in allowed]
    ref = raw.get("lot") or (f"@{raw['site']}" if raw.get("site") else None)
    assay = _number(raw["assay"], f"{where}.assay", problems) if "assay" in raw else None
    fp = _number(raw["kg_co2e_per_kg"], f"{where}.kg_co2e_per_kg", problems) if "kg_co2e_per_kg" in raw else None
    mk = (_number(raw["market_kg_co2e_per_kg"], f"{where}.market_kg_co2e_per_kg", problems)
          if "market_kg_co2e_per_kg" in raw else fp)
    rec: dict[str, float] = {}
    for k, v in dict(raw.get("recycled", {})).items():
        n = _number(v, f"{where}.recycled.{k}", problems)
        if n is not None and not 0 <= n <= 1:
            problems.append(Problem(f"{where}.recycled.{k}", "a recycled share is within 0..1"))
        elif n is not None:
            rec[k] = float(n)
    name = str(raw.get("name") or ref or "")
    if not name:
        problems.append(Problem(f"{where}.name", "give the input's name (a formula gives its theoretical assay)"))
    return e, InputSpec(e, name, assay), Source("spec", where, None if fp is None else float(fp),
                                                None if mk is None else float(mk), rec), ref


def design_recipe(store: SqlStore | None, target: str, *, li_me: str | None = None, pcam_yield: str | None = None,
                  cam_yield: str | None = None, dopants: dict[str, str] | None = None,
                  inputs: dict[str, str] | None = None, spec: dict[str, Any] | None = None,
                  pcam_own: str | None = None, cam_own: str | None = None) -> RecipeResult:
    """Design the recipe and compute the footprint and recycled content it would carry.

    Parameters
    ----------
    store : SqlStore or None
        The ledger, needed when an input names a lot or a site.
    target : str
        NCM111…NCM955, NCA, LFP, or a layered formula (``LiNi0.88Co0.09Al0.03O2``).
    li_me, pcam_yield, cam_yield : str, optional
        Li/Me [mol mol⁻¹] (default 1.04) and step yields (default 1); a spec file's ``[recipe]`` gives defaults.
    dopants : dict, optional
        Element (Al, Zr, Ti, W) → ppm in the CAM.
    inputs : dict, optional
        Element → a lot id, ``@SITE`` or ``@SITE:MATERIAL`` (a supplier's lots, mass-weighted), or a formula
        (theoretical assay); dopant elements name the dopant's source.
    spec : dict, optional
        :func:`read_spec`'s content: ``[[input]]`` tables with element, name, assay, kg_co2e_per_kg, recycled.
    pcam_own, cam_own : str, optional
        Own burden of each step [kg CO2e per kg of its product]; default 0.

    Raises
    ------
    ValidationFailed
        With every located problem (unknown lot or site, bad number, bad target).
    """
    problems: list[Problem] = []
    r = dict((spec or {}).get("recipe", {}))
    src = str((spec or {}).get("path", "recipe"))
    try:
        tgt = parse_target(target or str(r.get("target", "")),
                           {**{str(k): str(v) for k, v in dict(r.get("dopants", {})).items()}, **(dopants or {})})
    except RecipeError as exc:
        raise ValidationFailed([Problem("--target", str(exc))]) from exc
    dop = {d for d, _ in tgt.dopants_ppm}
    host = {m for m, _ in tgt.metals} | ({"Fe", "P"} if tgt.family == "olivine" else set())

    def key(e: str) -> str:
        return f"dopant:{e}" if e in dop and e not in host else e

    chosen: dict[str, InputSpec] = {}
    sources: dict[str, Source] = {}
    ledger: _Ledger | None = None
    refs: list[tuple[str, str, str]] = []
    for i, raw in enumerate((spec or {}).get("input", [])):
        got = _spec_input(raw, f"{src}:input[{i}]", problems)
        if got is not None:
            e, s, so, ref = got
            chosen[key(e)], sources[key(e)] = s, so
            if ref:
                refs.append((f"{src}:input[{i}]", e, ref))
    refs += [(f"--input {e}", e, v) for e, v in (inputs or {}).items()]
    for where, e, v in refs:
        try:
            if v.startswith("@") or _is_lot(store, v):
                if store is None:
                    raise RecipeError("an input from the ledger needs a ledger (--db)")
                ledger = ledger or _Ledger(store)
                s, so = ledger.site(e, v[1:]) if v.startswith("@") else ledger.lot(e, v)
            else:
                name, _, assay = v.partition("@")
                if not _formula(name):
                    raise RecipeError(f"{v!r} is neither a lot of the ledger, nor @SITE[:MATERIAL], nor a formula")
                s, so = InputSpec(e, name, Fraction(Decimal(assay)) if assay else None), Source("formula", name)
                s.assay_of()
        except (RecipeError, KeyError, ArithmeticError, ValueError) as exc:
            problems.append(Problem(where, str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)))
            continue
        chosen[key(e)], sources[key(e)] = s, so
    if problems:
        raise ValidationFailed(problems)
    try:
        d = design(tgt, li_me or str(r.get("li_me", "1.04")), pcam_yield=pcam_yield or str(r.get("pcam_yield", 1)),
                   cam_yield=cam_yield or str(r.get("cam_yield", 1)), inputs=chosen)
        own = {"pcam": float(Decimal(pcam_own or str(r.get("pcam_kg_co2e_per_kg", 0)))),
               "cam": float(Decimal(cam_own or str(r.get("cam_kg_co2e_per_kg", 0))))}
    except (RecipeError, ArithmeticError, ValueError) as exc:
        raise ValidationFailed([Problem(src, str(exc))]) from exc
    return _price(d, sources, own)


def _formula(text: str) -> bool:
    from lichain.core.chemistry import parse_formula

    try:
        parse_formula(text)
    except ValueError:
        return False
    return True


def _is_lot(store: SqlStore | None, text: str) -> bool:
    if store is None:
        return False
    from lichain.services.query import canonical_lot_id
    from lichain.storage.queries import find_lot

    return (find_lot(store, text) or find_lot(store, canonical_lot_id(text))) is not None


def _source_of(line: Line, sources: dict[str, Source]) -> Source:
    """The input's figures: as chosen (lot, site, spec, formula), else a factor-library reagent, else none."""
    e = line.element
    k = e if line.step == "pcam" or e in ("Li", "O") else f"dopant:{e}"
    if k in sources:
        return sources[k]
    f = default_library().get(f"reagent:{line.name}")
    if f is not None and f.is_emission and f.per == "kg":
        return Source("factor", f.key, float(f.value), float(f.value), {})
    return Source("formula", line.name)


def _price(d: Design, sources: dict[str, Source], own: dict[str, float]) -> RecipeResult:
    """Lay the recipe out as inputs → pCAM → CAM per kg CAM and solve it with the engine's kernels."""
    pcam_in = list(d.pcam_lines)
    cam_in = [ln for ln in d.cam_lines if ln.element != "pCAM"]
    elements = tuple(dict.fromkeys([e for e, _ in d.cam_mass_fractions] + [ln.element for ln in pcam_in + cam_in
                                                                            if ln.element not in ("OH", "O")]))
    lines = pcam_in + cam_in
    n_in = len(lines)
    k_p, k_c = n_in, n_in + 1  # lot numbers: inputs, then pCAM, then CAM (creation order)
    pcam_kg = float(d.pcam_kg_per_kg_cam)
    mass = np.array([float(ln.kg) * (pcam_kg if ln.step == "pcam" else 1.0) for ln in lines] + [pcam_kg, 1.0])
    assay = np.zeros((n_in + 2, len(elements)))
    for i, ln in enumerate(lines):
        if ln.element in elements:
            assay[i, elements.index(ln.element)] = float(ln.assay)
    pcam_fr = dict(d.pcam_mass_fractions)
    for e, v in pcam_fr.items():
        assay[k_p, elements.index(e)] = float(v)
    for e, v in d.cam_mass_fractions:
        assay[k_c, elements.index(e)] = float(v)
    srcs = [_source_of(ln, sources) for ln in lines]
    arrays = LedgerArrays(
        elements=elements, lot_ids=[f"in{i}" for i in range(n_in)] + ["pCAM", "CAM"], lot_mass_kg=mass,
        lot_assay=assay, lot_run=np.array([-1] * n_in + [0, 1], np.int32), lot_site=np.full(n_in + 2, -1, np.int32),
        lot_material=np.full(n_in + 2, -1, np.int32), lot_stage=np.zeros(n_in + 2, np.int8),
        lot_origin=np.zeros(n_in + 2, np.int8), lot_time=np.arange(n_in + 2, dtype=np.int64),
        run_time=np.array([n_in, n_in + 1], np.int64), run_site=np.full(2, -1, np.int32),
        cons_run=np.array([0 if ln.step == "pcam" else 1 for ln in lines] + [1], np.int32),
        cons_lot=np.array([*range(n_in), k_p], np.int32), cons_kg=np.r_[mass[:n_in], pcam_kg],
        run_loss_kg=np.zeros((2, len(elements))))
    snap = Snapshot.build(arrays)
    o = np.zeros((n_in + 2, 2))
    missing = []
    for i, s in enumerate(srcs):
        if s.kg_co2e_per_kg is None:
            missing.append(f"{lines[i].name} ({lines[i].element}, {lines[i].step})")
        o[i] = (s.kg_co2e_per_kg or 0.0, s.market_kg_co2e_per_kg if s.market_kg_co2e_per_kg is not None
                else s.kg_co2e_per_kg or 0.0)
    o[k_p], o[k_c] = own["pcam"], own["cam"]
    x = intensity(snap, np.ascontiguousarray(o))
    reset = np.zeros(n_in + 2, np.bool_)
    reset[:n_in] = True
    rec_p: dict[str, float | None] = {}
    rec_c: dict[str, float | None] = {}
    for e in elements:
        vals = np.array([(s.recycled or {}).get(e, 0.0) for s in srcs] + [0.0, 0.0])
        sh = shares(snap, e, vals, reset)
        rec_p[e] = float(sh.values[k_p]) if sh.defined[k_p] else None
        rec_c[e] = float(sh.values[k_c]) if sh.defined[k_c] else None
    rows = tuple(InputLine(ln.step, ln.element, ln.name, float(ln.assay), float(ln.kg), float(mass[i]), srcs[i])
                 for i, ln in enumerate(lines))
    t = d.target
    return RecipeResult(
        t.name, t.family, d.cam_formula, d.pcam_formula, {e: float(v) for e, v in t.dopants_ppm},
        float(d.li_me_ratio), float(d.pcam_yield), float(d.cam_yield), float(d.cam_molar_mass),
        float(d.pcam_molar_mass), pcam_kg, rows, {e: float(v) for e, v in d.cam_mass_fractions},
        float(x[k_p, 0]), float(x[k_c, 0]), float(x[k_p, 1]), float(x[k_c, 1]), own,
        {e: v for e, v in rec_p.items() if e in pcam_fr}, rec_c, not missing, tuple(missing), NOTES)
