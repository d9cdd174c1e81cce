"""The dashboard in a real browser (system Chromium via Playwright) against the served demo chain.

What a person sees is checked against the ledger by independent means: the Sankey's link values against SQL sums
of consumed kg × mass fraction per stage, a lot page's footprint against the REST answer for it, a customer's list
against the shipments table. No page may log a console error; every page is photographed.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from sqlalchemy import text

from tests.browser.conftest import CUSTOMER_ORG, Site, Tab, shot, sign_in


def _api(site: Site, user: str, path: str) -> tuple[int, Any]:
    req = urllib.request.Request(site.url + path, headers={"Authorization": f"Bearer {site.keys[user]}"})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def _stage_outflow_sql(site: Site, element: str) -> dict[str, float]:
    """Σ consumed kg × mass fraction of the consumed lots, per stage of the consumed lot [kg], straight from the
    consumption and assay rows (independent of allocation and of the lot graph)."""
    with site.store.engine.connect() as c:
        rows = c.execute(text(
            "SELECT m.stage, SUM(CAST(c.mass_mg AS DOUBLE PRECISION) * a.ppb) FROM consumptions c "
            "JOIN lots l ON l.idx = c.lot_idx JOIN materials m ON m.code = l.material "
            "JOIN assays a ON a.lot_idx = c.lot_idx AND a.element = :e GROUP BY m.stage"), {"e": element}).all()
    return {stage: float(v) / 1e15 for stage, v in rows if v}


@pytest.mark.parametrize("element", ["Ni", "Co"])
def test_overview_sankey_renders_the_ledger_flows(tab: Tab, site: Site, element: str) -> None:
    page = tab.page
    sign_in(page, site, "esg")
    page.goto(f"{site.url}/dashboard/#/overview?element={element}")
    page.wait_for_selector("[data-testid=flow-total]")
    page.wait_for_selector("#sankey svg path")
    links = page.evaluate("() => echarts.getInstanceByDom(document.getElementById('sankey'))"
                          ".getOption().series[0].links")
    assert links and all(k["value"] > 0 for k in links)
    status, flows = _api(site, "esg", f"/flows?element={element}")
    assert status == 200
    # what is drawn is what the API answers, link for link
    assert sorted((k["source"], k["target"], k["value"]) for k in links) == sorted(
        (k["source"], k["target"], k["element_kg"]) for k in flows["links"])
    # and per stage, drawn + within-stage outflow equals the SQL sum over the consumption rows
    out: dict[str, float] = {}
    for k in [*links, *({"source": w["source"], "value": w["element_kg"]} for w in flows["within_stage"])]:
        out[k["source"]] = out.get(k["source"], 0.0) + k["value"]
    sql = _stage_outflow_sql(site, element)
    assert set(out) == set(sql)
    for stage, v in sql.items():
        assert out[stage] == pytest.approx(v, rel=1e-9), stage
    shown = float(page.inner_text("[data-testid=flow-total]").replace(",", ""))
    assert shown == pytest.approx(sum(k["value"] for k in links), abs=0.5)  # printed to the kg
    assert len(page.query_selector_all("[data-testid=flow-row]")) == len(links)
    shot(page, f"overview-{element}")
    assert tab.errors == []


def test_lot_search_opens_its_trace_and_figures(tab: Tab, site: Site) -> None:
    page = tab.page
    status, lots = _api(site, "esg", "/lots?stage=cam&limit=5")
    assert status == 200 and lots["lots"]
    cam = lots["lots"][-1]["id"]
    sign_in(page, site, "esg")
    page.fill("#search-input", cam)
    page.click("#search button")
    page.wait_for_selector("[data-testid=lot-id]")
    assert page.inner_text("[data-testid=lot-id]") == cam
    page.wait_for_selector("[data-testid=trace-graph] svg")
    status, trace = _api(site, "esg", f"/trace/{cam}?graph=true")
    assert status == 200
    nodes = page.evaluate("() => echarts.getInstanceByDom(document.querySelector('[data-testid=trace-graph]'))"
                          ".getOption().series[0].data.length")
    assert nodes == len(trace["graph"]["nodes"]) > 1
    page.wait_for_selector("[data-testid=footprint-value]")
    status, fp = _api(site, "esg", f"/footprint/{cam}")
    assert status == 200
    assert float(page.inner_text("[data-testid=footprint-value]")) == pytest.approx(fp["kg_co2e_per_kg"], abs=5e-4)
    page.wait_for_selector("[data-testid=lot-recycled] table")
    page.wait_for_selector("[data-testid=lot-diligence] h2")
    shot(page, "lot")
    assert tab.errors == []


def test_compliance_and_esg_pages(tab: Tab, site: Site) -> None:
    page = tab.page
    sign_in(page, site, "esg")
    page.goto(f"{site.url}/dashboard/#/compliance?period=2026")
    page.wait_for_selector("[data-testid=art8-table] tbody tr")
    status, a8 = _api(site, "esg", "/art8?period=2026")
    assert status == 200
    rows = len(page.query_selector_all("[data-testid=art8-table] tbody tr"))
    assert rows == sum(len(v["vs_physical"]) for v in a8["elements"].values()) > 0
    shot(page, "compliance")
    page.goto(f"{site.url}/dashboard/#/esg?period=2026")
    page.wait_for_selector("[data-testid=kpi-table] tbody tr")
    status, esg = _api(site, "esg", "/reports/esg?period=2026")
    assert status == 200
    assert len(page.query_selector_all("[data-testid=kpi-table] tbody tr")) == len(esg["kpis"]["figures"])
    shot(page, "esg")
    assert tab.errors == []


def test_a_customer_sees_only_the_lots_shipped_to_it(tab: Tab, site: Site) -> None:
    page = tab.page
    sign_in(page, site, "cells")
    page.wait_for_selector("[data-testid=received-count]")
    assert "#/received" in page.url
    visible = [a.inner_text() for a in page.query_selector_all("nav a") if a.is_visible()]
    assert visible == ["Received lots"]
    with site.store.engine.connect() as c:
        want = {r[0] for r in c.execute(text(
            "SELECT DISTINCT l.id FROM shipments s JOIN sites t ON t.id = s.to_site JOIN lots l ON l.idx = s.lot_idx "
            "WHERE COALESCE(s.to_organisation, t.organisation) = :o"), {"o": CUSTOMER_ORG})}
    assert want
    count = page.inner_text("[data-testid=received-count]")
    assert count.startswith(f"{len(want)} lots shipped to {CUSTOMER_ORG}")
    shown = {a.inner_text() for a in page.query_selector_all("[data-testid=received-lot]")}
    assert shown and shown <= want
    shot(page, "customer-received")
    # the overview is not offered, and asked for by address it falls back to the customer's page
    page.goto(f"{site.url}/dashboard/#/overview")
    page.wait_for_selector("[data-testid=received-count]")
    assert _api(site, "cells", "/flows?element=Ni")[0] == 403
    # a lot shipped to it opens with its own fields; its history (trace, due diligence) is not shown
    page.click("[data-testid=received-lot] >> nth=0")
    page.wait_for_selector("[data-testid=lot-summary] table")
    page.wait_for_selector("[data-testid=lot-trace] [data-testid=section-error]")
    assert "not available to your role" in page.inner_text("[data-testid=lot-trace]")
    shot(page, "customer-lot")
    assert tab.errors == []


def test_a_revoked_or_wrong_key_is_refused_in_place(tab: Tab, site: Site) -> None:
    page = tab.page
    page.goto(site.url + "/")
    page.fill("#api-key", "lck_not_a_key")
    page.click("#login-form button")
    page.wait_for_selector("#login-error:not(:empty)")
    assert "not valid" in page.inner_text("#login-error")
    shot(page, "sign-in")
    assert [e for e in tab.errors if "401" not in e] == []


def test_process_control_page_shows_the_demo_ph_shift(tab: Tab, site: Site) -> None:
    """The demo's pH shift on PCAM-L1 in March 2026 (docs/manufacturing.md): the chart has the API's points,
    the signals it reports, and says the line was out of control."""
    page = tab.page
    sign_in(page, site, "esg")
    page.goto(f"{site.url}/dashboard/#/quality?line=PCAM-L1&param=pH&period=2026-03&rules=western_electric")
    page.wait_for_selector("[data-testid=spc-state]")
    status, r = _api(site, "esg", "/spc?line=PCAM-L1&param=pH&period=2026-03&rules=western_electric")
    assert status == 200 and r["points"]
    assert not r["in_control"] and page.inner_text("[data-testid=spc-state]") == "out of control"
    assert int(page.inner_text("[data-testid=spc-alarms]")) == len(r["alarms"]) > 0
    page.wait_for_selector("[data-testid=spc-chart] svg")
    drawn = page.evaluate("() => echarts.getInstanceByDom(document.querySelector('[data-testid=spc-chart]'))"
                          ".getOption().series[0].data")
    assert drawn == [p["value"] for p in r["points"]]
    shot(page, "process-control")
    assert tab.errors == []
