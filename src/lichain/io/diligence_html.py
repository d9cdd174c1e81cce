"""Render the due-diligence management-system report (``report diligence --out FILE.html``) as one HTML page.

Why this exists: a battery passport links to the operator's due-diligence report (Regulation (EU) 2023/1542
Annex XIII); this is that report as a self-contained page (no scripts, no network: inline CSS only). It takes
the report's JSON form (:func:`lichain.entrypoints.present.jsonable` of
:class:`lichain.services.diligence_report.DiligenceManagementReport`), so it shows exactly what ``--json`` gives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

__all__ = ["render_diligence_html"]

_CSS = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:75em;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #bbb;padding:.25em .5em;"
        "vertical-align:top;text-align:left}th{background:#eee}.num{text-align:right}"
        ".missing{color:#a00}.ok{color:#070}small{color:#555}")


def _e(v: Any) -> str:
    return "—" if v is None or v == "" else escape(str(v))


def _table(head: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)
    if not body:
        return "<p><small>none</small></p>"
    return "<table><tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + f"</tr>{body}</table>"


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _shares(d: Mapping[str, float]) -> str:
    return ", ".join(f"{e} {_pct(x)}" for e, x in d.items()) or "—"


def render_diligence_html(r: Mapping[str, Any]) -> str:
    """The page for report ``r`` (the report's JSON form)."""
    org = r["organisation"] or "(no ledger owner declared)"
    pol = r["policy"]
    parts = [
        f"<h1>Supply-chain due diligence report: {_e(org)}, {_e(r['period'])}</h1>",
        f"<p>Period {_e(r['period_start'])} to {_e(r['period_end'])}; generated {_e(r['generated'])}. "
        f"{r['shipped_lots']} shipments to {len(r['customers'])} customers ({_e(', '.join(r['customers']))}).</p>",
        "<h2>OECD five steps</h2>",
        _table(("step", "", "status", "detail"), [(s["step"], s["title"], s["status"], s["detail"])
                                                 for s in r["steps"]]),
        "<h2>1. Policy</h2>",
        (f"<p>{_e(pol['title'])} ({_e(pol['id'])}), adopted {_e(pol['adopted'])}; document {_e(pol['reference'])}"
         f"; public at {_e(pol['public_url'])}; third-party verification: {_e(pol['verification'])}.</p>" if pol
         else "<p class='missing'>No due-diligence policy statement on record.</p>"),
        "<h2>2. Risk assessment</h2><h3>Shipped metal</h3>",
        _table(("metal", "shipped [kg]", "through a site at risk", "through a CAHRA-listed site",
                "recycled or scrap", "sites with no CAHRA statement"),
               [(m["metal"], f"{m['element_kg']:,.1f}", _pct(m["at_risk_share"]), _pct(m["cahra_share"]),
                 _pct(m["recycled_share"]), ", ".join(m["cahra_unassessed"])) for m in r["metals"]]),
        "<h3>Risks in force during the period</h3>",
        _table(("site", "risk", "kind / status", "category", "from", "to", "shipped share", "source", "measures"),
               [(f"{f['site_name']} ({f['site']})", f["id"], f"{f['kind']} {f['status']}",
                 f["category_label"] or f["category"], f["start"], f["end"] or "in force",
                 _shares(f["shipped_share"]), f["source"], ", ".join(f["measures"])) for f in r["findings"]]),
        f"<p>Upstream sites not assessed (no statement on record): {_e(', '.join(r['sites_not_assessed']))}</p>",
        "<h2>3. Risk management: mitigation measures</h2>",
        _table(("measure", "site", "risk", "action", "owner", "strategy", "status since", "due"),
               [(m["id"], m["site"], m["risk"], m["action"], m["owner"], m["strategy_label"] or m["strategy"],
                 f"{m['status']} since {m['since']}", (m["due"] or "—") + (" (overdue)" if m["overdue"] else ""))
                for m in r["measures"]]),
        "<h2>4. Third-party audits</h2>",
        _table(("site", "role", "audit status at the end of the period", "certifications declared (undated)"),
               [(f"{v['site_name']} ({v['site']})", ", ".join(v["roles"]), "; ".join(v["audits"]) or "none on record",
                 ", ".join(v["certifications_declared"])) for v in r["verification"]]),
        "<h2>5. What the ledger does not hold</h2>",
        _table(("part", "field", "reason"), [(m["sheet"], m["field"], m["reason"]) for m in r["missing"]]),
        f"<h2>Method and sources</h2><p>{_e(r['method'])}</p><ul>"
        + "".join(f"<li>{_e(s)}</li>" for s in r["sources"]) + "</ul>",
    ]
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Due diligence {_e(org)} "
            f"{_e(r['period'])}</title><style>{_CSS}</style></head><body>{''.join(parts)}</body></html>\n")
