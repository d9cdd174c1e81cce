"""Who may read which field of a battery passport: the access levels of Regulation (EU) 2023/1542 Annex XIII.

Why this exists: Art. 77(2) splits the passport's content by reader. Annex XIII point 1 is public; point 2
(detailed composition, spare parts, dismantling, safety) is for persons with a legitimate interest and the
Commission; point 3 (test reports proving compliance) for notified bodies, market surveillance authorities and the
Commission only; point 4 (the individual battery's state of health, status and use data) for persons with a
legitimate interest (repairers, remanufacturers, second-life operators, recyclers). lichain orders the levels
public < legitimate < authority: each level sees its own fields and those of the levels below (the authority level
includes point 4, which market surveillance needs to check the values declared under Art. 10).

Every field of every passport format is given its level here with the Annex XIII point it rests on
(:data:`BATTERYPASS_ACCESS`, :data:`IDTA_ACCESS`); the longest matching path decides. A field not in a table
belongs to the highest level: an unlisted field can never leak to a lower one. Paths are aspect/property/...
with array items transparent (``Circularity/recycledContent/preConsumerShare``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["BATTERYPASS_ACCESS", "IDTA_ACCESS", "LEVELS", "Access", "filter_level", "level_of", "rank"]

#: Access levels, lowest first.
LEVELS: tuple[str, ...] = ("public", "legitimate", "authority")


def rank(level: str) -> int:
    """Position of ``level`` in :data:`LEVELS` (ValueError for an unknown level)."""
    if level not in LEVELS:
        raise ValueError(f"access level must be one of {', '.join(LEVELS)}, got {level!r}")
    return LEVELS.index(level)


@dataclass(frozen=True, slots=True)
class Access:
    """The lowest level that may read ``path`` (and everything under it), and the Annex XIII point why."""

    path: str
    level: str
    point: str


def _a(level: str, point: str, *paths: str) -> tuple[Access, ...]:
    return tuple(Access(p, level, point) for p in paths)


_P, _L, _A = LEVELS
#: Battery Pass Data Model 1.2 aspects and properties.
BATTERYPASS_ACCESS: tuple[Access, ...] = (
    *_a(_P, "1(a) Annex VI Part A: manufacturer, category, identifier, place and date of manufacture, weight",
        "GeneralProductInformation/productIdentifier", "GeneralProductInformation/batteryPassportIdentifier",
        "GeneralProductInformation/batteryCategory", "GeneralProductInformation/manufacturerInformation",
        "GeneralProductInformation/manufacturingDate", "GeneralProductInformation/batteryMass",
        "GeneralProductInformation/manufacturingPlace", "GeneralProductInformation/operatorInformation"),
    *_a(_P, "1(h) Annex IV Part A: period of the commercial warranty", "GeneralProductInformation/warrentyPeriod"),
    *_a(_L, "4(b) status of the individual battery", "GeneralProductInformation/batteryStatus"),
    *_a(_L, "4(c) information from use of the individual battery", "GeneralProductInformation/puttingIntoService"),
    *_a(_P, "1(c) carbon footprint (Art. 7)", "CarbonFootprint"),
    *_a(_P, "1(d) supply-chain due diligence report (Art. 52(3))", "SupplyChainDueDiligence"),
    *_a(_P, "1(b) chemistry", "MaterialComposition/batteryChemistry"),
    *_a(_P, "1(b) hazardous substances (Annex VI Part A)", "MaterialComposition/hazardousSubstances"),
    *_a(_L, "2(a) detailed composition, including the materials of cathode, anode and electrolyte",
        "MaterialComposition/batteryMaterials"),
    *_a(_P, "1(b) critical raw materials", "MaterialComposition/batteryMaterials/batteryMaterialName",
        "MaterialComposition/batteryMaterials/batteryMaterialIdentifier",
        "MaterialComposition/batteryMaterials/isCriticalRawMaterial"),
    *_a(_P, "1(e) recycled content (Art. 8)", "Circularity/recycledContent"),
    *_a(_P, "1(f) renewable content", "Circularity/renewableContent"),
    *_a(_P, "1(a) Annex VI Part A: extinguishing agent", "Circularity/safetyMeasures/extinguishingAgent"),
    *_a(_L, "2(d) safety measures", "Circularity/safetyMeasures/safetyInstructions"),
    *_a(_P, "1(i) end-of-life information (Art. 60(1))", "Circularity/endOfLifeInformation"),
    *_a(_L, "2(c) dismantling information", "Circularity/dismantlingAndRemovalInformation"),
    *_a(_L, "2(b) part numbers and sources of spare parts", "Circularity/sparePartSources"),
    *_a(_P, "1(g)-(h) performance and durability parameters (Art. 10, Annex IV Part A)",
        "PerformanceAndDurability/batteryTechicalProperties"),
    *_a(_L, "4(a) performance and durability values of the battery in use (state of health)",
        "PerformanceAndDurability/batteryCondition"),
    *_a(_P, "1(a) labels and the EU declaration of conformity (Art. 13, 18)", "Labeling/labels",
        "Labeling/declarationOfConformity"),
    *_a(_A, "3 results of test reports proving compliance", "Labeling/resultOfTestReport"),
)
#: IDTA-02035 submodels (SAMM value-only JSON).
IDTA_ACCESS: tuple[Access, ...] = (
    *_a(_P, "1(a) Annex VI Part A: manufacturer, identifier, place and date of manufacture", "Nameplate"),
    *_a(_L, "4(b) status of the individual battery", "Nameplate/LifeCycleStage"),
    *_a(_L, "4(c) information from use of the individual battery", "Nameplate/DateOfPuttingIntoService"),
    *_a(_A, "3 results of test reports proving compliance", "Nameplate/ResultsOfTestReportsProvingCompliance"),
    *_a(_P, "1(a), 1(g)-(h) category, weight, performance and durability parameters (Annex IV Part A)",
        "TechnicalData"),
    *_a(_L, "4(a) performance and durability values of the battery in use",
        "TechnicalData/TechnicalPropertyAreas/CapacityEnergyVoltage/CapacityFade",
        "TechnicalData/TechnicalPropertyAreas/Resistance/InternalResistanceIncreaseAtBatteryCellLevel",
        "TechnicalData/TechnicalPropertyAreas/Resistance/InternalResistanceIncreaseAtBatteryModuleLevel",
        "TechnicalData/TechnicalPropertyAreas/Resistance/InternalResistanceIncreaseAtBatteryPackLevel"),
    *_a(_P, "1(c) carbon footprint (Art. 7)", "CarbonFootprint"),
    *_a(_P, "1(b) chemistry", "MaterialComposition/BatteryChemistry"),
    *_a(_P, "1(b) hazardous substances", "MaterialComposition/HazardousSubstances"),
    *_a(_L, "2(a) detailed composition", "MaterialComposition/BatteryMaterials"),
    *_a(_P, "1(b) critical raw materials", "MaterialComposition/BatteryMaterials/BatteryMaterialName",
        "MaterialComposition/BatteryMaterials/BatteryMaterialIdentifier",
        "MaterialComposition/BatteryMaterials/IsCriticalRawMaterial"),
    *_a(_P, "1(e) recycled content (Art. 8)", "Circularity/RecycledContentInformation"),
    *_a(_P, "1(f) renewable content", "Circularity/RenewableContent"),
    *_a(_P, "1(a) extinguishing agent", "Circularity/SafetyMeasures/ExtinguishingAgents"),
    *_a(_L, "2(d) safety measures", "Circularity/SafetyMeasures/SafetyInstructions"),
    *_a(_P, "1(i) end-of-life information", "Circularity/EndOfLifeInformation"),
    *_a(_L, "2(c) dismantling information", "Circularity/DismantlingAndRemovalInformation"),
    *_a(_L, "2(b) spare parts", "Circularity/SparePartSources"),
)


def level_of(path: str, rules: Sequence[Access]) -> Access:
    """The rule of the longest listed prefix of ``path`` (a field not listed: the highest level)."""
    best: Access | None = None
    for r in rules:
        if (path == r.path or path.startswith(r.path + "/")) and (best is None or len(r.path) > len(best.path)):
            best = r
    return best or Access(path, LEVELS[-1], "not listed: the highest level")


_DROP = object()  # a value withheld inside a container that stays


def _filter(node: Any, path: str, level: int, rules: Sequence[Access], withheld: list[str], ptr: str) -> Any:
    if isinstance(node, Mapping):
        out = {}
        for k, v in node.items():
            sub = f"{path}/{k}" if path else str(k)
            above = rank(level_of(sub, rules).level) > level
            if above and not (isinstance(v, Mapping | list) and _has_lower(sub, level, rules)):
                withheld.append(f"{ptr}/{k}")
                continue
            kept = _filter(v, sub, level, rules, withheld, f"{ptr}/{k}")
            if kept is _DROP or (above and kept in ({}, []) and not _has_lower(sub, level, rules)):
                withheld.append(f"{ptr}/{k}")
                continue
            out[k] = kept
        return out
    if isinstance(node, list):
        items = [_filter(v, path, level, rules, withheld, f"{ptr}/{i}") for i, v in enumerate(node)]
        return [x for x in items if x is not _DROP]
    if rank(level_of(path, rules).level) <= level:
        return node
    withheld.append(ptr)
    return _DROP


def _has_lower(path: str, level: int, rules: Sequence[Access]) -> bool:
    """True when some field under ``path`` is readable at ``level`` (so the container is kept, pruned)."""
    return any(r.path.startswith(path + "/") and rank(r.level) <= level for r in rules)


def filter_level(aspects: Mapping[str, Any], level: str, rules: Sequence[Access]) -> tuple[dict[str, Any],
                                                                                           tuple[str, ...]]:
    """The aspects as ``level`` may read them, and the JSON pointers of what was withheld (values never shown)."""
    withheld: list[str] = []
    out = _filter(aspects, "", rank(level), rules, withheld, "")
    assert isinstance(out, dict)
    return out, tuple(dict.fromkeys(withheld))
