"""Public citations: every factor and target cites registry publications, and customer text has no internal notes."""

from __future__ import annotations

import csv
import re
from importlib import resources

import pytest

from lichain.core.citations import CITATIONS, Citation, cite, internal_markers, parse_ids
from lichain.core.factors import FactorLibrary, default_library
from lichain.core.targets import TARGETS, compare

# the one row without a public source: a superseded placeholder kept so that recorded lots still resolve
UNSOURCED = {"reagent:NaOH:placeholder"}
LINK = re.compile(r"^(https?://[^\s]+)$")


def _rows() -> list[dict[str, str]]:
    text = resources.files("lichain").joinpath("data/emission-factors.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def test_every_factor_row_names_known_citations() -> None:
    rows = _rows()
    assert len(rows) == len(default_library()) >= 113
    for r in rows:
        ids = parse_ids(r["citation"])
        if r["key"] in UNSOURCED:
            assert ids == () and "placeholder" in r["description"], r["key"]
            continue
        assert ids, r["key"]
        assert all(i in CITATIONS for i in ids), (r["key"], ids)
        assert r["source"], r["key"]  # the internal audit note stays in the table
    derived = [r for r in rows if "derived" in r["basis"] or r["source"].startswith("DERIVED")]
    assert len(derived) >= 25
    assert all(r["derivation"] for r in derived), [r["key"] for r in derived if not r["derivation"]]


def test_citations_are_complete_and_linked_where_known() -> None:
    for cid, c in CITATIONS.items():
        assert c.id == cid and c.title.strip() and c.publisher.strip(), cid
        assert c.year is None or 1990 <= c.year <= 2026, cid
        assert c.url is None or LINK.match(c.url), cid
        assert internal_markers(str(c)) == [], (cid, internal_markers(str(c)))
        assert "; " not in str(c), cid  # Factor.public_source joins citations with "; "
    # the publications whose official URL or DOI is known carry it
    linked = {"eu-2023-1542": "http://data.europa.eu/eli/reg/2023/1542/oj",
              "eu-2025-606": "http://data.europa.eu/eli/reg_del/2025/606/oj",
              "desnz-2023": "https://www.gov.uk/government/publications/greenhouse-gas-reporting-conversion-factors-2023",
              "desnz-2025": "https://www.gov.uk/government/publications/greenhouse-gas-reporting-conversion-factors-2025",
              "alsultanny-2014": "https://doi.org/10.4186/ej.2014.18.2.67"}
    assert {k: CITATIONS[k].url for k in linked} == linked
    assert CITATIONS["mee-2022"].url and CITATIONS["mee-2022"].url.startswith("https://www.mee.gov.cn/")
    assert CITATIONS["miit-2024"].url is None  # no official URL verified: none rather than a news site
    undated = {k for k, c in CITATIONS.items() if c.year is None}
    assert undated == {"hazarabedian", "element25", "liu-46-plants"}
    assert str(Citation("x", "T", "P", None)) == "T, P (n.d.)"
    assert str(CITATIONS["desnz-2023"]) == ("Greenhouse gas reporting: conversion factors 2023, Department for "
                                           "Energy Security and Net Zero (UK) (2023), " + linked["desnz-2023"])


def test_every_citation_is_used_by_a_factor_or_a_target() -> None:
    used = {i for f in default_library() for i in f.citation_ids} | {i for t in TARGETS for i in t.citation_ids}
    assert set(CITATIONS) - used == {"catenax-pcf"}  # cited by the PCF model mapping in the docs only


def test_customer_facing_factor_text_is_free_of_internal_markers() -> None:
    for f in default_library():
        d = f.public_json()
        for field in ("description", "basis", "source", "derivation", "unit"):
            text = str(d[field] or "")
            assert internal_markers(text) == [], (f.key, field, internal_markers(text))
        if f.derivation:
            assert d["derivation"] == f"derived: {f.derivation}"
        assert d["citations"] == [c.to_json() for c in f.citations]
    # while the internal note keeps its evidence grades and mirrors (docs and `lichain factors` still show it)
    assert "[R]" in default_library()["fuel:natural_gas:Nm3"].source
    assert "github.com" in default_library()["grid:CN"].to_json()["source"]  # type: ignore[operator]


def test_targets_cite_the_regulation_and_keep_methodology_clean() -> None:
    for t in TARGETS:
        assert t.citations, t.key
        j = t.to_json()
        assert "source" not in j and j["sources"] == [c.to_json() for c in t.citations]
        assert internal_markers(t.methodology) == [] and internal_markers(t.regime) == [], t.key
    xii = next(t for t in TARGETS if t.key == "eu.annex12.2027.Co")
    assert [c.id for c in xii.citations] == ["eu-2023-1542", "eu-2025-606"]
    row = compare(0.5, "material_recovery", "Li", ("cn.miit2024",))[0]
    from lichain.entrypoints.present import jsonable

    assert jsonable(row)["sources"] == [CITATIONS["miit-2024"].to_json()]


@pytest.mark.parametrize("text", [
    "[R] recalled, verify", "[S: JRC knowledge cards]", "[P: Annex X(3)]", "value [D]", "please Verify this",
    "as reproduced in github.com/filcuk/ghg_conversion_factors", "values as reported by 新京报/daydaynews",
    "docs/reference/regulation-and-factors.md §1.2", "reference §2.3", "data/lci_LIB_raw_materials.xlsx",
    "fxbaogao.com/detail/4370432", "marketscreener",
])
def test_internal_markers_are_found(text: str) -> None:
    assert internal_markers(text)


@pytest.mark.parametrize("text", [
    "Regulation (EU) 2023/1542 Annex XII Part C", "https://www.ciaaw.org/atomic-weights.htm",
    "https://www.mee.gov.cn/xxgk2018/xxgk/xxgk01/202412/t20241226_1099413.html", "NCM811 [Ni0.8]",
    "lot https://id.gs1.org/01/09520001000904/10/L00000001: CAM-NCM811 (LiNi0.8Co0.1Mn0.1O2)",
])
def test_public_text_is_not_flagged(text: str) -> None:
    assert internal_markers(text) == []


def test_unknown_citation_ids_are_refused() -> None:
    head = "key,value,unit,low,high,basis,year,description,source,reference_key,version,citation,derivation\n"
    with pytest.raises(ValueError, match="line 2: unknown citation id 'nope'"):
        FactorLibrary.from_csv(head + "a:b,1,kg CO2e/kg,,,,,,s,,1,desnz-2023; nope,\n")
    lib = FactorLibrary.from_csv(head + "a:b,1,kg CO2e/kg,,,,,,s,,1,desnz-2023; ipcc-2006,x / 2\n")
    assert lib["a:b"].citation_ids == ("desnz-2023", "ipcc-2006") and lib["a:b"].derivation == "x / 2"
    with pytest.raises(KeyError, match="nope"):
        cite(["desnz-2023", "nope"])
    assert parse_ids(" a ; b;a;; ") == ("a", "b")
