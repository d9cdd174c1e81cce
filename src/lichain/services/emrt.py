"""Use case: a customer declaration for a period in the layout of RMI's Extended Minerals Reporting Template.

Why this exists: a cell maker asks its cathode supplier, per metal, for the smelters, refiners and processors
and the mines behind what it bought, with their audit status (Regulation (EU) 2023/1542 Art. 49–52; OECD Due
Diligence Guidance step 5; RMI EMRT 2.x, which added lithium, nickel and natural graphite and a Mine List to
the cobalt template). lichain computes that list from the ledger instead of collecting it by survey: every lot
shipped to the customer in the period, traced upstream by the engine, per metal, with the share of the metal
through each processor and from each mine (:mod:`lichain.services.emrt_calc`). The sheets follow the columns of
RMI's EMRT 2.1 (Declaration, Smelter List, Mine List, Product List; docs/diligence.md cites the sources); the
workbook itself is ours (:mod:`lichain.io.emrt_xlsx`), not RMI's file. Answers lichain cannot know (company
practice, contacts, RMI smelter ids, addresses) come from recorded policy statements or are listed as missing,
never invented.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from lichain.core.codec import format_time
from lichain.core.diligence_emrt import (
    EMRT_METALS,
    EmrtAnswer,
    EmrtDeclaration,
    MetalSummary,
    MissingField,
    ProductRow,
)
from lichain.core.errors import NotFoundError
from lichain.core.limits import ledger_now
from lichain.core.period import parse_period
from lichain.services.emrt_build import build_lists
from lichain.storage.sql import SqlStore

__all__ = ["EmrtDeclaration", "emrt_declaration"]

_SCOPE = "B. Product (or List of Products)"
_SOURCES = (
    "RMI Extended Minerals Reporting Template, https://www.responsiblemineralsinitiative.org/reporting-templates/"
    "cobalt-reporting-template/ (EMRT 2.0 of 25 April 2025 added lithium, nickel, natural graphite and the Mine List; 2.1 of "
    "17 October 2025 added requester product fields)",
    "OECD (2016) Due Diligence Guidance for Responsible Supply Chains of Minerals from Conflict-Affected and "
    "High-Risk Areas, 3rd ed., five-step framework and Annex II",
    "Regulation (EU) 2023/1542 Art. 48-52 (battery due diligence)",
)
_METHOD = ("Every live shipment to the customer in the period; each shipped lot traced upstream over the lot "
           "graph. Shares are element-mass-weighted over the shipped element mass: through a processor = the "
           "fraction of the metal that passed through a lot made there; from a mine = the fraction whose origin "
           "is a virgin source lot made there (recycled and scrap feed counted as such, as for recycled "
           "content). Audit status at the end of the period from dated site risk statements.")


def _answer(q: str, metal: str | None, text: str, answer: str | None, basis: str) -> EmrtAnswer:
    return EmrtAnswer(q, metal, text, answer, basis)


def _metal_answers(m: MetalSummary) -> list[EmrtAnswer]:
    name = m.metal
    pct = f"{100 * m.recycled_share:.2f} %"
    out = [
        _answer("1", name, "Is the metal intentionally added or used in the product(s) or their production?",
                "Yes", f"{m.element_kg:,.3f} kg {m.element} in the assays of the delivered lots"),
        _answer("2", name, "Does the metal remain in the product(s)?", "Yes",
                f"{m.element_kg:,.3f} kg {m.element} in the delivered lots (measured assays)"),
    ]
    if m.cahra_share > 0:
        q3, b3 = "Yes", (f"{100 * m.cahra_share:.2f} % of the metal passed through a site while it was on a "
                         f"CAHRA list")
    elif m.cahra_unassessed:
        q3, b3 = "Unknown", f"no CAHRA statement on record for {', '.join(m.cahra_unassessed)}"
    else:
        q3, b3 = "No", "every source and processor site has a CAHRA statement and none was listed then"
    out.append(_answer("3", name, "Do smelters or processors in the supply chain source the metal from "
                                  "conflict-affected and high-risk areas?", q3, b3))
    out.append(_answer("4", name, "Does 100 % of the metal originate from recycled or scrap sources?",
                       "Yes" if m.recycled_share >= 1 - 1e-9 else "No", f"recycled and scrap share {pct}"))
    out.append(_answer("5", name, "What share of relevant suppliers responded to the supply-chain survey?", None,
                       "a supplier survey is not recorded in the ledger"))
    out.append(_answer("6", name, "Have all smelters or processors supplying the metal been identified?",
                       "Yes" if m.processed_share >= 1 - 1e-9 else "No",
                       f"{100 * m.processed_share:.2f} % of the metal passed through a processor in the Smelter "
                       "List"))
    out.append(_answer("7", name, "Has all smelter or processor information received been reported?", "Yes",
                       "the Smelter List is computed from the ledger: every processor the trace reaches is "
                       "listed"))
    return out


def _company_answers(policy: dict[str, str] | None) -> list[EmrtAnswer]:
    why = "company practice, not recorded in the ledger"
    a = (_answer("A", None, "Has a responsible minerals sourcing policy been established?", "Yes",
                 f"due-diligence policy {policy['id']} adopted {policy['adopted']} ({policy['reference']})")
         if policy else _answer("A", None, "Has a responsible minerals sourcing policy been established?", None,
                                "no due-diligence policy statement on record"))
    if policy and policy.get("public_url"):
        b = _answer("B", None, "Is the policy publicly available on the company website?", "Yes",
                    policy["public_url"])
    else:
        b = _answer("B", None, "Is the policy publicly available on the company website?", None,
                    "no public address of the policy on record")
    return [a, b,
            _answer("C", None, "Are direct suppliers required to source from smelters validated by an "
                               "independent third-party audit programme?", None, why),
            _answer("D", None, "Have due-diligence measures for responsible sourcing been implemented?", None,
                    why + " (the recorded mitigation measures are in the due-diligence report)"),
            _answer("E", None, "Are relevant suppliers surveyed on the metals?", None, why),
            _answer("F", None, "Is due-diligence information from suppliers reviewed against the company's "
                               "expectations?", None, why),
            _answer("G", None, "Does the review process include corrective action management?", None, why)]


def emrt_declaration(store: SqlStore, customer: str, period: str, *, organisation: str | None = None,
                     now: datetime | None = None) -> EmrtDeclaration:
    """The declaration for ``customer`` over ``period`` (see the module documentation).

    Raises
    ------
    NotFoundError
        The customer is not on record (with the closest names), or nothing was shipped to it in the period.
    PeriodError
        The period is not one of the accepted forms.
    """
    from lichain.services.boundary import reporting_boundary
    from lichain.services.diligence_policy import policy_in_force
    from lichain.services.lists import require_organisation
    from lichain.services.snapshot import load_snapshot
    from lichain.storage import claims_sql

    require_organisation(store, customer)
    p = parse_period(period)
    now = now or ledger_now()
    snap = load_snapshot(store).snapshot
    with store.read() as conn:
        rows = claims_sql.deliveries(conn, customer, p.start, p.end)
    picked = [(snap.index_of(lid), mg / 1e6, ship) for lid, mg, ship in rows]
    if not picked:
        raise NotFoundError(f"no live shipment to {customer!r} in {p.label} ({format_time(p.start)} .. "
                            f"{format_time(p.end)}): nothing to declare")
    from lichain.services.emrt_calc import Delivered

    dl = Delivered(snap, np.array([i for i, _, _ in picked], np.int64), np.array([k for _, k, _ in picked]))
    at = min(p.end, now)
    from lichain.services.diligence_policy import next_steps

    lists = build_lists(store, dl, at, now, next_steps(store, at))
    shipped: dict[str, tuple[set[str], set[str], list[float]]] = {}  # code -> lots, shipments, [kg]
    for i, kg, ship in picked:
        lots, ships, mass = shipped.setdefault(snap.material_codes[snap.lot_material[i]], (set(), set(), [0.0]))
        lots.add(snap.lot_id(i))
        ships.add(ship)
        mass[0] += kg
    product_rows = tuple(ProductRow(code, lists.material_names.get(code, code), None, None, len(lots), len(ships),
                                    round(mass[0], 6), None) for code, (lots, ships, mass) in sorted(shipped.items()))
    boundary = reporting_boundary(store, organisation, required=False)
    policy = policy_in_force(store, boundary.name, at)
    answers: list[EmrtAnswer] = []
    for m in lists.metals:
        answers += _metal_answers(m)
    missing = [MissingField("Declaration", f, "not recorded in the ledger") for f in (
        "Company Unique ID", "Company Unique ID Authority", "Address", "Contact Name", "Email - Contact",
        "Phone - Contact", "Authorizer", "Title - Authorizer", "Email - Authorizer", "Phone - Authorizer")]
    if boundary.name is None:
        missing.insert(0, MissingField("Declaration", "Company Name", "no ledger owner declared in master data"))
    missing += [MissingField("Declaration", f"Question {a.question}" + (f" ({a.metal})" if a.metal else ""),
                             a.basis) for a in (*answers, *_company_answers(policy)) if a.answer is None]
    missing += lists.missing
    missing.append(MissingField("Product List", "Requester Product Number / Name",
                                "the customer's part numbers are not recorded in the ledger"))
    minerals = tuple(m.metal for m in lists.metals)
    beyond = [m.metal for m in lists.metals if m.metal not in EMRT_METALS]
    note = (f"{', '.join(beyond)} listed beyond the EMRT 2.1 minerals (cobalt, copper, graphite, lithium, mica, "
            "nickel); RMI's Additional Minerals Reporting Template covers manganese") if beyond else None
    return EmrtDeclaration(
        template="lichain declaration in the layout of RMI EMRT 2.1 (our own workbook, not RMI's file)",
        company=boundary.name, customer=customer, period=p.label, period_start=format_time(p.start),
        period_end=format_time(p.end), effective_date=now.date().isoformat(), scope=_SCOPE,
        scope_description=f"lots shipped to {customer} in {p.label}", minerals=minerals, scope_note=note,
        metals=lists.metals, answers=tuple(answers), company_answers=tuple(_company_answers(policy)),
        smelters=lists.smelters, mines=lists.mines, products=product_rows, missing=tuple(missing),
        method=_METHOD, sources=_SOURCES)

