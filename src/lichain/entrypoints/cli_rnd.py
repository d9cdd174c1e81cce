"""The R&D commands: ``lichain chem`` (a formula's molar mass and mass fractions), ``lichain recipe`` (inputs per
kg of pCAM and CAM for a target composition, with the footprint and recycled content of given lots) and
``lichain scenario`` (what-if changes evaluated on the ledger's figures without writing to it).

Kept in its own module so the main CLI wires them in with one line (``cli_rnd.register(app)``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["chem", "recipe", "register", "scenario"]

Db = Annotated[str | None, typer.Option("--db", help="Database URL or SQLite path (default: LICHAIN_DB or ./lichain.db).")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def chem(formula: str, json_: Json = False) -> None:
    """Molar mass (g/mol) and element mass fractions of a chemical formula."""
    from rich.table import Table

    from lichain.core.chemistry import mass_fractions, molar_mass
    from lichain.core.errors import LichainError
    from lichain.entrypoints.console import emit, fail, out

    try:
        mm, fr = molar_mass(formula), mass_fractions(formula)
    except LichainError as exc:
        fail(str(exc))
    data = {"formula": formula, "molar_mass_g_per_mol": float(mm),
            "mass_fractions": {e: float(v) for e, v in fr.items()}}
    if json_:
        emit(data)
        return
    t = Table(title=f"{formula}  M = {mm:.4f} g/mol")
    t.add_column("element")
    t.add_column("mass fraction", justify="right")
    for e, v in fr.items():
        t.add_row(e, f"{v:.6f}")
    out.print(t)


def _pct(v: float | None) -> str:
    return "" if v is None else f"{v:+.2%}"


def _num(v: float | None, fmt: str = ".4f") -> str:
    return "—" if v is None else format(v, fmt)


def _shares(d: dict[str, Any]) -> str:
    """The recycled shares that changed, as 'Ni 8.4% → 35.9%'."""
    out = []
    for e, v in d.items():
        if v.delta is not None and abs(v.delta) > 5e-5:
            out.append(f"{e} {v.base:.1%} → {v.scenario:.1%}")
    return ", ".join(out)


def _render(r: Any) -> None:
    from rich.table import Table

    from lichain.entrypoints.console import out

    out.print(f"[bold]scenario {r.scenario}[/bold] on the ledger at head {r.head[:16]}…; "
              f"{r.lots_reached:,} lots reached; nothing written", highlight=False)
    for a in r.applied:
        out.print("  " + ", ".join(f"{k}={v}" for k, v in a.items()), markup=False, highlight=False)
    t = Table(title="per material: kg CO2e/kg (mass-weighted, location-based), recycled shares that change")
    for c in ("material", "lots", "base", "scenario", "change", "recycled"):
        t.add_column(c, justify="left" if c in ("material", "recycled") else "right")
    for m in r.materials:
        f = m.kg_co2e_per_kg
        t.add_row(m.material, f"{m.lots:,}", _num(f.base), _num(f.scenario), _pct(f.change), _shares(m.recycled))
    out.print(t)
    if r.lots:
        from lichain.entrypoints.tables import Col, print_table

        rows = [[lot.lot, lot.material, _num(lot.kg_co2e_per_kg.base), _num(lot.kg_co2e_per_kg.scenario),
                 _pct(lot.kg_co2e_per_kg.change)] for lot in r.lots]
        print_table(out, [Col("lot", "id"), Col("material"), Col("base", "num"), Col("scenario", "num"),
                          Col("change", "num")], rows, title="most changed lots (kg CO2e/kg)",
                    total=r.lots_reached, how="--lots N for more")
    for n in r.notes:
        out.print(f"[dim]{n}[/dim]", highlight=False)


def scenario(
    file: Annotated[Path, typer.Argument(help="Scenario file (TOML, or JSON with a .json suffix); see docs/rnd.md.")],
    db: Db = None,
    json_: Json = False,
    lots: Annotated[int, typer.Option("--lots", help="How many of the most changed lots to list.")] = 20,
    write_example: Annotated[bool, typer.Option("--write-example", help="Write an example scenario (the demo's "
                                                "names) to FILE instead of evaluating it.")] = False,
) -> None:
    """What-if: a scenario's effect on every product's footprint and Art. 8 recycled shares (ledger unchanged).

    Changes: swap a supplier, change a site's electricity (grid mix or PPA), any emission factor, a run's recycled
    input share. Refused with every problem located (exit 1) when a change names something the ledger lacks.
    """
    from lichain.core.errors import LichainError, ValidationFailed
    from lichain.entrypoints.console import EXIT_REFUSED, emit, fail, store_for
    from lichain.services.scenario import evaluate_file

    if write_example:
        _write_example(file)
        return
    try:
        r = evaluate_file(store_for(db), file, lots=lots)
    except ValidationFailed as exc:
        fail("; ".join(str(p) for p in exc.problems), EXIT_REFUSED)
    except LichainError as exc:
        fail(str(exc))
    if json_:
        emit(r)
    else:
        _render(r)


def _write_example(file: Path) -> None:
    from importlib import resources

    from lichain.entrypoints.console import fail, out

    if file.exists():
        fail(f"{file} exists: not overwritten")
    text = resources.files("lichain").joinpath("data/scenario-example.toml").read_text(encoding="utf-8")
    file.write_text(text, encoding="utf-8")
    out.print(f"example scenario written to {file} (edit it, then: lichain scenario {file})", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``chem`` and ``scenario`` (and ``recipe``) to ``app``."""
    app.command("chem")(chem)
    app.command("recipe")(recipe)
    app.command("scenario")(scenario)


def _pairs(items: list[str] | None, what: str) -> dict[str, str]:
    from lichain.entrypoints.console import fail

    out: dict[str, str] = {}
    for item in items or []:
        k, sep, v = item.partition("=")
        if not sep or not k.strip() or not v.strip():
            fail(f"{what} {item!r}: write ELEMENT=VALUE")
        out[k.strip()] = v.strip()
    return out


def _render_recipe(r: Any) -> None:

    from lichain.entrypoints.console import out

    dop = ", ".join(f"{e} {v:g} ppm" for e, v in r.dopants_ppm.items())
    out.print(f"[bold]{r.cam_formula}[/bold]{' + ' + dop if dop else ''} from {r.pcam_formula}; Li/Me "
              f"{r.li_me_ratio:g}, yields pCAM {r.pcam_yield:g} and CAM {r.cam_yield:g}", highlight=False)
    from lichain.entrypoints.tables import Col, elide_middle, print_table

    rows = []
    for ln in r.inputs:
        s = ln.source
        origin = s.kind if s.kind in ("formula", "spec") else f"{s.kind} {elide_middle(s.ref, 40)}"
        rows.append([ln.step, ln.element, ln.name, f"{ln.assay:.4f}", f"{ln.kg_per_kg_product:.4f}",
                     f"{ln.kg_per_kg_cam:.4f}", "—" if s.kg_co2e_per_kg is None else f"{s.kg_co2e_per_kg:.3f}",
                     origin])
    print_table(out, [Col("step"), Col("for"), Col("input"), Col("assay", "num"), Col("kg/kg step", "num"),
                      Col("kg/kg CAM", "num"), Col("kg CO2e/kg", "num"), Col("from")], rows,
                title="inputs (assay: mass fraction of the element it supplies)")
    out.print(f"pCAM per kg CAM: {r.pcam_kg_per_kg_cam:.4f} kg", highlight=False)
    out.print(f"footprint: pCAM {r.pcam_kg_co2e_per_kg:.3f}, CAM {r.cam_kg_co2e_per_kg:.3f} kg CO2e/kg "
              f"(market-based {r.pcam_market_kg_co2e_per_kg:.3f}, {r.cam_market_kg_co2e_per_kg:.3f})"
              + ("" if r.complete else " — incomplete, without: " + "; ".join(r.missing)), highlight=False)
    rec = ", ".join(f"{e} {v:.1%}" for e, v in r.cam_recycled.items() if v is not None)
    out.print(f"recycled content of the CAM (element-mass weighted): {rec}", highlight=False)


def recipe(
    target: Annotated[str, typer.Option("--target", help="NCM111/523/622/811/955, NCA, LFP, or a layered formula "
                                        "such as LiNi0.88Co0.09Al0.03O2.")] = "",
    li_me: Annotated[str | None, typer.Option("--li-me", help="Li fed per mol of host metal (default 1.04).")] = None,
    pcam_yield: Annotated[str | None, typer.Option("--pcam-yield", help="Metal yield of co-precipitation, 0..1 "
                                                   "(default 1).")] = None,
    cam_yield: Annotated[str | None, typer.Option("--cam-yield", help="Metal yield of calcination, 0..1 "
                                                  "(default 1).")] = None,
    dopant: Annotated[list[str] | None, typer.Option("--dopant", help="ELEMENT=PPM in the CAM (Al, Zr, Ti, W); "
                                                     "repeatable.")] = None,
    input_: Annotated[list[str] | None, typer.Option("--input", help="ELEMENT=LOT (a ledger lot: its assay, "
                                                     "footprint, recycled shares), ELEMENT=@SITE[:MATERIAL] (a "
                                                     "supplier's lots, mass-weighted) or ELEMENT=FORMULA[@ASSAY]; "
                                                     "repeatable.")] = None,
    spec: Annotated[Path | None, typer.Option("--spec", help="TOML file: [recipe] defaults and [[input]] "
                                              "specifications (assay, kg_co2e_per_kg, recycled).")] = None,
    pcam_own: Annotated[str | None, typer.Option("--pcam-own", help="Own burden of co-precipitation "
                                                 "[kg CO2e/kg pCAM] (default 0).")] = None,
    cam_own: Annotated[str | None, typer.Option("--cam-own", help="Own burden of calcination [kg CO2e/kg CAM] "
                                                "(default 0).")] = None,
    db: Db = None,
    json_: Json = False,
) -> None:
    """Recipe design: inputs per kg pCAM and per kg CAM for a target, with the footprint and recycled content the
    recipe would carry when made from the given lots, suppliers or specifications (nothing is written)."""
    from lichain.core.errors import LichainError, ValidationFailed
    from lichain.entrypoints.console import EXIT_REFUSED, emit, fail, store_for
    from lichain.services.recipe import design_recipe, read_spec

    inputs = _pairs(input_, "--input")
    spec_doc = read_spec(spec) if spec else None
    from_ledger = any(not _formula_like(v) for v in inputs.values()) or any(
        isinstance(i, dict) and ("lot" in i or "site" in i) for i in (spec_doc or {}).get("input", []))
    try:
        store = store_for(db) if from_ledger else None
        r = design_recipe(store, target, li_me=li_me, pcam_yield=pcam_yield, cam_yield=cam_yield,
                          dopants=_pairs(dopant, "--dopant"), inputs=inputs,
                          spec=spec_doc, pcam_own=pcam_own, cam_own=cam_own)
    except ValidationFailed as exc:
        fail("; ".join(str(p) for p in exc.problems), EXIT_REFUSED)
    except LichainError as exc:
        fail(str(exc))
    if json_:
        emit(r)
    else:
        _render_recipe(r)


def _formula_like(v: str) -> bool:
    """A formula (optionally @assay), not a lot id or a site."""
    from lichain.core.chemistry import parse_formula
    from lichain.core.errors import LichainError

    if v.startswith("@"):
        return False
    try:
        parse_formula(v.partition("@")[0])
        return True
    except (LichainError, ValueError):
        return False
