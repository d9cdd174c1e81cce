"""Public citations: the publications lichain's factors and targets rest on, as customers may be shown them.

Why: a document sent to a customer (a Catena-X PCF, a recycled-content or recovery comparison, the ESG report)
must name its sources as a reader can find them: title, publisher, year and a URL or DOI. The project's own audit
notes (evidence grades such as "recalled, verify", the repository or mirror a figure was read from, the news site
that reported an official value) belong to ``docs/reference`` and to the factor table's ``source`` column, never
to a customer document. This module holds the registry of publications, keyed by a short id that the factor
table (column ``citation``) and :mod:`lichain.core.targets` refer to, and the check that customer text carries
no internal marker (:func:`internal_markers`).

Every URL or DOI below was found in ``docs/reference/regulation-and-factors.md``, ``src/lichain/data/SOURCES.md``
or a public page that shows it; where none could be confirmed the citation has no URL rather than a guessed one.
Titles in parentheses are descriptive (the publication's exact title was not retrieved); see
``src/lichain/data/SOURCES.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "CITATIONS",
    "NEWS_SITES",
    "Citation",
    "cite",
    "internal_markers",
    "parse_ids",
]


@dataclass(frozen=True, slots=True)
class Citation:
    """One public publication: ``title``, ``publisher``, ``year`` (None: undated) and a URL or DOI link, if known."""

    id: str
    title: str
    publisher: str
    year: int | None
    url: str | None = None

    def __str__(self) -> str:
        """``"Title, Publisher (Year), URL"`` (``n.d.`` when undated; the URL only when known)."""
        year = "n.d." if self.year is None else str(self.year)
        return f"{self.title}, {self.publisher} ({year})" + (f", {self.url}" if self.url else "")

    def to_json(self) -> dict[str, object]:
        """``{"title", "publisher", "year", "url"}``; the year as text (a label, not a quantity), null when undated."""
        return {"title": self.title, "publisher": self.publisher,
                "year": None if self.year is None else str(self.year), "url": self.url}


_DESNZ = "Department for Energy Security and Net Zero (UK)"
_GOVUK = "https://www.gov.uk/government/publications/greenhouse-gas-reporting-conversion-factors-"

#: Every publication lichain cites, by id.
CITATIONS: dict[str, Citation] = {c.id: c for c in (
    Citation("eu-2023-1542", "Regulation (EU) 2023/1542 of the European Parliament and of the Council of 12 July "
             "2023 concerning batteries and waste batteries", "Official Journal of the European Union", 2023,
             "http://data.europa.eu/eli/reg/2023/1542/oj"),
    Citation("eu-2025-606", "Commission Delegated Regulation (EU) 2025/606 on the methodology for the calculation "
             "and verification of recycling efficiency and recovery of materials from waste batteries",
             "Official Journal of the European Union", 2025, "http://data.europa.eu/eli/reg_del/2025/606/oj"),
    Citation("desnz-2023", "Greenhouse gas reporting: conversion factors 2023", _DESNZ, 2023, _GOVUK + "2023"),
    Citation("desnz-2025", "Greenhouse gas reporting: conversion factors 2025", _DESNZ, 2025, _GOVUK + "2025"),
    Citation("ember-owid", "Lifecycle carbon intensity of electricity generation (Ember data, CC BY 4.0)",
             "Our World in Data", 2024, "https://ourworldindata.org/grapher/carbon-intensity-electricity"),
    Citation("statista-ember-world", "(Carbon intensity of the power sector worldwide, data by Ember, "
             "statistic 943137)", "Statista", 2024, "https://www.statista.com/statistics/943137/"),
    Citation("mee-2022", "关于发布2022年电力二氧化碳排放因子的公告 (Announcement on the 2022 electricity CO2 "
             "emission factors)", "Ministry of Ecology and Environment of the PRC and National Bureau of Statistics",
             2024, "https://www.mee.gov.cn/xxgk2018/xxgk/xxgk01/202412/t20241226_1099413.html"),
    Citation("miit-2024", "新能源汽车废旧动力电池综合利用行业规范条件（2024年本） (Industry standard conditions for the "
             "comprehensive utilisation of waste power batteries of new-energy vehicles, 2024 edition)",
             "Ministry of Industry and Information Technology of the PRC", 2024),
    Citation("wef-nzit-2023", "Net-Zero Industry Tracker 2023", "World Economic Forum", 2023,
             "https://www.weforum.org/publications/net-zero-industry-tracker-2023/digest"),
    Citation("wna-2011", "Comparison of Lifecycle Greenhouse Gas Emissions of Various Electricity Generation "
             "Sources (WNA Report)", "World Nuclear Association", 2011,
             "https://www.world-nuclear.org/uploadedFiles/org/WNA/Publications/Working_Group_Reports/"
             "comparison_of_lifecycle.pdf"),
    Citation("codecarbon-2024", "Methodology: carbon intensity of electricity sources (CodeCarbon documentation)",
             "CodeCarbon", 2024, "https://mlco2.github.io/codecarbon/methodology.html"),
    Citation("catenax-pcf", "PCF for battery component supplier, aspect model "
             "urn:samm:io.catenax.pcf_for_battery_component_supplier:1.0.0 (CC BY 4.0)",
             "Eclipse Tractus-X / Catena-X", 2026),
    Citation("ipcc-2006", "2006 IPCC Guidelines for National Greenhouse Gas Inventories",
             "Intergovernmental Panel on Climate Change (IPCC), IGES", 2006,
             "https://www.ipcc-nggip.iges.or.jp/public/2006gl/"),
    Citation("ciaaw-2021", "Standard atomic weights", "IUPAC Commission on Isotopic Abundances and Atomic Weights "
             "(CIAAW)", 2021, "https://www.ciaaw.org/atomic-weights.htm"),
    Citation("istrate-2024", "Decarbonizing lithium-ion battery primary raw materials supply chain: available "
             "strategies, mitigation potential and challenges (Istrate et al., Joule 8(11), 2992-3016)",
             "Elsevier (Joule)", 2024, "https://brgm.hal.science/hal-04823192v1"),
    Citation("hazarabedian", "Decarbonizing the nickel industry in Indonesia (whitepaper by S. Hazarabedian, "
             "K. O'Neill, N. Witto)", "publisher not stated in the retrieved copy", None),
    Citation("ieefa-2024", "(Emission intensities of Indonesian nickel producers MBMA, Harita and Antam)",
             "Institute for Energy Economics and Financial Analysis (IEEFA)", 2024),
    Citation("carbonchain-2024", "Understand your nickel emissions", "CarbonChain", 2024),
    Citation("element25", "(Life cycle assessment of high-purity manganese sulphate monohydrate, press release)",
             "Element 25 Limited", None),
    Citation("euromanganese-2022", "(Life cycle assessment of high-purity manganese with Minviro, press release "
             "of 4 August 2022)", "Euro Manganese Inc.", 2022),
    Citation("vtt-lipasto-2017", "LIPASTO unit emissions: energy use of electric driven mixed freight train in "
             "Finland in 2016", "VTT Technical Research Centre of Finland", 2017,
             "http://lipasto.vtt.fi/yksikkopaastot/tavaraliikennee/raideliikennee/sekatavarasahkoe.htm"),
    Citation("alsultanny-2014", "Oxygen Specific Power Consumption Comparison for Air Separation Units "
             "(Alsultanny and Al-Shammari)", "Engineering Journal 18(2)", 2014,
             "https://doi.org/10.4186/ej.2014.18.2.67"),
    Citation("ali-bartie-2023", "Simulation-based life cycle assessment of secondary materials from recycling of "
             "lithium-ion batteries (Ali, Bartie et al., preprint)", "SSRN", 2023,
             "https://ssrn.com/abstract=4516667"),
    Citation("liu-46-plants", "(Life cycle assessment of 46 Chinese lithium-ion battery recycling facilities, "
             "Liu et al.)", "journal not identified", None),
)}

# Sites that reported a figure second-hand: an audit note, never a customer-facing source.
NEWS_SITES = ("daydaynews", "新京报", "东风汽车报", "donews", "中国证券报", "中金网", "marketscreener",
              "globenewswire", "indonesiabusinesspost", "fxbaogao", "synapsesocial")
_REPO_PATH = re.compile(r"(?<![\w/.:-])(?:[\w.-]+/)+[\w.-]+\.(?:md|py|csv|xlsx|json|jsonld|sql|ttl)\b"
                        r"|regulation-and-factors|reference §")
_GRADE = re.compile(r"\[[RSPD]\b|\[[RSPD]:|\[[RSPD]\]")


def internal_markers(text: str) -> list[str]:
    """The internal markers in ``text`` (empty: fit for a customer document).

    Markers: evidence grades (``[R]``, ``[S: …]``, ``[P]``, ``[D]``), the word "verify", ``github.com``, a news
    site (:data:`NEWS_SITES`) and repository paths or reference-section pointers.
    """
    low = text.casefold()
    found = [m.group(0) for m in _GRADE.finditer(text)]
    found += [w for w in ("verify", "github.com") if w in low]
    found += [s for s in NEWS_SITES if s.casefold() in low]
    found += [m.group(0) for m in _REPO_PATH.finditer(text)]
    return found


def parse_ids(text: str) -> tuple[str, ...]:
    """Citation ids of a ``;``-separated cell, e.g. ``"desnz-2023; ipcc-2006"`` → ``("desnz-2023", "ipcc-2006")``."""
    return tuple(dict.fromkeys(p.strip() for p in text.split(";") if p.strip()))


def cite(ids: Iterable[str]) -> tuple[Citation, ...]:
    """The citations of ``ids`` in order, without repeats; an unknown id raises ``KeyError`` naming it."""
    out: list[Citation] = []
    for i in dict.fromkeys(ids):
        if i not in CITATIONS:
            raise KeyError(f"unknown citation id {i!r}")
        out.append(CITATIONS[i])
    return tuple(out)
