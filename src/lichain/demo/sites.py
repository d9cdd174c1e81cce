"""Master data of the demo chain: organisations, sites, materials with GS1 identities, and transport routes.

Why a module of its own: the sites, materials and lanes are the fixed stage on which the generator plays; keeping
them as data (not scattered through the simulation) lets docs, tests and the EPCIS writer read one table. All
organisations are fictional; place names only say what kind of location a site stands for ("Morowali/Weda
Bay-like"). GTINs use the GS1 prefix 952, which GS1 reserves for demonstrations and examples, so no real trade
item is named. Lot identifiers are constrained canonical GS1 Digital Link URIs
(``https://id.gs1.org/01/{gtin14}/10/{lot}``), the form :func:`lichain.io.gs1_uri.normalise_epc` returns.

Distances are rough port-to-port sea distances (or road/rail distances) in km; each entry of :data:`ROUTES` says
where its figure comes from ([S] retrieved source, [R] recalled estimate to verify). Transit days follow from the
distance at a typical service speed plus port and handling time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from lichain.core.model import DiligencePolicy, Material, RiskMeasure, Site, SiteRisk

__all__ = [
    "CUSTOMERS",
    "MATERIALS",
    "ORG_OWN",
    "ROUTES",
    "SITES",
    "MaterialSpec",
    "Route",
    "S",
    "diligence_records",
    "gtin14",
    "lot_uri",
    "record_time",
    "risk_statements",
]

# --- organisations --------------------------------------------------------------------------------------------
ORG_OWN = "Demo Integrated Battery Materials Group"
ORG_DRC = "Demo Katanga Cobalt SARL"
ORG_AU = "Demo Southwest Spodumene Pty Ltd"
ORG_CL = "Demo Atacama Lithium SpA"
ORG_ZA = "Demo Kalahari Manganese (Pty) Ltd"
ORG_KR = "Demo Cell Korea Co., Ltd."
ORG_PL = "Demo Cell Poland sp. z o.o."
ORG_HU = "Demo Cell Hungary Kft."

#: GS1 company prefixes (7 digits, under the demonstration prefix 952), one per brand owner.
_PREFIX = {ORG_OWN: "9520001", ORG_DRC: "9520002", ORG_AU: "9520003", ORG_CL: "9520004", ORG_ZA: "9520005",
           ORG_KR: "9520006", ORG_PL: "9520007", ORG_HU: "9520008"}  # fmt: skip


class S:
    """Site ids of the demo chain."""

    MINE = "ID-HALMAHERA-MINE"
    HPAL = "ID-HALMAHERA-HPAL"
    DRC = "CD-KOLWEZI-COHYDROXIDE"
    AU = "AU-SOUTHWEST-SPODUMENE"
    CL = "CL-ANTOFAGASTA-LITHIUM"
    ZA = "ZA-KALAHARI-MANGANESE"
    REFINERY = "CN-QUZHOU-REFINERY"
    LIREF = "CN-QUZHOU-LITHIUM"
    PCAM = "CN-QUZHOU-PRECURSOR"
    CAM = "CN-TONGXIANG-CATHODE"
    RECYCLER = "CN-QUZHOU-RECYCLING"
    KR = "KR-OCHANG-CELLS"
    PL = "PL-WROCLAW-CELLS"
    HU = "HU-IVANCSA-CELLS"


SITES: tuple[Site, ...] = (
    Site(S.MINE, "Halmahera laterite mine (demo; Weda Bay-like)", "mine", "ID", ORG_OWN, "ID",
         ("ISO 14001",), ("tailings", "deforestation")),
    Site(S.HPAL, "Halmahera HPAL plant, captive coal power (demo; Weda Bay/Morowali-like)", "refinery", "ID", ORG_OWN,
         "ID", ("ISO 14001",), ("tailings",)),
    Site(S.DRC, "Kolwezi Cu-Co hydroxide plant (demo)", "mine", "CD", ORG_DRC, "CD", ("ISO 14001",), ("CAHRA", "ASM")),
    Site(S.AU, "South-west spodumene concentrator (demo; Greenbushes-like)", "concentrator", "AU", ORG_AU, "AU",
         ("ISO 14001",)),
    Site(S.CL, "Antofagasta lithium carbonate plant, Atacama brine (demo)", "refinery", "CL", ORG_CL, "CL",
         ("ISO 14001", "IRMA")),
    Site(S.ZA, "Kalahari manganese mine (demo)", "mine", "ZA", ORG_ZA, "ZA", ("ISO 14001",)),
    Site(S.REFINERY, "Quzhou nickel-cobalt-manganese refinery (demo)", "refinery", "CN", ORG_OWN, "CN-EAST",
         ("RMAP", "ISO 14001", "ISO 45001")),
    Site(S.LIREF, "Quzhou lithium hydroxide refinery (demo)", "refinery", "CN", ORG_OWN, "CN-EAST",
         ("ISO 14001",)),
    Site(S.PCAM, "Quzhou precursor (pCAM) plant, co-precipitation lines (demo)", "precursor_plant", "CN", ORG_OWN,
         "CN-EAST", ("ISO 14001", "IATF 16949")),
    Site(S.CAM, "Tongxiang cathode (CAM) plant, calcination lines (demo)", "cathode_plant", "CN", ORG_OWN, "CN-EAST",
         ("ISO 14001", "IATF 16949"), ledger_owner=True),  # declares the ledger owner (reporting organisation)
    Site(S.RECYCLER, "Quzhou hydrometallurgical battery recycler (demo)", "recycler", "CN", ORG_OWN, "CN-EAST",
         ("ISO 14001",)),
    Site(S.KR, "Ochang cell plant (demo)", "cell_plant", "KR", ORG_KR, "KR", ("ISO 14001", "IATF 16949")),
    Site(S.PL, "Wroclaw cell plant (demo)", "cell_plant", "PL", ORG_PL, "PL", ("ISO 14001", "IATF 16949")),
    Site(S.HU, "Ivancsa cell plant (demo)", "cell_plant", "HU", ORG_HU, "HU", ("ISO 14001", "IATF 16949")),
)

#: Cell plants (customers of the CAM plant): site id, organisation, share of CAM lots shipped there.
CUSTOMERS: tuple[tuple[str, str, float], ...] = ((S.KR, ORG_KR, 0.40), (S.PL, ORG_PL, 0.35), (S.HU, ORG_HU, 0.25))


def gtin14(prefix: str, item: int) -> str:
    """A GTIN-14 (indicator 0, company prefix, item reference, GS1 mod-10 check digit)."""
    body = f"0{prefix}{item:05d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str(-total % 10)


def lot_uri(gtin: str, lot: str) -> str:
    """Constrained canonical GS1 Digital Link URI of a lot (batch) of a trade item."""
    return f"https://id.gs1.org/01/{gtin}/10/{lot}"


@dataclass(frozen=True, slots=True)
class MaterialSpec:
    """A material of the demo with its brand owner's GTIN."""

    code: str
    name: str
    stage: str
    formula: str | None
    owner: str
    gtin: str

    def material(self) -> Material:
        """The master-data record."""
        return Material(self.code, self.name, self.stage, self.formula)


_MATERIAL_ROWS: tuple[tuple[str, str, str, str | None, str], ...] = (
    ("NI-LATERITE-ORE", "Nickel laterite ore (limonite), dry basis", "ore", None, ORG_OWN),
    ("MHP", "Mixed hydroxide precipitate (Ni-Co), dry basis", "intermediate", None, ORG_OWN),
    ("CO-HYDROXIDE", "Crude cobalt hydroxide, dry basis", "intermediate", None, ORG_DRC),
    ("SPODUMENE-SC6", "Spodumene concentrate SC6 (6 % Li2O)", "concentrate", None, ORG_AU),
    ("LI2CO3", "Lithium carbonate, battery grade (brine)", "refined_salt", "Li2CO3", ORG_CL),
    ("MN-ORE", "Manganese ore, dry basis", "ore", None, ORG_ZA),
    ("NISO4", "Nickel sulfate hexahydrate, battery grade", "refined_salt", "NiSO4·6H2O", ORG_OWN),
    ("COSO4", "Cobalt sulfate heptahydrate, battery grade", "refined_salt", "CoSO4·7H2O", ORG_OWN),
    ("MNSO4", "Manganese sulfate monohydrate, battery grade", "refined_salt", "MnSO4·H2O", ORG_OWN),
    ("LIOH", "Lithium hydroxide monohydrate, battery grade", "refined_salt", "LiOH·H2O", ORG_OWN),
    ("PCAM-NCM811", "NCM811 precursor hydroxide", "pcam", "Ni0.8Co0.1Mn0.1(OH)2", ORG_OWN),
    ("PCAM-NCM622", "NCM622 precursor hydroxide", "pcam", "Ni0.6Co0.2Mn0.2(OH)2", ORG_OWN),
    ("CAM-NCM811", "NCM811 cathode active material", "cam", "LiNi0.8Co0.1Mn0.1O2", ORG_OWN),
    ("CAM-NCM622", "NCM622 cathode active material", "cam", "LiNi0.6Co0.2Mn0.2O2", ORG_OWN),
    ("CELL-NCM811-KR", "NCM811 pouch cells (Korea)", "cell", None, ORG_KR),
    ("CELL-NCM622-KR", "NCM622 pouch cells (Korea)", "cell", None, ORG_KR),
    ("CELL-NCM811-PL", "NCM811 pouch cells (Poland)", "cell", None, ORG_PL),
    ("CELL-NCM622-PL", "NCM622 pouch cells (Poland)", "cell", None, ORG_PL),
    ("CELL-NCM811-HU", "NCM811 prismatic cells (Hungary)", "cell", None, ORG_HU),
    ("CELL-NCM622-HU", "NCM622 prismatic cells (Hungary)", "cell", None, ORG_HU),
    ("SCRAP-KR", "Cathode production scrap (electrode trim, rejects), Korea", "scrap", None, ORG_KR),
    ("SCRAP-PL", "Cathode production scrap (electrode trim, rejects), Poland", "scrap", None, ORG_PL),
    ("SCRAP-HU", "Cathode production scrap (electrode trim, rejects), Hungary", "scrap", None, ORG_HU),
    ("EOL-MODULES", "End-of-life EV battery modules (NCM)", "scrap", None, ORG_OWN),
    ("BLACK-MASS", "Black mass (shredded and sieved electrode powder)", "black_mass", None, ORG_OWN),
    ("NISO4-REC", "Recovered nickel sulfate hexahydrate", "recovered_salt", "NiSO4·6H2O", ORG_OWN),
    ("COSO4-REC", "Recovered cobalt sulfate heptahydrate", "recovered_salt", "CoSO4·7H2O", ORG_OWN),
    ("MNSO4-REC", "Recovered manganese sulfate monohydrate", "recovered_salt", "MnSO4·H2O", ORG_OWN),
    ("LI2CO3-REC", "Recovered lithium carbonate", "recovered_salt", "Li2CO3", ORG_OWN),
)


def _materials() -> dict[str, MaterialSpec]:
    items: dict[str, int] = {}
    out: dict[str, MaterialSpec] = {}
    for code, name, stage, formula, owner in _MATERIAL_ROWS:
        items[owner] = items.get(owner, 0) + 1
        out[code] = MaterialSpec(code, name, stage, formula, owner, gtin14(_PREFIX[owner], 10 * items[owner]))
    return out


#: Material code → spec, in declaration order.
MATERIALS: dict[str, MaterialSpec] = _materials()


@dataclass(frozen=True, slots=True)
class Route:
    """A transport lane: mode, distance [km] and door-to-door time [d] (sea time + port and handling)."""

    mode: str
    distance_km: Decimal
    days: float
    to_organisation: str | None = None


_BULK_KM_PER_DAY = 24.1 * 24  # 13 kn bulk carrier service speed [R]
_BOX_KM_PER_DAY = 29.6 * 24  # 16 kn container liner speed [R]


def _sea(mode: str, km: int, extra_days: float, org: str | None = None) -> Route:
    speed = _BULK_KM_PER_DAY if mode == "sea_bulk" else _BOX_KM_PER_DAY
    return Route(mode, Decimal(km), km / speed + extra_days, org)


#: (from site, to site) → lane. Sea legs are port-to-port: the inland legs to and from the ports are not recorded
#: because the ledger counts every shipment of a lot against its mass, so one lot cannot take two legs.
ROUTES: dict[tuple[str, str], Route] = {
    # mine → HPAL within the industrial park: haul road [R, assumed 25 km]
    (S.MINE, S.HPAL): Route("road", Decimal(25), 0.2),
    # Halmahera (Weda Bay) → Ningbo, about 4,300 km by sea [R, estimate; verify with a sea-route calculator].
    # Cargoes of ~9,500 t MHP on the Morowali → Ningbo lane are reported [S: Reuters via channelnewsasia.com,
    # 14 Feb 2022].
    (S.HPAL, S.REFINERY): _sea("sea_bulk", 4300, 4.0, None),
    # Dar es Salaam → Shanghai 12,971 km by sea; the 2,490 km road leg Kolwezi → Dar es Salaam is in the lead
    # time (+7 d) but not recorded [S: Istrate et al. 2024 LCI, reference emission-factors.csv route.*].
    (S.DRC, S.REFINERY): _sea("sea_bulk", 12971, 11.0, ORG_OWN),
    # Bunbury → China 7,240 km by sea (Kelly et al. 2021 inventory; the 402 km rail and 322 km road legs are not
    # recorded) [S: reference regulation-and-factors.md §4.6, spodumene_concentrate.AU.delivered_CN].
    (S.AU, S.LIREF): _sea("sea_bulk", 7240, 5.0, ORG_OWN),
    # Antofagasta/Mejillones → Ningbo, about 18,500 km across the Pacific [R, estimate]; bagged Li2CO3 in boxes.
    (S.CL, S.CAM): _sea("sea_container", 18500, 5.0, ORG_OWN),
    # Port Elizabeth/Ngqura → Ningbo, about 13,000 km via the Indian Ocean [R, estimate].
    (S.ZA, S.REFINERY): _sea("sea_bulk", 13000, 6.0, ORG_OWN),
    # Quzhou park transfers and Quzhou → Tongxiang (~260 km) by road [R, estimated road distance].
    (S.REFINERY, S.PCAM): Route("road", Decimal(15), 0.5),
    (S.LIREF, S.CAM): Route("road", Decimal(260), 1.0),
    (S.PCAM, S.CAM): Route("road", Decimal(260), 1.0),
    (S.RECYCLER, S.PCAM): Route("road", Decimal(15), 0.5),
    (S.RECYCLER, S.CAM): Route("road", Decimal(260), 1.0),
    # Ningbo → Busan ~900 km [R]; Ningbo → Gdansk via Suez ~20,800 km [R]; Ningbo → Koper via Suez ~16,000 km,
    # the usual gateway port for Hungary [R]. Inland legs (+2–4 d) are in the lead time only.
    (S.CAM, S.KR): _sea("sea_container", 900, 5.0, ORG_KR),
    (S.CAM, S.PL): _sea("sea_container", 20800, 8.0, ORG_PL),
    (S.CAM, S.HU): _sea("sea_container", 16000, 8.0, ORG_HU),
    # production scrap back to the recycler on the reverse lanes
    (S.KR, S.RECYCLER): _sea("sea_container", 900, 5.0, ORG_OWN),
    (S.PL, S.RECYCLER): _sea("sea_container", 20800, 8.0, ORG_OWN),
    (S.HU, S.RECYCLER): _sea("sea_container", 16000, 8.0, ORG_OWN),
}


def risk_statements(start: datetime) -> tuple[SiteRisk, ...]:
    """The demo's due-diligence scenario (all statements invented for the demo, and said so in their source).

    The Kolwezi area is on the CAHRA list with artisanal mining throughout; the Kalahari manganese mine loses its
    RMAP audit 30 days in (material that left it before does not carry the flag, material after does); a
    biodiversity red flag is raised at the Halmahera mine on day 45.
    """
    day = timedelta(days=1)
    return (
        SiteRisk("CAHRA-CD-LUALABA", S.DRC, "cahra", "listed", start,
                 "EU indicative list of conflict-affected and high-risk areas (demo statement)"),
        SiteRisk("ASM-KOLWEZI", S.DRC, "asm", "present", start, "supplier site visit (demo statement)"),
        SiteRisk("RMAP-KALAHARI", S.ZA, "audit", "conformant", start - 365 * day,
                 "RMAP assessment report (demo statement)", scheme="RMAP"),
        SiteRisk("RMAP-KALAHARI", S.ZA, "audit", "lapsed", start + 30 * day,
                 "RMAP conformant list update (demo statement)", scheme="RMAP"),
        SiteRisk("RF-HALMAHERA-BIODIVERSITY", S.MINE, "red_flag", "open", start + 45 * day,
                 "NGO grievance on forest clearing (demo statement)", category="biodiversity"),
    )


def diligence_records(start: datetime) -> tuple[SiteRisk | DiligencePolicy | RiskMeasure, ...]:
    """The risk statements above, the group's due-diligence policy (adopted before the demo year) and the measure
    it takes when the Kalahari audit lapses (day 33: re-assessment requested, new ore purchases suspended)."""
    day = timedelta(days=1)
    return (
        *risk_statements(start),
        DiligencePolicy("DDP-2025-01", ORG_OWN, "Responsible minerals sourcing policy (demo)", start - 60 * day,
                        "DDP-2025-01 rev. 1 (demo document)"),
        RiskMeasure("M-KALAHARI-REAUDIT", S.ZA, "request an RMAP re-assessment; no new manganese ore contracts "
                    "until conformant (demo)", "Procurement, " + ORG_OWN, "in_progress", start + 33 * day,
                    risk="RMAP-KALAHARI", strategy="suspend_mitigation", due=start + 120 * day),
    )


def record_time(r: SiteRisk | DiligencePolicy | RiskMeasure) -> datetime:
    """When a demo due-diligence record takes effect (and enters the ledger, if after the start)."""
    return r.adopted if isinstance(r, DiligencePolicy) else r.valid_from
