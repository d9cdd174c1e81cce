"""Regulatory and industry minimums for recycled content and recovery, with dates, sources and legal status.

Why: comparisons with targets must carry the target's basis and whether the rule that says *how* to compute the
figure exists. Where it does not (the Art. 8(1) methodology delegated act of Regulation (EU) 2023/1542 is not
adopted), every comparison says so and claims nothing: :data:`INDICATIVE`. Figures are from
``docs/reference/regulation-and-factors.md`` §1.2, §1.3 and §4.4 (source tags there: [P] primary, [S] secondary).

* Art. 8(2), 8(3): minimum recycled share in active materials: Co 16 %, Li 6 %, Ni 6 % from 18 Aug 2031; Co 26 %,
  Li 12 %, Ni 15 % from 18 Aug 2036 (Pb 85 % in the battery, not applicable to cathode material).
* Annex XII Part C: material recovery by 31 Dec 2027: Co, Cu, Ni, Pb 90 %, Li 50 %; by 31 Dec 2031: 95 % and 80 %.
  Calculation and verification: Commission Delegated Regulation (EU) 2025/606 (in force 24 Jul 2025).
* China MIIT 废旧动力蓄电池综合利用行业规范条件 (2024年本), issued 24 Dec 2024: metallurgical recovery Li ≥ 90 %,
  Ni, Co, Mn ≥ 98 % (conditions for enterprises seeking listing, not a general legal minimum).

What a target shows a customer is its public citations (:mod:`lichain.core.citations`: title, publisher, year,
URL); how sure each figure is, and which secondary source reported it, is recorded in the reference above only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lichain.core.citations import Citation, cite

__all__ = [
    "INDICATIVE",
    "NOT_IMPLEMENTED",
    "PRECISION",
    "TARGETS",
    "SourceRef",
    "Target",
    "TargetCheck",
    "compare",
    "targets_for",
]

#: What every comparison says while no rule adopted by the authority fixes how lichain's figure is computed.
INDICATIVE = "methodology not adopted; indicative comparison"
#: What a comparison says when the calculation rule is adopted but lichain does not compute the figure its way.
NOT_IMPLEMENTED = "adopted calculation rules not implemented; indicative comparison"
#: Decimal places a figure is rounded to before it is compared (the precision lichain reports shares at).
PRECISION = 6

_REG = "Regulation (EU) 2023/1542"
_ART8_SRC = ("eu-2023-1542",)
_ART8_METHOD = ("Art. 8(1) delegated act on the calculation and verification of recycled content: not adopted")
_XII_SRC = ("eu-2023-1542", "eu-2025-606")
_XII_METHOD = ("Delegated Regulation (EU) 2025/606 (calculation points, input/output fractions) adopted, in force "
               "24 Jul 2025; lichain computes element out in recovered products / element in with black mass, "
               "not the Regulation's calculation points")
_MIIT_SRC = ("miit-2024",)
_MIIT_METHOD = "industry standard conditions for listed enterprises; metallurgical-step recovery basis"


@dataclass(frozen=True, slots=True)
class SourceRef:
    """A public text as a customer document cites it: title, publisher, year (as text; None when undated), URL."""

    title: str
    publisher: str
    year: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class TargetCheck:
    """A figure against one minimum: ``meets`` when the figure (rounded to :data:`PRECISION` decimals) is at least
    ``minimum`` [kg kg⁻¹], ``gap`` = figure − minimum; both None when the figure is undefined. Never a statement
    of compliance: ``status`` says how indicative it is."""

    key: str
    regime: str
    minimum: float
    applies_from: str
    meets: bool | None
    gap: float | None
    status: str
    methodology: str
    sources: tuple[SourceRef, ...]


@dataclass(frozen=True, slots=True)
class Target:
    """One minimum: what metric, which element, how much, from when, under which rule, and its status.

    ``minimum`` is a fraction [kg kg⁻¹]. ``methodology_adopted`` says whether an adopted act fixes how the figure
    is computed; ``status`` is what a comparison says (always indicative: lichain follows no adopted calculation).
    """

    key: str
    regime: str
    metric: str  # "recycled_content" | "material_recovery" | "recycling_efficiency"
    element: str
    minimum: Decimal
    applies_from: date
    citation_ids: tuple[str, ...]
    methodology: str
    methodology_adopted: bool = False
    status: str = INDICATIVE  # what a comparison with this target says

    @property
    def citations(self) -> tuple[Citation, ...]:
        """The public texts that set this minimum (and, where adopted, its calculation rules)."""
        return cite(self.citation_ids)

    def sources_json(self) -> list[dict[str, object]]:
        """``[{title, publisher, year, url}]`` of :attr:`citations`."""
        return [c.to_json() for c in self.citations]

    def to_json(self) -> dict[str, object]:
        """Plain JSON of the target."""
        return {"key": self.key, "regime": self.regime, "metric": self.metric, "element": self.element,
                "minimum": float(self.minimum), "applies_from": self.applies_from.isoformat(),
                "sources": self.sources_json(), "methodology": self.methodology,
                "methodology_adopted": self.methodology_adopted, "status": self.status}


def _art8(element: str, y2031: str, y2036: str) -> list[Target]:
    return [Target(f"eu.art8.{y}.{element}", f"{_REG} Art. 8({p})", "recycled_content", element, Decimal(v),
                   date(y, 8, 18), _ART8_SRC, _ART8_METHOD)
            for y, p, v in ((2031, 2, y2031), (2036, 3, y2036))]


def _annex12(element: str, y2027: str, y2031: str) -> list[Target]:
    return [Target(f"eu.annex12.{y}.{element}", f"{_REG} Annex XII Part C", "material_recovery", element,
                   Decimal(v), date(y, 12, 31), _XII_SRC, _XII_METHOD, True, NOT_IMPLEMENTED)
            for y, v in ((2027, y2027), (2031, y2031))]


def _miit(element: str, v: str) -> Target:
    return Target(f"cn.miit2024.{element}", "China MIIT 规范条件 (2024年本)", "material_recovery", element,
                  Decimal(v), date(2024, 12, 24), _MIIT_SRC, _MIIT_METHOD, False,
                  "industry standard conditions; indicative comparison")


#: Every target lichain compares against.
TARGETS: tuple[Target, ...] = (
    *_art8("Co", "0.16", "0.26"), *_art8("Li", "0.06", "0.12"), *_art8("Ni", "0.06", "0.15"),
    *_annex12("Co", "0.90", "0.95"), *_annex12("Ni", "0.90", "0.95"), *_annex12("Cu", "0.90", "0.95"),
    *_annex12("Pb", "0.90", "0.95"), *_annex12("Li", "0.50", "0.80"),
    _miit("Li", "0.90"), _miit("Ni", "0.98"), _miit("Co", "0.98"), _miit("Mn", "0.98"),
    Target("eu.annex12b.2025.li-based", f"{_REG} Annex XII Part B", "recycling_efficiency", "*",
           Decimal("0.65"), date(2025, 12, 31), _XII_SRC, "by mass of the waste battery; not computed by lichain",
           True, NOT_IMPLEMENTED),
    Target("eu.annex12b.2030.li-based", f"{_REG} Annex XII Part B", "recycling_efficiency", "*",
           Decimal("0.70"), date(2030, 12, 31), _XII_SRC, "by mass of the waste battery; not computed by lichain",
           True, NOT_IMPLEMENTED),
)  # fmt: skip


def targets_for(metric: str, element: str, regimes: Iterable[str] | None = None) -> list[Target]:
    """Targets of one metric and element, optionally only those whose key starts with one of ``regimes``."""
    out = [t for t in TARGETS if t.metric == metric and t.element == element]
    if regimes is not None:
        prefixes = tuple(regimes)
        out = [t for t in out if t.key.startswith(prefixes)]
    return out


def compare(value: float | None, metric: str, element: str,
            regimes: Iterable[str] | None = None) -> tuple[TargetCheck, ...]:
    """Compare a figure [kg kg⁻¹] with every matching target; indicative, never a compliance statement.

    Parameters
    ----------
    value
        The computed share or recovery (None when undefined, e.g. the lot holds no such element).
    metric, element
        As in :class:`Target`.
    regimes
        Key prefixes to keep, e.g. ``("eu.art8",)``.

    Returns
    -------
    One :class:`TargetCheck` per target (its public citations as ``sources``, and ``status``:
    :data:`INDICATIVE` for the Art. 8 minimums, whose methodology is not adopted).
    References: Regulation (EU) 2023/1542 Art. 8 and Annex XII; MIIT 规范条件 (2024年本).
    """
    out: list[TargetCheck] = []
    for t in targets_for(metric, element, regimes):
        m = float(t.minimum)
        out.append(TargetCheck(t.key, t.regime, m, t.applies_from.isoformat(),
                               None if value is None else round(value, PRECISION) >= m,
                               None if value is None else value - m, t.status, t.methodology,
                               tuple(SourceRef(c.title, c.publisher, None if c.year is None else str(c.year), c.url)
                                     for c in t.citations)))
    return tuple(out)
