"""The sheets and columns of the tabular format, declared once for the reader, the writer and the README sheet.

People fill workbooks by hand, so every column carries its unit and meaning here; the template's README sheet
and ``docs/tabular.md`` are written from (and tested against) this one declaration, so they cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lichain.core.model import DEFAULT_ELEMENTS, ELECTRICITY_SOURCES
from lichain.core.passport import REGISTRATION_FIELDS, SPEC_FIELDS

__all__ = [
    "MASS_UNIT_HINT",
    "README_INTRO",
    "SHEETS",
    "SHEET_ORDER",
    "Column",
    "Sheet",
    "match_pattern",
]

MASS_UNIT_HINT = "kg, t, g or lb, or a UN/ECE code KGM, TNE, GRM, LBR"


@dataclass(frozen=True, slots=True)
class Column:
    """One column (or one family of columns, when ``name`` holds a ``<placeholder>``) of a sheet."""

    name: str
    required: bool
    unit: str
    meaning: str

    @property
    def prefix(self) -> str | None:
        """For a column family such as ``assay:<El>``, the fixed part ``assay:``; else None."""
        return self.name.split("<", 1)[0] if "<" in self.name else None


@dataclass(frozen=True, slots=True)
class Sheet:
    """A sheet (XLSX) or file (``<name>.csv``) and its columns."""

    name: str
    meaning: str
    columns: tuple[Column, ...]

    def fixed(self) -> dict[str, Column]:
        """Columns with a fixed name."""
        return {c.name: c for c in self.columns if c.prefix is None}

    def families(self) -> tuple[Column, ...]:
        """Column families (``assay:<El>``, ``reagent:<name>`` …)."""
        return tuple(c for c in self.columns if c.prefix is not None)

    def required(self) -> tuple[str, ...]:
        """Names of the columns that must be present."""
        return tuple(c.name for c in self.columns if c.required)


_ELEMENT = re.compile(r"^[A-Z][a-z]?$")

_MASS = (
    Column("mass", True, "mass_unit", "mass, a positive number in the unit of the mass_unit column"),
    Column("mass_unit", True, "", f"unit of mass: {MASS_UNIT_HINT}"),
)
_ASSAY = (
    *(
        Column(
            e, False, "kg/kg (0..1)", f"measured mass fraction of {e}; 0.39 means 39 %; empty = not assayed"
        )
        for e in DEFAULT_ELEMENTS
    ),
    Column("assay:<El>", False, "kg/kg (0..1)", "mass fraction of another element, e.g. assay:Cu, assay:Fe"),
    Column("assay_method", False, "", "assay method, e.g. ICP-OES"),
    Column("assay_lab", False, "", "laboratory that made the assay"),
    Column("origin", False, "", "virgin (default), pre_consumer or post_consumer (recycled)"),
    Column("quality:<name>", False, "as named", "quality attribute kept as text, e.g. quality:D50_um"),
)
_ACTIVITY = (
    Column("electricity_kwh", False, "kWh", "electricity used"),
    Column(
        "electricity_source",
        False,
        "",
        f"source of that electricity: {', '.join(ELECTRICITY_SOURCES)}; default grid",
    ),
    Column(
        "electricity_instrument", False, "", "contract or certificate reference (ppa, guarantee_of_origin)"
    ),
    Column(
        "electricity_kwh:<source>",
        False,
        "kWh",
        "more electricity from another source, e.g. electricity_kwh:captive_coal",
    ),
    Column("fuel_kind", False, "", "fuel burnt on site, e.g. natural_gas, diesel, coal"),
    Column("fuel_mj", False, "MJ (LHV)", "energy of that fuel, lower heating value"),
    Column("fuel_mj:<kind>", False, "MJ (LHV)", "another fuel, e.g. fuel_mj:diesel"),
    Column("water_m3", False, "m³", "water withdrawn"),
    Column("process_kg_co2e", False, "kg CO2e", "direct process emissions not covered by fuels"),
    Column("reagent:<name>", False, "kg", "reagent consumed that is not tracked as a lot, e.g. reagent:NaOH"),
    Column("reading:<name>", False, "as named", "process reading kept as text, e.g. reading:pH"),
)

SHEETS: dict[str, Sheet] = {
    s.name: s
    for s in (
        Sheet(
            "sites",
            "places that run processes or hold stock",
            (
                Column("id", True, "", "site identifier, unique (e.g. an SGLN or your own code)"),
                Column("name", True, "", "site name"),
                Column(
                    "kind",
                    True,
                    "",
                    "mine, concentrator, refinery, precursor_plant, cathode_plant, cell_plant, "
                    "recycler or warehouse",
                ),
                Column("country", True, "", "ISO 3166-1 alpha-2 code, e.g. ID, CD, CN, KR"),
                Column("organisation", True, "", "operating organisation"),
                Column("grid_region", False, "", "electricity grid region, for the grid emission factor"),
                Column("certifications", False, "", "certifications separated by ';', e.g. IRMA;ISO 14001"),
                Column("risk", False, "", "risk attributes separated by ';', e.g. CAHRA;ASM"),
                Column("ledger_owner", False, "", "yes on a site of the ledger owner's organisation (the "
                       "reporting organisation: its sites form Scope 1+2 of period reports)"),
            ),
        ),
        Sheet(
            "materials",
            "what lots are",
            (
                Column("code", True, "", "material code, unique"),
                Column("name", True, "", "material name"),
                Column(
                    "stage",
                    True,
                    "",
                    "ore, concentrate, intermediate, refined_salt, pcam, cam, cell, scrap, "
                    "black_mass, recovered_salt or reagent",
                ),
                Column("formula", False, "", "nominal formula, e.g. NiSO4·6H2O or LiNi0.8Co0.1Mn0.1O2"),
            ),
        ),
        Sheet(
            "lots",
            "source lots only: mine output or purchased material that no run in the ledger made",
            (
                Column("id", True, "", "lot identifier, unique in the ledger"),
                Column("material", True, "", "material code (materials sheet or ledger)"),
                Column("site", True, "", "site where the lot is (sites sheet or ledger)"),
                Column("produced_at", True, "time", "when the lot was produced or received"),
                *_MASS,
                *_ASSAY,
                *_ACTIVITY,
            ),
        ),
        Sheet(
            "runs",
            "process runs: one execution of one process at one site",
            (
                Column("id", True, "", "run identifier, unique"),
                Column("site", True, "", "site where the run happens"),
                Column(
                    "kind", True, "", "process kind, e.g. leaching, refining, co_precipitation, calcination"
                ),
                Column("started_at", True, "time", "start of the run"),
                Column(
                    "ended_at",
                    True,
                    "time",
                    "end of the run; outputs are produced then unless told otherwise",
                ),
                *_ACTIVITY,
                *(
                    Column(f"loss_{e}", False, "kg", f"declared loss of {e} to effluent or residue")
                    for e in DEFAULT_ELEMENTS
                ),
                Column("loss_<El>", False, "kg", "declared loss of another element, e.g. loss_Cu"),
                Column(
                    "allocation",
                    False,
                    "",
                    "how the run's burden is shared by its outputs: mass (default) or "
                    "economic (then every output needs a value)",
                ),
            ),
        ),
        Sheet(
            "run_inputs",
            "lots (or parts of lots) consumed by runs; every run needs at least one",
            (
                Column("run", True, "", "run id (runs sheet)"),
                Column("lot", True, "", "lot consumed (lots sheet, run_outputs sheet or ledger)"),
                *_MASS,
            ),
        ),
        Sheet(
            "run_outputs",
            "lots made by runs; every run needs at least one",
            (
                Column("run", True, "", "run id (runs sheet)"),
                Column("lot", True, "", "id of the new lot, unique in the ledger"),
                Column("material", True, "", "material code"),
                *_MASS,
                *_ASSAY,
                Column("produced_at", False, "time", "when the lot was made; default the run's ended_at"),
                Column("site", False, "", "site of the new lot; default the run's site"),
                Column(
                    "value", False, "any currency", "declared value of the output, for economic allocation"
                ),
            ),
        ),
        Sheet(
            "shipments",
            "lots (or parts of lots) moving from site to site",
            (
                Column("id", True, "", "shipment identifier, unique"),
                Column("lot", True, "", "lot shipped"),
                *_MASS,
                Column("from_site", True, "", "site of departure"),
                Column("to_site", True, "", "site of arrival"),
                Column("shipped_at", True, "time", "departure time"),
                Column(
                    "mode",
                    False,
                    "",
                    "transport mode, default sea_container (with factors: road, road_hgv_all, rail, rail_electric:CN, "
                    "sea_bulk, sea_container, sea_general_cargo, air)",
                ),
                Column("distance_km", False, "km", "distance travelled, default 0"),
                Column("to_organisation", False, "", "receiving organisation when the lot changes hands"),
            ),
        ),
        Sheet(
            "supplier_pcfs",
            "product carbon footprints your suppliers declare for lots you bought (source lots of the lots "
            "sheet); the footprint uses them instead of a secondary factor",
            (
                Column("lot", True, "", "id of the purchased lot"),
                Column("value", True, "unit column", "the PCF, a number ≥ 0 in the unit of the unit column"),
                Column("unit", False, "", "kg CO2e/kg (per kg of the lot, default) or kg CO2e/kg <El> (per kg of "
                                          "an element contained, e.g. kg CO2e/kg Ni; needs the lot's assay)"),
                Column("supplier", True, "", "the supplier organisation that declares the PCF"),
                Column("document", True, "", "reference of the supplier's PCF document"),
                Column("boundary", False, "", "system boundary: cradle-to-gate (default; the only one accepted)"),
                Column("standard", False, "", "ISO 14067:2018 (default), PACT Methodology v2 or v3, Catena-X PCF "
                                              "Rulebook or GHG Protocol Product Standard"),
                Column("data_quality_rating", False, "1..5", "data-quality rating on the PEF scale "
                                                             "(Catena-X dataQualityRating; 1 best)"),
                Column("primary_data_share", False, "%", "share of primary data in the PCF, 0..100"),
                Column("valid_from", False, "time", "start of the PCF's validity period"),
                Column("valid_until", False, "time", "end of the PCF's validity period"),
                Column("declared_at", False, "time", "when the PCF was declared; default valid_from, else the "
                                                     "earliest time in the workbook"),
            ),
        ),
        Sheet(
            "site_risks",
            "due-diligence statements about sites (OECD Annex II, Regulation (EU) 2023/1542 Art. 48-52): red "
            "flags, CAHRA listings, artisanal mining, audits, certifications, each from its date; a later row with "
            "the same id and site updates it (docs/diligence.md)",
            (
                Column("id", True, "", "id of the red flag, audit, listing or certification spoken of"),
                Column("site", True, "", "site the statement is about (sites sheet or ledger)"),
                Column("kind", True, "", "red_flag, cahra, asm, audit or certification"),
                Column("status", True, "", "red_flag: open, mitigating, closed; cahra: listed, delisted; asm: "
                                           "present, absent; audit: conformant, lapsed, suspended, non_conformant; "
                                           "certification: valid, lapsed, withdrawn"),
                Column("valid_from", True, "time", "from when the status holds (the statement enters then)"),
                Column("valid_to", False, "time", "until when (default: until the next statement of the id)"),
                Column("category", False, "", "for a red flag: an OECD Annex II risk (e.g. serious_abuses, "
                                              "money_laundering) or an Annex X category (e.g. biodiversity, "
                                              "labour_rights)"),
                Column("scheme", False, "", "for an audit or certification, e.g. RMAP, IRMA, ISO 14001"),
                Column("source", True, "", "where the statement comes from (audit report, list, grievance)"),
                Column("reference", False, "", "a document id or URL"),
                Column("declared_at", False, "time", "when the statement was made; default valid_from"),
            ),
        ),
        Sheet(
            "diligence_policies",
            "the organisation's supply-chain due-diligence policy (OECD Due Diligence Guidance step 1, Regulation "
            "(EU) 2023/1542 Art. 49), from the day it was adopted; a later row with the same id supersedes it "
            "(docs/diligence.md)",
            (
                Column("id", True, "", "id of the policy (its document number or a name)"),
                Column("organisation", True, "", "whose policy it is"),
                Column("title", True, "", "the policy's title"),
                Column("adopted", True, "time", "when it was adopted (the statement enters then)"),
                Column("reference", True, "", "the policy document: a document id or URL"),
                Column("public_url", False, "", "where the policy is published (http or https)"),
                Column("verification", False, "", "third-party verification of the policy: body and report"),
            ),
        ),
        Sheet(
            "risk_measures",
            "risk-mitigation measures at sites (OECD Due Diligence Guidance step 3), each in its status from a "
            "date; a later row with the same id updates it (docs/diligence.md)",
            (
                Column("id", True, "", "id of the measure"),
                Column("site", True, "", "site the measure is about (sites sheet or ledger)"),
                Column("action", True, "", "what is done"),
                Column("owner", True, "", "who carries it out"),
                Column("status", True, "", "planned, in_progress, completed or abandoned"),
                Column("valid_from", True, "time", "from when the status holds (the record enters then)"),
                Column("risk", False, "", "id of the risk statement it answers (site_risks)"),
                Column("strategy", False, "", "continue_mitigation, suspend_mitigation or disengage (OECD step 3)"),
                Column("due", False, "time", "when it is due"),
                Column("reference", False, "", "a document id or URL"),
            ),
        ),
        Sheet(
            "specifications",
            "versioned specification limits, one row per property: of a material's certificate of analysis "
            "(scope material, subject the material code) or of a line's process parameters (scope process, "
            "subject the line); rows with the same subject, scope and version form one specification "
            "(docs/manufacturing.md)",
            (
                Column("subject", True, "", "material code (scope material) or line id (scope process)"),
                Column("version", True, "", "version of the specification, e.g. QS-PCAM-811/3"),
                Column("scope", False, "", "material (default) or process"),
                Column("issued_at", True, "time", "when this version was issued"),
                Column("property", True, "", "CoA property (assay_Ni, D50, tap_density, BET, Na, moisture, "
                                             "magnetic …) or process parameter (pH, temperature …)"),
                Column("unit", True, "as named", "the property's unit: kg/kg, µm, g/cm3, m2/g, ppm, %, ppb; pH, "
                                                 "°C, g/L, rpm, L/h, h, L/min"),
                Column("low", False, "unit", "lowest value in specification"),
                Column("high", False, "unit", "highest value in specification"),
                Column("source", False, "", "the specification document"),
            ),
        ),
        Sheet(
            "certificates",
            "certificates of analysis of lots, one row per measured property; rows with the same id form one "
            "certificate, judged against the named version of its material's specification",
            (
                Column("id", True, "", "certificate number"),
                Column("lot", True, "", "the lot analysed (lots or runs sheets, or ledger)"),
                Column("spec_version", True, "", "version of the lot's material specification it is judged "
                                                 "against"),
                Column("issued_at", True, "time", "when the certificate was issued"),
                Column("lab", True, "", "laboratory that issued it"),
                Column("method", False, "", "methods, e.g. laser diffraction, ICP-OES"),
                Column("property", True, "", "assay_Ni, assay_Co, assay_Mn, assay_Li, assay_Al, D10, D50, D90, "
                                             "tap_density, BET, Na, S, Fe, Cu, Zn, moisture, magnetic"),
                Column("value", True, "unit", "the measured value"),
                Column("unit", True, "as named", "kg/kg (assays, 0..1), µm (D10/D50/D90), g/cm3, m2/g, ppm "
                                                 "(Na, S, Fe, Cu, Zn), % (moisture), ppb (magnetic)"),
            ),
        ),
        Sheet(
            "deviations",
            "approved deviations: an out-of-specification lot may be consumed (by any run, or by the named "
            "one)",
            (
                Column("id", True, "", "deviation number"),
                Column("lot", True, "", "the lot released"),
                Column("approved_by", True, "", "who approved it"),
                Column("reason", True, "", "why"),
                Column("declared_at", True, "time", "when it was approved"),
                Column("properties", False, "", "failing properties it covers, separated by ';' (empty: all)"),
                Column("run", False, "", "the one run it permits (empty: any run)"),
            ),
        ),
        Sheet(
            "spc_alarms",
            "control-chart signals recorded for a line's parameter (lichain spc --record-alarms)",
            (
                Column("id", True, "", "line/parameter/chart/rule/interval start"),
                Column("line", True, "", "production line"),
                Column("parameter", True, "", "process parameter, e.g. pH"),
                Column("chart", True, "", "xbar, r, i or mr"),
                Column("rule", True, "", "WE1..WE4 (Western Electric) or N1..N8 (Nelson)"),
                Column("window_start", True, "time", "start of the signalled interval"),
                Column("window_end", True, "time", "end of the signalled interval"),
                Column("value", True, "unit", "the chart point"),
                Column("center", True, "unit", "centre line"),
                Column("lcl", True, "unit", "lower control limit"),
                Column("ucl", True, "unit", "upper control limit"),
                Column("unit", True, "as named", "the parameter's unit"),
                Column("declared_at", True, "time", "when the alarm was recorded"),
            ),
        ),
        Sheet(
            "process_batches",
            "manifests of ingested process readings, one row per Parquet partition file; rows with the same id "
            "form one batch (the files stay in the process folder beside the ledger)",
            (
                Column("id", True, "", "batch id"),
                Column("line", True, "", "production line"),
                Column("site", False, "", "the line's site"),
                Column("source", True, "", "file the readings came from"),
                Column("digest", True, "", "SHA-256 of the sorted 'path sha256' lines of the batch's files"),
                Column("rows", True, "readings", "readings in the batch"),
                Column("time_from", True, "time", "first reading"),
                Column("time_to", True, "time", "last reading"),
                Column("units", True, "", "unit per parameter, e.g. pH=pH; temperature=°C"),
                Column("runs", False, "", "runs the readings link to, separated by ';'"),
                Column("file", True, "", "partition file, relative to the process folder"),
                Column("sha256", True, "", "SHA-256 of the file"),
                Column("file_rows", True, "readings", "readings in the file"),
                Column("declared_at", False, "time", "when the batch was recorded; default time_to"),
            ),
        ),
        Sheet(
            "cell_specs",
            "the cell maker's data of one battery of a cell lot, for its battery passport (Regulation (EU) "
            "2023/1542 Art. 77, Annex XIII; docs/passport.md): figures per battery, units in the column names; a "
            "later row for the same lot supersedes",
            (*(Column(f.name, f.required, f.unit, f.meaning) for f in SPEC_FIELDS),
             Column("declared_at", False, "time", "when the data were stated; default the earliest time in the "
                                                  "workbook")),
        ),
        Sheet(
            "battery_registrations",
            "battery ids registered in a cell lot, each the id of one battery's passport; a second life (reused, "
            "repurposed, remanufactured) registers the new id with its predecessor (docs/passport.md)",
            (*(Column(f.name, f.required, f.unit, f.meaning) for f in REGISTRATION_FIELDS),
             Column("registered_at", False, "time", "when the batteries were registered; default the earliest "
                                                    "time in the workbook")),
        ),
        Sheet(
            "corrections",
            "records entered by mistake: each row retracts one (it stays on record, out of balances and "
            "traces); enter the corrected record in the other sheets and name it in corrected_by",
            (
                Column("retract", True, "", "id of the run, shipment or lot to retract (this workbook or the "
                                            "ledger), or its event id"),
                Column("reason", True, "", "why, e.g. incorrect_data, did_not_occur, or a sentence"),
                Column("corrected_by", False, "", "ids of the runs or shipments that replace it, separated "
                                                  "by ';'"),
                Column("declared_at", False, "time", "when the mistake was declared; default: when the "
                                                     "workbook is read"),
                Column("kind", False, "", "run, shipment, lot or event, when the id alone is ambiguous"),
            ),
        ),
    )
}

SHEET_ORDER: tuple[str, ...] = tuple(SHEETS)

README_INTRO: tuple[str, ...] = (
    "lichain tabular format: one workbook (or a folder of CSV files with the same names) records a chain.",
    "Row 1 of every sheet holds the column names; each later row is one record. Empty rows are skipped.",
    "Units are explicit: every mass has a mass_unit (kg, t, g, lb); other units are fixed by the column name.",
    "Mass fractions are 0..1 (39 % is written 0.39). Times are ISO 8601 text with a UTC offset or Z, "
    "e.g. 2024-03-01T08:00:00Z or 2024-03-01T16:00:00+08:00 (an Excel date cell has no offset: write text).",
    "Sites, materials and lots may also be ones already in the ledger. Sheets you do not need may be left out.",
    "To fix a record, retract it in the corrections sheet and enter the corrected one (with a new id) in its "
    "sheet: the workbook is accepted or refused as a whole.",
    "When a workbook is read, every problem is reported at once with its sheet and cell (e.g. runs!D7).",
)


def match_pattern(sheet: Sheet, header: str) -> tuple[Column, str] | None:
    """The column family a header belongs to and its variable part (``assay:Cu`` → (assay:<El>, "Cu"))."""
    for col in sheet.families():
        prefix = col.prefix
        assert prefix is not None
        if header.startswith(prefix) and len(header) > len(prefix):
            rest = header[len(prefix) :]
            if col.name.endswith("<El>") and not _ELEMENT.match(rest):
                continue
            if col.name.endswith("<source>") and rest not in ELECTRICITY_SOURCES:
                continue
            return col, rest
    return None
