"""Did-you-mean ranking and the wording of a conflicting re-declaration, without a database."""

from __future__ import annotations

from lichain.core.declared import declared_differences, refusal
from lichain.core.model import Material
from lichain.services.lists import suggest, unknown


def test_suggest_ranks_by_edits_among_equal_ratios_and_ignores_case() -> None:
    ids = [f"L{n:08d}" for n in range(1, 40)]
    # one letter O typed for a zero: L00000001 is one substitution away, every other id at least two
    assert suggest("L0000O001", ids)[0] == "L00000001"
    assert suggest("demo cell korea co., ltd.", ["Demo Cell Korea Co., Ltd.", "Demo Cell Poland"]) == [
        "Demo Cell Korea Co., Ltd."]
    assert suggest("Zzyzx", ["MHP", "NISO4"]) == []


def test_unknown_names_the_hints_or_only_the_name() -> None:
    assert str(unknown("site", "REF-CN-1", ["REF-CN-01", "HPAL-ID-01"])) == (
        "unknown site 'REF-CN-1'; did you mean 'REF-CN-01'?")
    assert str(unknown("site", "Q", ["REF-CN-01"])) == "unknown site 'Q'"


def test_declared_differences_name_each_attribute_with_both_values() -> None:
    recorded = {"code": "MHP", "name": "Mixed hydroxide precipitate (Ni-Co), dry basis", "stage": "intermediate",
                "formula": None}
    given = {**recorded, "name": "MHP", "stage": "concentrate"}
    assert declared_differences(recorded, given) == [
        "name: recorded 'Mixed hydroxide precipitate (Ni-Co), dry basis', here 'MHP'",
        "stage: recorded 'intermediate', here 'concentrate'"]
    assert declared_differences(recorded, recorded) == []
    m = Material("MHP", "MHP", "intermediate")
    assert refusal(m, None) == "material MHP is already declared with other attributes"
