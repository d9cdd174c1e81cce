"""Tests for lichain.core.chemistry: formula parsing, CIAAW weights, molar masses, mass fractions.

Expected numbers are computed here by hand from atomic weights written in this file, not from the module's table.
Source of every weight below: CIAAW 2021 standard atomic weights (https://www.ciaaw.org/atomic-weights.htm;
Prohaska et al., Pure Appl. Chem. 94 (2022) 573, doi:10.1515/pac-2019-0603), conventional values where CIAAW gives
an interval; the first eight are also listed in docs/reference/regulation-and-factors.md §5.1.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lichain.core.chemistry import ATOMIC_WEIGHTS, Formula, mass_fractions, molar_mass, parse_formula
from lichain.core.errors import FormulaError, LichainError

D = Decimal
NI, CO, MN = D("58.6934"), D("58.933194"), D("54.938043")
LI, OX, H, S, NA = D("6.94"), D("15.999"), D("1.008"), D("32.06"), D("22.98976928")
C, P, CA, AL = D("12.011"), D("30.973761998"), D("40.078"), D("26.9815384")
WATER = 2 * H + OX  # 18.015


def pct(x: Decimal, places: int = 2) -> Decimal:
    """Mass fraction as a percentage rounded like the reference tables."""
    return round(100 * x, places)


# -- atomic weights ----------------------------------------------------------------------------------------


def test_atomic_weights_are_ciaaw_2021_values() -> None:
    expected = {"Ni": NI, "Co": CO, "Mn": MN, "Li": LI, "O": OX, "H": H, "S": S, "Na": NA, "C": C, "P": P,
                "Ca": CA, "Al": AL, "Fe": D("55.845"), "Cu": D("63.546"), "Zr": D("91.224"), "W": D("183.84"),
                "F": D("18.998403162"), "Mg": D("24.305"), "Cl": D("35.45"), "Bi": D("208.98040")}  # fmt: skip
    for symbol, value in expected.items():
        assert ATOMIC_WEIGHTS[symbol] == value, symbol
        assert isinstance(ATOMIC_WEIGHTS[symbol], Decimal)


def test_atomic_weights_cover_every_stable_element_up_to_bismuth() -> None:
    # Z = 1..83 except Tc (43) and Pm (61), which have no standard atomic weight: 81 elements.
    no_weight = {"Tc", "Pm"}
    assert len(set(ATOMIC_WEIGHTS) - {"Th", "Pa", "U"}) == 83 - len(no_weight)
    assert not no_weight & set(ATOMIC_WEIGHTS)
    with pytest.raises(TypeError):
        ATOMIC_WEIGHTS["Xx"] = D(1)  # type: ignore[index]


# -- reference §5.2 numbers ----------------------------------------------------------------------------------


def test_ncm811_cam_molar_mass_and_mass_fractions() -> None:
    m_ni, m_co, m_mn = D("0.8") * NI, D("0.1") * CO, D("0.1") * MN  # 46.95472, 5.8933194, 5.4938043
    m = LI + m_ni + m_co + m_mn + 2 * OX  # 97.2798437
    assert m == D("97.2798437")
    assert molar_mass("LiNi0.8Co0.1Mn0.1O2") == m
    w = mass_fractions("LiNi0.8Co0.1Mn0.1O2")
    assert [pct(w[e]) for e in ("Ni", "Co", "Mn", "Li")] == [D("48.27"), D("6.06"), D("5.65"), D("7.13")]
    assert pct(w["Ni"] + w["Co"] + w["Mn"]) == D("59.97")
    assert abs(w["Ni"] - m_ni / m) < D("1e-25")
    assert abs(w["O"] - 2 * OX / m) < D("1e-25")


def test_ncm811_pcam_molar_mass_and_mass_fractions() -> None:
    m = D("0.8") * NI + D("0.1") * CO + D("0.1") * MN + 2 * (OX + H)  # 92.3558437
    assert molar_mass("Ni0.8Co0.1Mn0.1(OH)2") == m
    assert round(m, 3) == D("92.356")
    w = mass_fractions("Ni0.8Co0.1Mn0.1(OH)2")
    assert [pct(w[e]) for e in ("Ni", "Co", "Mn")] == [D("50.84"), D("6.38"), D("5.95")]
    assert pct(w["Ni"] + w["Co"] + w["Mn"]) == D("63.17")


@pytest.mark.parametrize(
    ("formula", "hand_molar_mass", "metal", "ref_molar_mass", "ref_pct"),
    [
        ("NiSO4·6H2O", NI + S + 4 * OX + 6 * WATER, "Ni", D("262.84"), D("22.33")),
        ("CoSO4·7H2O", CO + S + 4 * OX + 7 * WATER, "Co", D("281.09"), D("20.97")),
        ("MnSO4·H2O", MN + S + 4 * OX + WATER, "Mn", D("169.01"), D("32.51")),
        ("LiOH·H2O", LI + OX + H + WATER, "Li", D("41.96"), D("16.54")),
        ("Li2CO3", 2 * LI + C + 3 * OX, "Li", D("73.89"), D("18.79")),
    ],
)
def test_salts_of_reference_5_2(
    formula: str, hand_molar_mass: Decimal, metal: str, ref_molar_mass: Decimal, ref_pct: Decimal
) -> None:
    assert molar_mass(formula) == hand_molar_mass
    assert round(hand_molar_mass, 2) == ref_molar_mass
    w = mass_fractions(formula)
    assert pct(w[metal]) == ref_pct
    assert abs(sum(w.values(), D(0)) - 1) < D("1e-25")


# -- grammar -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["NiSO4·6H2O", "NiSO4•6H2O", "NiSO4⋅6H2O", "NiSO4*6H2O", "NiSO4.6H2O", "NiSO4 · 6H2O", "NiSO4(H2O)6"],
)
def test_hydrate_separators_are_equivalent(text: str) -> None:
    assert dict(parse_formula(text).counts) == {"Ni": 1, "S": 1, "O": 10, "H": 12}


@pytest.mark.parametrize(
    ("text", "counts"),
    [
        # '.' followed by a letter or bracket: hydrate separator
        ("MnSO4.H2O", {"Mn": 1, "S": 1, "O": 5, "H": 2}),
        ("LiOH.H2O", {"Li": 1, "O": 2, "H": 3}),
        ("K2SO4.Al2(SO4)3.24H2O", {"K": 2, "S": 4, "O": 40, "Al": 2, "H": 48}),
        # '.' followed by coefficient + H2O at the end: hydrate separator
        ("Na2CO3.10H2O", {"Na": 2, "C": 1, "O": 13, "H": 20}),
        ("CaSO4.0.5H2O", {"Ca": 1, "S": 1, "O": D("4.5"), "H": 1}),
        ("CaSO4·0.5H2O", {"Ca": 1, "S": 1, "O": D("4.5"), "H": 1}),
        # '.' between digits otherwise: decimal point
        ("LiNi0.8Co0.1Mn0.1O2", {"Li": 1, "Ni": D("0.8"), "Co": D("0.1"), "Mn": D("0.1"), "O": 2}),
        (
            "Li1.2Mn0.54Ni0.13Co0.13O2",
            {"Li": D("1.2"), "Mn": D("0.54"), "Ni": D("0.13"), "Co": D("0.13"), "O": 2},
        ),
        ("Na2.5Fe1.75(SO4)3", {"Na": D("2.5"), "Fe": D("1.75"), "S": 3, "O": 12}),
        (
            "Li1.04Ni0.8Co0.1Mn0.1O2",
            {"Li": D("1.04"), "Ni": D("0.8"), "Co": D("0.1"), "Mn": D("0.1"), "O": 2},
        ),
        # brackets, nesting, leading coefficient
        ("Ca3(PO4)2", {"Ca": 3, "P": 2, "O": 8}),
        ("Ni0.8Co0.1Mn0.1(OH)2", {"Ni": D("0.8"), "Co": D("0.1"), "Mn": D("0.1"), "O": 2, "H": 2}),
        ("K4[Fe(CN)6]", {"K": 4, "Fe": 1, "C": 6, "N": 6}),
        ("Al2((SO4)3)2", {"Al": 2, "S": 6, "O": 24}),
        ("Ni(OH)0.5{CO3}0.75", {"Ni": 1, "O": D("2.75"), "H": D("0.5"), "C": D("0.75")}),
        ("2H2O", {"H": 4, "O": 2}),
        ("CoSO4·7H2O", {"Co": 1, "S": 1, "O": 11, "H": 14}),
    ],
)
def test_parse_counts(text: str, counts: dict[str, Decimal | int]) -> None:
    assert dict(parse_formula(text).counts) == counts


def test_ca3po42_molar_mass_by_hand() -> None:
    assert molar_mass("Ca3(PO4)2") == 3 * CA + 2 * (P + 4 * OX)  # 310.173523996


def test_formula_value_object() -> None:
    f = parse_formula("NiSO4·6H2O")
    assert isinstance(f, Formula)
    assert f.text == str(f) == "NiSO4·6H2O"
    assert list(f.counts) == ["Ni", "S", "O", "H"]  # order of first appearance
    assert f == parse_formula("NiSO4·6H2O")
    assert hash(f) == hash(parse_formula("NiSO4·6H2O"))
    with pytest.raises(TypeError):
        f.counts["Ni"] = D(2)  # type: ignore[index]
    with pytest.raises(AttributeError):
        f.text = "x"  # type: ignore[misc]
    assert molar_mass(f) == molar_mass("NiSO4·6H2O")
    assert mass_fractions(f) == mass_fractions("NiSO4.6H2O")


def test_non_string_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        parse_formula(42)  # type: ignore[arg-type]


# -- malformed formulas --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Xx2", ["unknown element symbol 'Xx'", "position 0"]),
        ("NiSO4)", ["unmatched ')'", "position 5"]),
        ("Ni(", ["unclosed '('", "position 2"]),
        ("", ["empty formula"]),
        ("   ", ["empty formula"]),
        ("Ni-2", ["unexpected character '-'", "position 2"]),
        ("NiSO4··H2O", ["empty component", "'·'", "position 6"]),
        ("NiSO4·", ["ends with a hydrate separator", "position 5"]),
        ("Ni.8Co.2(OH)2", ["'.'", "position 2"]),
        ("(Ni]", ["bracket '(' opened at position 0 is closed by ']'", "position 3"]),
        ("Ni()", ["empty brackets", "position 2"]),
        ("Ni0", ["zero subscript", "position 2"]),
        ("nio", ["lower-case 'n'", "position 0"]),
        ("H 2O", ["unexpected character ' '", "position 1"]),
        ("Ni(SO4·H2O)", ["inside brackets", "position 6"]),
        ("NiSO4·6", ["expected an element symbol", "position 7"]),
        ("Tc2O7", ["unknown element symbol 'Tc'", "position 0"]),
        ("H₂O", ["unexpected character '₂'", "position 1"]),
    ],
)
def test_malformed_formula_raises_located_error(text: str, expected: list[str]) -> None:
    with pytest.raises(FormulaError) as info:
        parse_formula(text)
    message = str(info.value)
    for part in expected:
        assert part in message, message
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, LichainError)


# -- properties ----------------------------------------------------------------------------------------------

_SYMBOLS = sorted(ATOMIC_WEIGHTS)
# Counts 0.001 .. 99999 with up to 3 decimals, always written out ("O1", not "O"): with an explicit count no
# generated text can end in "<digits>.<n>H2O", the one place where a '.' between digits is a hydrate separator.
_counts = st.builds(lambda n, k: D(n).scaleb(-k), st.integers(1, 99_999), st.integers(0, 3))
_pairs = st.lists(st.tuples(st.sampled_from(_SYMBOLS), _counts), min_size=1, max_size=12)


def _render(pairs: list[tuple[str, Decimal]]) -> str:
    return "".join(f"{symbol}{format(count, 'f')}" for symbol, count in pairs)


def _expected_molar_mass(pairs: list[tuple[str, Decimal]]) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 60
        return sum((count * ATOMIC_WEIGHTS[symbol] for symbol, count in pairs), D(0))


@given(_pairs)
def test_property_molar_mass_is_sum_of_count_times_weight_and_fractions_sum_to_one(
    pairs: list[tuple[str, Decimal]],
) -> None:
    text = _render(pairs)
    assert molar_mass(text) == _expected_molar_mass(pairs)
    fractions = mass_fractions(text)
    assert set(fractions) == {symbol for symbol, _ in pairs}
    assert all(0 < w <= 1 for w in fractions.values())
    assert abs(sum(fractions.values(), D(0)) - 1) < D("1e-20")


@given(_pairs, _pairs, st.integers(1, 12), _counts)
def test_property_groups_and_hydrates_scale_counts(
    left: list[tuple[str, Decimal]], right: list[tuple[str, Decimal]], k: int, coefficient: Decimal
) -> None:
    a, b = _render(left), _render(right)
    m_a, m_b = _expected_molar_mass(left), _expected_molar_mass(right)
    with localcontext() as ctx:
        ctx.prec = 60
        grouped, hydrate = k * m_a, m_a + coefficient * m_b
    assert molar_mass(f"({a}){k}") == grouped
    assert molar_mass(f"{a}·{format(coefficient, 'f')}{b}") == hydrate
