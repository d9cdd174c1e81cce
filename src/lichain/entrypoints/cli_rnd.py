"""The R&D commands: ``lichain chem`` (a formula's molar mass and mass fractions), ``lichain recipe`` (inputs per
kg of pCAM and CAM for a target composition, with the footprint and recycled content of given lots) and
``lichain scenario`` (what-if changes evaluated on the ledger's figures without writing to it).

Kept in its own module so the main CLI wires them in with one line (``cli_rnd.register(app)``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["chem", "register", "scenario"]

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


def _render(r: Any) -> None:
    from rich.table import Table

    from lichain.entrypoints.console import out

    out.print(f"[bold]scenario {r.scenario}[/bold] on the ledger at head {r.head[:16]}…; "
              f"{r.lots_reached:,} lots reached; nothing written", highlight=False)
    for a in r.applied:
        out.print("  " + ", ".join(f"{k}={v}" for k, v in a.items()), markup=False, highlight=False)
    t = Table(title="per material (mass-weighted; recycled shares element-mass weighted)")
    for c in ("material", "lots", "kg CO2e/kg base", "scenario", "delta", "change", *[f"{e} recycled" for e in
                                                                                         r.elements]):
        t.add_column(c, justify="left" if c == "material" else "right")
    for m in r.materials:
        f = m.kg_co2e_per_kg
        t.add_row(m.material, f"{m.lots:,}", _num(f.base), _num(f.scenario), _num(f.delta, "+.4f"), _pct(f.change),
                  *[f"{_num(m.recycled[e].base, '.3f')} → {_num(m.recycled[e].scenario, '.3f')}" for e in r.elements])
    out.print(t)
    if r.lots:
        t = Table(title=f"most changed lots ({len(r.lots)})")
        for c in ("lot", "material", "base", "scenario", "change"):
            t.add_column(c, justify="left" if c in ("lot", "material") else "right")
        for lot in r.lots:
            f = lot.kg_co2e_per_kg
            t.add_row(lot.lot, lot.material, _num(f.base), _num(f.scenario), _pct(f.change))
        out.print(t)
    for n in r.notes:
        out.print(f"[dim]{n}[/dim]", highlight=False)


def scenario(
    file: Annotated[Path, typer.Argument(help="Scenario file (TOML, or JSON with a .json suffix); see docs/rnd.md.")],
    db: Db = None,
    json_: Json = False,
    lots: Annotated[int, typer.Option("--lots", help="How many of the most changed lots to list.")] = 20,
) -> None:
    """What-if: a scenario's effect on every product's footprint and Art. 8 recycled shares (ledger unchanged).

    Changes: swap a supplier, change a site's electricity (grid mix or PPA), any emission factor, a run's recycled
    input share. Refused with every problem located (exit 1) when a change names something the ledger lacks.
    """
    from lichain.core.errors import LichainError, ValidationFailed
    from lichain.entrypoints.console import EXIT_REFUSED, emit, fail, store_for
    from lichain.services.scenario import evaluate_file

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


def register(app: typer.Typer) -> None:
    """Add ``chem`` and ``scenario`` (and ``recipe``) to ``app``."""
    app.command("chem")(chem)
    app.command("scenario")(scenario)
