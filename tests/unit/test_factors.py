"""The shipped factor library and override precedence (site-and-period > site > period > global > default)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from lichain.core.errors import NotFoundError
from lichain.core.factors import (
    Factor,
    FactorLibrary,
    FactorProblem,
    FactorResolver,
    default_library,
    grid_keys,
    per_unit,
)
from lichain.core.model import FactorOverride, Site

JAN = datetime(2026, 1, 15, tzinfo=UTC)
FEB = datetime(2026, 2, 1, tzinfo=UTC)
MAR = datetime(2026, 3, 1, tzinfo=UTC)
APR = datetime(2026, 4, 1, tzinfo=UTC)


def test_library_ships_with_sources_versions_and_units() -> None:
    lib = default_library()
    assert len(lib) >= 113  # every row of the reference table, plus the added fuel/reagent/captive rows
    assert lib.version == "2026.11"
    keys = [f.key for f in lib]
    assert len({k.casefold() for k in keys}) == len(keys)
    for f in lib:
        assert f.source, f.key
        assert f.unit and f.version == lib.version, f.key
        assert f.value >= 0, f.key
        if f.low is not None and f.high is not None:
            assert f.low <= f.high, f.key
        assert f.key.split(":")[0] in {
            "grid", "residual", "captive", "generation", "fuel", "reagent", "process", "water", "material",
            "transport", "energy", "route", "recovery", "recycled-ratio"}, f.key


@pytest.mark.parametrize(("key", "value", "per"), [
    ("grid:CN-EAST", "0.5617", "kwh"),
    ("grid:CN", "0.582", "kwh"),
    ("grid:ID", "0.676", "kwh"),
    ("grid:world", "0.481", "kwh"),
    ("residual:CN", "0.5856", "kwh"),
    ("captive:coal", "0.995", "kwh"),
    ("generation:hydro", "0.026", "kwh"),
    ("fuel:natural_gas", "0.0656", "mj"),
    ("fuel:coal", "0.1108", "mj"),
    ("fuel:diesel", "0.0919", "mj"),
    ("reagent:NaOH", "1.50", "kg"),
    ("reagent:H2SO4", "0.182", "kg"),
    ("reagent:NH3", "3.9", "kg"),
    ("reagent:CaCO3", "0.4461", "kg"),
    ("material:NiSO4.6H2O:HPAL", "5.0", "kg"),
    ("transport:sea_container", "0.01612", "t-km"),
    ("transport:sea_bulk", "0.00353", "t-km"),
    ("transport:road", "0.07703", "t-km"),
    ("transport:rail", "0.02779", "t-km"),
])
def test_default_values_match_the_reference_table(key: str, value: str, per: str) -> None:
    f = default_library()[key]
    assert f.value == Decimal(value) and f.per == per and f.is_emission


def test_derived_rows_are_consistent_with_their_inputs() -> None:
    lib = default_library()
    # limestone used for neutralisation = quarrying + stoichiometric CO2 (44.009 / 100.086)
    assert lib["reagent:CaCO3"].value == lib["reagent:CaCO3:quarry"].value + lib["process:CaCO3-neutralisation"].value
    assert abs(Decimal("44.009") / Decimal("100.086") - Decimal("0.4397")) < Decimal("0.0001")
    # diesel per MJ: DESNZ 0.268022761 kg/kWh (net CV) / 3.6 MJ/kWh
    assert abs(Decimal("0.268022761") / Decimal("3.6") - lib["fuel:diesel:combustion"].value) < Decimal("0.00005")
    # lifecycle = combustion + WTT; WTT per MJ = 0.75203 kg/kg / (3.204 kg/kg / 0.268022761 kg/kWh × 3.6 MJ/kWh)
    ncv = Decimal("3.204") / Decimal("0.268022761") * Decimal("3.6")
    assert abs(lib["fuel:diesel:combustion"].value + Decimal("0.75203") / ncv - lib["fuel:diesel"].value) < Decimal(
        "0.0001")


def test_get_is_exact_then_case_insensitive_and_list_filters_by_prefix() -> None:
    lib = default_library()
    assert lib.get("grid:cn-east") is lib.get("grid:CN-EAST") is not None
    assert lib.get("grid:nowhere") is None and "grid:CN" in lib and "nope" not in lib
    with pytest.raises(NotFoundError):
        lib["grid:nowhere"]
    assert {f.key for f in lib.list("transport:sea")} >= {"transport:sea_bulk", "transport:sea_container"}
    assert all(f.key.startswith("grid:") for f in lib.list("GRID:"))
    assert lib.list() == tuple(lib)


def test_library_from_csv_rejects_duplicates_and_bad_numbers() -> None:
    head = "key,value,unit,low,high,basis,year,description,source,reference_key,version\n"
    with pytest.raises(ValueError, match="duplicate"):
        FactorLibrary.from_csv(head + "a:b,1,kg CO2e/kg,,,,,,s,,1\nA:B,2,kg CO2e/kg,,,,,,s,,1\n")
    with pytest.raises(ValueError, match="line 2"):
        FactorLibrary.from_csv(head + "a:b,one,kg CO2e/kg,,,,,,s,,1\n")


def test_per_unit_normalises_denominators() -> None:
    assert per_unit("kg CO2e/t·km") == per_unit("kgCO2e/t-km") == per_unit("kg CO2e/tkm") == "t-km"
    assert per_unit("kg CO2/kWh") == "kwh" and per_unit("kg CO2e/m³") == "m3" and per_unit("fraction") == ""


def test_grid_keys_most_specific_first() -> None:
    assert grid_keys(Site("R1", "R1", "refinery", "CN", "O", "CN-EAST")) == ("grid:CN-EAST", "grid:CN", "grid:world")
    assert grid_keys(Site("M1", "M1", "mine", "ID", "O")) == ("grid:ID", "grid:world")


def v(f: Factor | FactorProblem) -> Decimal:
    """The value of a resolved factor (fails the test on a problem)."""
    assert isinstance(f, Factor), f
    return f.value


def _o(value: str, site: str | None = None, start: datetime | None = None, end: datetime | None = None,
       key: str = "grid:CN-EAST", unit: str = "kg CO2/kWh") -> FactorOverride:
    return FactorOverride(key, Decimal(value), unit, f"test {value}", site, start, end)


def test_override_precedence_site_period_beats_site_beats_period_beats_global_beats_default() -> None:
    overrides = [
        _o("0.9", site="R1", start=FEB, end=MAR),  # site and period
        _o("0.8", site="R1"),  # site, any time
        _o("0.7", start=FEB, end=APR),  # period, every site
        _o("0.6"),  # every site, any time
    ]
    r = FactorResolver(overrides=overrides)

    def val(site: str | None, t: datetime | None) -> Decimal:
        return v(r.resolve("grid:CN-EAST", site=site, time=t))

    assert val("R1", FEB) == Decimal("0.9")  # valid_from is inclusive
    assert val("R1", MAR) == Decimal("0.8")  # valid_to is exclusive
    assert val("R1", JAN) == Decimal("0.8")
    assert val("R2", MAR) == Decimal("0.7")
    assert val("R2", APR) == Decimal("0.6")
    assert val(None, None) == Decimal("0.6")  # no time: only overrides without a period apply
    # the library default when no override applies
    assert v(FactorResolver().resolve("grid:CN-EAST")) == Decimal("0.5617")


def test_latest_recorded_wins_among_equals_and_the_source_is_named() -> None:
    r = FactorResolver(overrides=[_o("0.40", site="R1"), _o("0.45", site="R1")])
    f = r.resolve("grid:cn-east", site="R1", time=JAN)
    assert isinstance(f, Factor) and f.value == Decimal("0.45") and f.key == "grid:CN-EAST"
    assert f.version == "override" and "site R1" in f.source and "test 0.45" in f.source
    assert f.basis == default_library()["grid:CN-EAST"].basis


def test_site_override_of_a_less_specific_grid_key_beats_the_regional_default() -> None:
    r = FactorResolver(overrides=[_o("0.3", site="R1", key="grid:CN")])
    r1 = Site("R1", "R1", "refinery", "CN", "O", "CN-EAST")
    r2 = Site("R2", "R2", "refinery", "CN", "O", "CN-EAST")
    assert v(r.grid(r1, JAN)) == Decimal("0.3")
    assert v(r.grid(r2, JAN)) == Decimal("0.5617")
    # a global override of grid:CN does not displace the regional default
    g = FactorResolver(overrides=[_o("0.3", key="grid:CN")])
    assert v(g.grid(r2, JAN)) == Decimal("0.5617")
    assert v(g.grid(Site("X", "X", "refinery", "CN", "O"), JAN)) == Decimal("0.3")


def test_override_with_wrong_unit_is_ignored_and_reported() -> None:
    r = FactorResolver(overrides=[_o("9", key="reagent:NaOH", unit="kg CO2e/kWh")])
    assert v(r.resolve("reagent:NaOH")) == Decimal("1.50")
    assert len(r.problems) == 1 and r.problems[0].kind == "unit" and "reagent:NaOH" in r.problems[0].message


def test_override_can_define_a_new_key() -> None:
    r = FactorResolver(overrides=[_o("0.01", key="instrument:GO-2026-001", unit="kg CO2e/kWh")])
    f = r.resolve("instrument:GO-2026-001", site="R1", time=JAN)
    assert isinstance(f, Factor) and f.value == Decimal("0.01") and f.per == "kwh"


def test_missing_factor_is_a_value_naming_the_keys_tried() -> None:
    p = FactorResolver().resolve_first(("reagent:Unobtainium", "reagent:unobtainium"), site="R1")
    assert isinstance(p, FactorProblem) and p.kind == "missing"
    assert p.keys == ("reagent:Unobtainium", "reagent:unobtainium") and "R1" in p.message


def test_grid_falls_back_to_world_and_errors_when_nothing_fits() -> None:
    site = Site("Z", "Z", "mine", "ZZ", "O")
    world = FactorResolver().grid(site)
    assert isinstance(world, Factor) and world.key == "grid:world"
    empty = FactorResolver(FactorLibrary([]))
    p = empty.grid(site)
    assert isinstance(p, FactorProblem) and p.keys == ("grid:ZZ", "grid:world")


def test_boundaries_are_the_sorted_period_bounds() -> None:
    r = FactorResolver(overrides=[_o("1", start=MAR, end=APR), _o("2", start=FEB), _o("3")])
    assert r.boundaries() == (FEB, MAR, APR)


def test_factor_json_is_plain() -> None:
    d = default_library()["grid:CN"].to_json()
    assert d["value"] == 0.582 and d["low"] == 0.5366 and d["unit"] == "kg CO2e/kWh" and d["version"] == "2026.11"


def test_cli_factors_lists_the_library_as_json_and_table() -> None:
    import json

    import typer
    from typer.testing import CliRunner

    from lichain.entrypoints.cli_factors import register

    app = typer.Typer()
    register(app)

    @app.command()
    def _other() -> None:  # a second command keeps `factors` a subcommand
        """Placeholder."""

    r = CliRunner().invoke(app, ["factors", "--json", "--key", "transport:sea_"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert {d["key"] for d in rows} == {f.key for f in default_library().list("transport:sea_")}
    assert rows[0].keys() >= {"key", "value", "unit", "low", "high", "basis", "source", "version"}
    r = CliRunner().invoke(app, ["factors", "--key", "captive:"], env={"COLUMNS": "200"})
    assert r.exit_code == 0 and "captive:coal" in r.output and "0.995" in r.output and "2026.11" in r.output
