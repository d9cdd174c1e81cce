"""Access levels of Annex XIII: for arbitrary passports no field of a higher level reaches a lower one.

Passports are generated (hypothesis) from arbitrary cell-maker statements and computed figures, written in both
formats and filtered for each level by :func:`lichain.services.passport.build`; every value left in a level's view
must be readable at that level by the field table, each level must read at least what the one below reads, the
top level must read everything, and missing inputs above a level must not be named to it. Arbitrary raw documents
(any keys, any nesting) are filtered too: a field not in the table belongs to the highest level.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lichain.core.model import CellSpec
from lichain.core.passport import CATEGORIES, SPEC_FIELDS
from lichain.core.passport_access import BATTERYPASS_ACCESS, IDTA_ACCESS, LEVELS, filter_level, level_of, rank
from lichain.core.passport_data import Hazard, MaterialShare, PassportData, RecycledShare, passport_id
from lichain.services.passport import build, render

RULES = {"batterypass": BATTERYPASS_ACCESS, "aas": IDTA_ACCESS}


def _number(lo: Decimal | None, hi: Decimal | None) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=(lo or Decimal(0)) + Decimal("0.001"), max_value=hi or Decimal(1000), places=3,
                       allow_nan=False, allow_infinity=False)


@st.composite
def specs(draw: st.DrawFn) -> CellSpec:
    cap = draw(_number(Decimal(0), Decimal(500)))
    volt = draw(_number(Decimal(1), Decimal(900)))
    kw: dict[str, Any] = {}
    for f in SPEC_FIELDS[11:]:
        if not draw(st.booleans()):
            continue
        if f.unit == "time":
            kw[f.name] = datetime(2026, 1, 1, tzinfo=UTC)
        elif f.unit in ("", "cycles"):
            kw[f.name] = {"manufacturer_country": "HU", "internal_resistance_level": "pack",
                          "lifetime_reference_test": "https://example.org/t"}.get(f.name, draw(st.text(min_size=1,
                                                                                                        max_size=8)))
        else:
            kw[f.name] = draw(_number(f.low if f.low is not None and f.low >= 0 else Decimal(0), f.high))
    return CellSpec("LOT", draw(st.text(min_size=1, max_size=8)), draw(st.sampled_from(CATEGORIES)), "NMC",
                    cap, volt, cap * volt / 1000 or Decimal("0.001"), draw(_number(Decimal(0), Decimal(900))),
                    "Maker", draw(st.integers(1, 10000)), draw(_number(Decimal(0), Decimal(40))), **kw)


_share = st.one_of(st.none(), st.floats(0, 1))


@st.composite
def passports(draw: st.DrawFn) -> PassportData:
    battery = draw(st.one_of(st.none(), st.text(min_size=1, max_size=6)))
    status = draw(st.sampled_from(["original", "reused", "repurposed", "remanufactured"]))
    fp = draw(st.one_of(st.none(), st.floats(0, 100)))
    return PassportData(
        passport_id(battery or "LOT"), "LOT", draw(specs()), "urn:uuid:x", datetime(2026, 1, 2, tzinfo=UTC),
        "SITE", draw(st.one_of(st.none(), st.just("HU"))), battery, status,
        None if status == "original" else passport_id("B0"), None if status == "original" else "Op",
        fp, None if fp is None else fp / 2, None if fp is None else fp / 2, draw(st.booleans()),
        tuple(RecycledShare(e, draw(_share), draw(_share)) for e in draw(st.sets(st.sampled_from(["Ni", "Co",
                                                                                                 "Li", "Mn"])))),
        tuple(MaterialShare(e, e, "7440-02-0", draw(st.floats(0, 1000)), True, "Cathode")
              for e in draw(st.sets(st.sampled_from(["Ni", "Co"])))),
        tuple(Hazard("X", draw(st.floats(0, 100)), "Cathode") for _ in range(draw(st.integers(0, 2)))),
        draw(st.one_of(st.none(), st.just("urn:lichain:diligence:00"))))


def _leaves(node: Any, path: str = "") -> dict[str, Any]:
    """Leaf values by access-table path (array indices dropped, so items are transparent)."""
    if isinstance(node, dict):
        return {k2: v2 for k, v in node.items() for k2, v2 in _leaves(v, f"{path}/{k}" if path else k).items()}
    if isinstance(node, list):
        out: dict[str, Any] = {}
        for i, v in enumerate(node):
            out.update({f"{k}#{i}": x for k, x in _leaves(v, path).items()})
        return out
    return {path: node}


def _path(leaf: str) -> str:
    return "/".join(p.split("#")[0] for p in leaf.split("/"))


@settings(max_examples=40, deadline=None)
@given(passports(), st.sampled_from(["batterypass", "aas"]))
def test_no_field_of_a_higher_level_reaches_a_lower_level(d: PassportData, fmt: str) -> None:
    rules = RULES[fmt]
    full, missing = render(d, fmt)
    views = {lvl: build(d, level=lvl, fmt=fmt) for lvl in LEVELS}
    for lvl, p in views.items():
        for leaf in _leaves(p.aspects):
            assert rank(level_of(_path(leaf).replace("#", ""), rules).level) <= rank(lvl), (leaf, lvl)
        for m in p.missing_inputs:
            path = "/".join([m.aspect, *(x for x in m.field.strip("/").split("/") if not x.isdigit())])
            assert rank(level_of(path, rules).level) <= rank(lvl), (m, lvl)
    low, mid, top = (set(_leaves(views[lvl].aspects)) for lvl in LEVELS)
    assert low <= mid <= top
    assert views["authority"].aspects == full  # the top level reads everything
    assert len(views["authority"].missing_inputs) == len(missing)


_keys = st.sampled_from(["GeneralProductInformation", "batteryStatus", "productIdentifier", "Circularity",
                         "sparePartSources", "recycledContent", "MaterialComposition", "batteryMaterials",
                         "batteryMaterialMass", "batteryMaterialName", "Labeling", "resultOfTestReport", "other"])
_docs = st.recursive(st.one_of(st.integers(), st.text(max_size=3)),
                     lambda inner: st.one_of(st.lists(inner, max_size=3),
                                             st.dictionaries(_keys, inner, max_size=4)), max_leaves=25)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_keys, _docs, max_size=4), st.sampled_from(LEVELS))
def test_arbitrary_documents_are_filtered_by_the_table(doc: dict[str, Any], level: str) -> None:
    view, withheld = filter_level(doc, level, BATTERYPASS_ACCESS)
    for leaf in _leaves(view):
        assert rank(level_of(_path(leaf), BATTERYPASS_ACCESS).level) <= rank(level), leaf
    if level == "authority":
        assert view == doc and withheld == ()


def test_docs_list_every_field_and_its_level() -> None:
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "passport.md").read_text(encoding="utf-8")
    for rules in RULES.values():
        for r in rules:
            assert f"| `{r.path}` | {r.level} | {r.point} |" in text, r.path
