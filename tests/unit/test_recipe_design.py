"""Tests for lichain.core.recipe_design against hand arithmetic with cited atomic weights.

Atomic weights: CIAAW 2021 standard atomic weights (https://www.ciaaw.org/atomic-weights.htm; T. Prohaska et al.,
Pure Appl. Chem. 94 (2022) 573, doi:10.1515/pac-2019-0603), conventional values where CIAAW gives an interval
(H, Li, C, O, P is single-valued, S). Every expected mass below is computed here from these numbers, independently
of lichain.core.chemistry; NCM811 is also checked against the rounded values of reference §5.2.
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lichain.core.errors import RecipeError
from lichain.core.recipe import cam_recipe, pcam_recipe
from lichain.core.recipe_design import InputSpec, design, parse_target

D = Decimal
NI, CO, MN, AL = D("58.6934"), D("58.933194"), D("54.938043"), D("26.9815384")
LI, OX, H, S, NA, C = D("6.94"), D("15.999"), D("1.008"), D("32.06"), D("22.98976928"), D("12.011")
FE, P, ZR, W = D("55.845"), D("30.973761998"), D("91.224"), D("183.84")
WATER = 2 * H + OX
M_LIOH_H2O = LI + OX + H + WATER
M_LI2CO3 = 2 * LI + C + 3 * OX
M_NAOH = NA + OX + H
M_AL2SO4_18 = 2 * AL + 3 * (S + 4 * OX) + 18 * WATER
M_FESO4_7 = FE + S + 4 * OX + 7 * WATER
M_H3PO4 = 3 * H + P + 4 * OX
TIGHT = D("1e-22")


def close(a: Decimal, b: Decimal, tol: Decimal = TIGHT) -> bool:
    return abs(a - b) <= tol * max(abs(b), D(1))


def lines(d: object) -> dict[tuple[str, str], Decimal]:
    return {(ln.step, ln.element): ln.kg for ln in (*d.pcam_lines, *d.cam_lines)}  # type: ignore[attr-defined]


def test_ncm811_equals_the_existing_recipe_and_reference_5_2() -> None:
    d = design(parse_target("NCM811"))
    kg = lines(d)
    p, c = pcam_recipe("NCM811", 1), cam_recipe("NCM811", 1)
    assert close(kg[("pcam", "Ni")], p.nickel_sulfate_kg) and close(kg[("pcam", "Co")], p.cobalt_sulfate_kg)
    assert close(kg[("pcam", "Mn")], p.manganese_sulfate_kg) and close(kg[("pcam", "OH")], p.sodium_hydroxide_kg)
    assert close(kg[("cam", "pCAM")], c.pcam_kg) and close(kg[("cam", "Li")], c.lithium_source_kg)
    assert close(kg[("cam", "O")], c.oxygen_kg)
    assert (round(kg[("pcam", "Ni")], 3), round(kg[("cam", "pCAM")], 3), round(kg[("cam", "Li")], 3)) == \
        (D("2.277"), D("0.949"), D("0.449"))


def test_nca_with_zirconium_dopant_yields_and_lithium_excess_by_hand() -> None:
    d = design(parse_target("NCA", {"Zr": 2000}), "1.03", pcam_yield="0.99", cam_yield="0.98")
    assert (d.cam_formula, d.pcam_formula) == ("LiNi0.8Co0.15Al0.05O2", "Ni0.8Co0.15Al0.05(OH)2")
    kg = lines(d)
    with localcontext() as ctx:
        ctx.prec = 40
        m_host = LI + D("0.8") * NI + D("0.15") * CO + D("0.05") * AL + 2 * OX
        m_pcam = D("0.8") * NI + D("0.15") * CO + D("0.05") * AL + 2 * (OX + H)
        zro2 = D("0.002") * (ZR + 2 * OX) / ZR  # kg ZrO2 per kg CAM
        n = 1000 * (1 - zro2) / m_host
        fed = n / D("0.98")
        per_pcam = 1000 / m_pcam / D("0.99")
        assert close(d.cam_molar_mass, m_host)
        assert close(kg[("cam", "pCAM")], fed * m_pcam / 1000)
        assert close(kg[("cam", "Li")], D("1.03") * fed * M_LIOH_H2O / 1000)
        assert close(kg[("cam", "Zr")], D("0.002") / D("0.98") * (ZR + 2 * OX) / ZR)
        assert close(kg[("cam", "O")], fed / 4 * 2 * OX / 1000)
        assert close(kg[("pcam", "Al")], per_pcam * D("0.05") * M_AL2SO4_18 / 2 / 1000)
        assert close(kg[("pcam", "OH")], per_pcam * (2 * D("0.95") + 3 * D("0.05")) * M_NAOH / 1000)
        fr = dict(d.cam_mass_fractions)
        assert fr["Zr"] == D("0.002")
        assert close(fr["Ni"], (1 - zro2) * D("0.8") * NI / m_host)


def test_lfp_from_iron_phosphate_and_lithium_carbonate_by_hand() -> None:
    d = design(parse_target("LFP"), "1.05")
    assert (d.cam_formula, d.pcam_formula) == ("LiFePO4", "FePO4")
    kg = lines(d)
    m_lfp, m_fp = LI + FE + P + 4 * OX, FE + P + 4 * OX  # 157.754761998, 150.814761998
    n = 1000 / m_lfp
    assert close(kg[("cam", "pCAM")], n * m_fp / 1000)
    assert close(kg[("cam", "Li")], D("1.05") * n * M_LI2CO3 / 2 / 1000)
    assert close(kg[("pcam", "Fe")], 1000 / m_fp * M_FESO4_7 / 1000)
    assert close(kg[("pcam", "P")], 1000 / m_fp * M_H3PO4 / 1000)
    assert ("cam", "O") not in kg and ("pcam", "OH") not in kg
    assert round(kg[("cam", "Li")] / D("1.05"), 3) == D("0.234")  # ≈ 0.234 kg Li2CO3 per kg LFP at Li/Fe 1


def test_a_measured_assay_replaces_the_theoretical_one() -> None:
    d = design(parse_target("NCM622"), inputs={"Ni": InputSpec("Ni", "NiSO4·6H2O", Fraction("0.2215"))})
    kg = lines(d)
    m_pcam = D("0.6") * NI + D("0.2") * CO + D("0.2") * MN + 2 * (OX + H)
    assert close(kg[("pcam", "Ni")], 1000 / m_pcam * D("0.6") * NI / D("0.2215") / 1000)
    assert next(ln.assay for ln in d.pcam_lines if ln.element == "Ni") == D("0.2215")


def test_any_layered_formula_is_a_target_and_bad_targets_are_refused() -> None:
    t = parse_target("LiNi0.88Co0.09Mn0.03O2")
    assert dict(t.metals) == {"Ni": Fraction("0.88"), "Co": Fraction("0.09"), "Mn": Fraction("0.03")}
    for bad in ("LiNi0.8Co0.1O2", "NCM999", "LiNi0.5Mn1.5O4"):
        with pytest.raises(RecipeError):
            parse_target(bad)
    with pytest.raises(RecipeError):
        parse_target("NCM811", {"Mg": 100})
    with pytest.raises(RecipeError):
        design(parse_target("NCM811"), "0.99")
    with pytest.raises(RecipeError):
        design(parse_target("NCM811"), cam_yield="1.2")


@given(st.integers(1, 100), st.integers(0, 100), st.sampled_from(["1", "0.97"]), st.sampled_from(["1", "0.95"]),
       st.sampled_from(["1.00", "1.03"]), st.integers(0, 5000))
def test_property_metals_and_lithium_balance(ni: int, co: int, eta_p: str, eta_c: str, li_me: str, zr: int) -> None:
    co = min(co, 100 - ni)
    ratios = {"Ni": D(ni) / 100, "Co": D(co) / 100, "Al": D(100 - ni - co) / 100}
    text = "Li" + "".join(f"{m}{r}" for m, r in ratios.items() if r) + "O2"
    d = design(parse_target(text, {"Zr": zr}), li_me, pcam_yield=eta_p, cam_yield=eta_c)
    kg = lines(d)
    fr = dict(d.cam_mass_fractions)
    m_host = LI + ratios["Ni"] * NI + ratios["Co"] * CO + ratios["Al"] * AL + 2 * OX
    host = 1 - D(zr) / 10**6 * (ZR + 2 * OX) / ZR
    pcam_fed = kg[("cam", "pCAM")]
    for ln in d.pcam_lines:
        if ln.element in ratios:  # metal fed × η_p × η_c = metal in 1 kg CAM, by hand
            metal = ln.kg * ln.assay * pcam_fed * D(eta_p) * D(eta_c)
            by_hand = host * ratios[ln.element] * {"Ni": NI, "Co": CO, "Al": AL}[ln.element] / m_host
            assert close(metal, by_hand, D("1e-20")), ln.element
            assert close(fr[ln.element], by_hand, D("1e-20")), ln.element
    li = next(ln for ln in d.cam_lines if ln.element == "Li")
    assert close(li.kg * li.assay * D(eta_c) / D(li_me), host * LI / m_host, D("1e-20"))
