"""Write a customer declaration (:class:`lichain.core.diligence_emrt.EmrtDeclaration`) as an XLSX workbook.

Why this exists: suppliers exchange due-diligence declarations as spreadsheets in the layout of RMI's Extended
Minerals Reporting Template. RMI's workbook is copyrighted and not redistributed, so this writes a workbook of
our own with the same sheets (Declaration, Smelter List, Mine List, Product List) and the same columns in the
same order (the Smelter and Mine Lists' header on row 4, as in EMRT 2.1), followed by lichain's computed
columns (share of the metal, kg, audit status, risks), and two sheets of ours: Metals (per-metal figures) and
Missing (every field the ledger could not fill and why). A value the ledger does not hold is an empty cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from lichain.core.diligence_emrt import EmrtAnswer, EmrtDeclaration, MineRow, RiskShare, SmelterRow

__all__ = ["MINE_COLUMNS", "PRODUCT_COLUMNS", "SMELTER_COLUMNS", "write_emrt_xlsx"]

#: Smelter List columns A–Q in EMRT 2.1 order, then lichain's.
SMELTER_COLUMNS = (
    "Smelter Identification Number Input Column", "Metal", "Smelter Look-up", "Smelter Name", "Smelter Country",
    "Smelter Identification", "Source of Smelter Identification Number", "Smelter Street", "Smelter City",
    "Smelter Facility Location: State / Province", "Smelter Contact Name", "Smelter Contact Email",
    "Proposed next steps", "Name of Mine(s) or recycled / scrap", "Location (Country) of Mine(s) or recycled / "
    "scrap", "Does 100% of the smelter's feedstock originate from recycled or scrap sources?", "Comments",
    "lichain: site kind", "lichain: operator", "lichain: share of the delivered metal through it [kg/kg]",
    "lichain: metal through it [kg]", "lichain: audit status at period end", "lichain: certifications declared "
    "(undated master data)", "lichain: risks met [id: share]",
)
#: Mine List columns A–M in EMRT 2.1 order, then lichain's.
MINE_COLUMNS = (
    "Metal", "Name of Smelter(s) sourcing from this Mine Facility", "Mine Facility (Site) Name",
    "Mine Identification", "Source of Mine Facility Identification Number", "Mine Facility Country",
    "Mine Facility Street", "Mine Facility City", "Mine Facility Location: State / Province",
    "Mine Facility Contact Name", "Mine Facility Contact Email", "Proposed next steps", "Comments",
    "lichain: site kind", "lichain: operator", "lichain: share of the delivered metal from it [kg/kg]",
    "lichain: metal from it [kg]", "lichain: audit status at period end", "lichain: certifications declared "
    "(undated master data)", "lichain: risks met [id: share]",
)
#: Product List columns B–F of EMRT 2.1 (column A left empty as there), then lichain's.
PRODUCT_COLUMNS = ("", "Responder Product Number", "Responder Product Name", "Requester Product Number",
                   "Requester Product Name", "Comments", "lichain: lots", "lichain: shipments",
                   "lichain: mass shipped [kg]")
_HEADER_ROW = 4


def _risks(rs: Sequence[RiskShare]) -> str | None:
    return "; ".join(f"{r.id} ({r.kind} {r.status}): {r.share:.4f}" for r in rs) or None


def _join(v: Sequence[str]) -> str | None:
    return "; ".join(v) or None


def _smelter(r: SmelterRow) -> list[object]:
    return [None, r.metal, None, r.smelter_name, r.smelter_country, r.smelter_identification,
            r.identification_source, r.street, r.city, r.state_province, r.contact_name, r.contact_email,
            r.proposed_next_steps, _join(r.mines), _join(r.mine_countries), r.recycled_feedstock, r.comments,
            r.site_kind, r.operator, r.share, r.element_kg, _join(r.audit_status), _join(r.certifications_declared),
            _risks(r.risks)]


def _mine(r: MineRow) -> list[object]:
    return [r.metal, _join(r.smelters), r.mine_name, r.mine_identification, r.identification_source,
            r.mine_country, r.street, r.city, r.state_province, r.contact_name, r.contact_email,
            r.proposed_next_steps, r.comments, r.site_kind, r.operator, r.share, r.element_kg,
            _join(r.audit_status), _join(r.certifications_declared), _risks(r.risks)]


def _table(ws: Worksheet, title: str, note: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    ws.cell(1, 1, title).font = Font(bold=True, size=13)
    ws.cell(2, 1, note)
    for c, h in enumerate(header, start=1):
        ws.cell(_HEADER_ROW, c, h or None).font = Font(bold=True)
        ws.column_dimensions[ws.cell(_HEADER_ROW, c).column_letter].width = 14 if not h else min(len(h) + 2, 40)
    for r, row in enumerate(rows, start=_HEADER_ROW + 1):
        for c, v in enumerate(row, start=1):
            ws.cell(r, c, v)
    ws.freeze_panes = ws.cell(_HEADER_ROW + 1, 1)


def _answers(ws: Worksheet, start: int, title: str, answers: Sequence[EmrtAnswer]) -> int:
    ws.cell(start, 1, title).font = Font(bold=True)
    for c, h in enumerate(("Question", "Metal", "Question (paraphrased)", "Answer", "Basis"), start=1):
        ws.cell(start + 1, c, h).font = Font(bold=True)
    r = start + 2
    for a in answers:
        for c, v in enumerate((a.question, a.metal, a.text, a.answer, a.basis), start=1):
            ws.cell(r, c, v)
        r += 1
    return r + 1


def _declaration(ws: Worksheet, d: EmrtDeclaration) -> None:
    ws.cell(1, 1, "Declaration (layout of RMI EMRT 2.1; workbook written by lichain)").font = Font(bold=True,
                                                                                                    size=13)
    ws.cell(2, 1, d.template)
    fields: list[tuple[str, object]] = [
        ("Company Name", d.company), ("Declaration Scope or Class", d.scope),
        ("Description of Scope", d.scope_description), ("Select Minerals/Metals in Scope", ", ".join(d.minerals)),
        ("Scope note", d.scope_note), ("Company Unique ID", None), ("Company Unique ID Authority", None),
        ("Address", None), ("Contact Name", None), ("Email - Contact", None), ("Phone - Contact", None),
        ("Authorizer", None), ("Title - Authorizer", None), ("Email - Authorizer", None),
        ("Phone - Authorizer", None), ("Effective Date", d.effective_date), ("Customer", d.customer),
        ("Period", f"{d.period} ({d.period_start} .. {d.period_end})"), ("Method", d.method),
        ("Sources", "; ".join(d.sources)),
    ]
    for r, (k, v) in enumerate(fields, start=4):
        ws.cell(r, 1, k).font = Font(bold=True)
        ws.cell(r, 2, v)
    row = _answers(ws, 4 + len(fields) + 1, "Questions 1-7 per metal", d.answers)
    _answers(ws, row, "Company-level questions A-G", d.company_answers)
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 14
    ws.column_dimensions["C"].width = 70
    ws.column_dimensions["E"].width = 80


def write_emrt_xlsx(d: EmrtDeclaration, path: Path) -> None:
    """Write ``d`` to ``path`` (.xlsx)."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Declaration"
    _declaration(ws, d)
    _table(wb.create_sheet("Smelter List"), "Smelter List", "Smelters, refiners and processors per metal, computed "
           "from the ledger; an empty cell is a value not on record (see the Missing sheet)", SMELTER_COLUMNS,
           [_smelter(r) for r in d.smelters])
    _table(wb.create_sheet("Mine List"), "Mine List", "Mines (sites of virgin source lots) per metal, computed "
           "from the ledger", MINE_COLUMNS, [_mine(r) for r in d.mines])
    _table(wb.create_sheet("Product List"), "Product List", f"Products shipped to {d.customer} in {d.period}",
           PRODUCT_COLUMNS, [[None, p.product_number, p.product_name, p.requester_product_number,
                              p.requester_product_name, p.comments, p.lots, p.shipments, p.mass_kg]
                             for p in d.products])
    _table(wb.create_sheet("Metals"), "Metals", "Per-metal figures of the delivered lots [kg, kg/kg]",
           ("Metal", "Element", "Delivered [kg]", "Recycled or scrap share", "Share through a listed processor",
            "Share through a site at risk", "Share through a CAHRA-listed site", "Sites with no CAHRA statement"),
           [[m.metal, m.element, m.element_kg, m.recycled_share, m.processed_share, m.at_risk_share, m.cahra_share,
             _join(m.cahra_unassessed)] for m in d.metals])
    _table(wb.create_sheet("Missing"), "Missing", "Fields the ledger does not hold: never filled in by guess",
           ("Sheet", "Field", "Reason"), [[m.sheet, m.field, m.reason] for m in d.missing])
    wb.save(path)
