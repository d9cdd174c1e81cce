/* lichain dashboard: pages over the REST API (same results as the CLI). No network beyond this origin. */
"use strict";

const ELEMENTS = ["Ni", "Co", "Mn", "Li"];
const STAGE_LABEL = {
  ore: "Mines (ore)", concentrate: "Concentrate", intermediate: "Intermediates (MHP, Co(OH)2)",
  refined_salt: "Refined salts", recovered_salt: "Recovered salts", reagent: "Reagents", pcam: "pCAM",
  cam: "CAM", cell: "Cells (customers)", scrap: "Scrap", black_mass: "Black mass",
};
const enc = encodeURIComponent;
const API = {
  me: () => "/me",
  head: () => "/verify",
  flows: (el, period) => `/flows?element=${enc(el)}` + (period ? `&period=${enc(period)}` : ""),
  lot: (id) => `/lots/${enc(id)}`,
  trace: (id) => `/trace/${enc(id)}?graph=true`,
  footprint: (id) => `/footprint/${enc(id)}`,
  recycled: (id) => `/recycled/${enc(id)}`,
  diligence: (id) => `/diligence/${enc(id)}`,
  passport: (id) => `/passports/${enc(id)}?level=public`,
  art8: (period, org) => `/art8?period=${enc(period)}` + (org ? `&organisation=${enc(org)}` : ""),
  recovery: (period, org) => `/recovery?period=${enc(period)}` + (org ? `&organisation=${enc(org)}` : ""),
  esg: (period, org) => `/reports/esg?period=${enc(period)}` + (org ? `&organisation=${enc(org)}` : ""),
  quality: (id) => `/quality/${enc(id)}`,
  spc: (line, param, period, rules) => `/spc?line=${enc(line)}&param=${enc(param)}&period=${enc(period)}&rules=${enc(rules)}`,
  received: (offset) => `/lots?received=true&limit=50&offset=${offset}`,
};

const state = { key: sessionStorage.getItem("lichain-key") || "", me: null, charts: [] };
const $ = (sel) => document.querySelector(sel);
const view = () => $("#view");

function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v; else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined) el.append(kid instanceof Node ? kid : String(kid));
  return el;
}

const fmt = (x, digits = 1) => (x === null || x === undefined || Number.isNaN(x)) ? "—"
  : Number(x).toLocaleString("en-GB", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const pct = (x) => (x === null || x === undefined) ? "—" : `${fmt(100 * x, 1)} %`;

class HttpError extends Error {
  constructor(status, body) { super(body && (body.detail || body.title) ? (body.detail || body.title) : `HTTP ${status}`); this.status = status; this.body = body; }
}

async function api(url) {
  const headers = { Accept: "application/json" };
  if (state.key) headers.Authorization = `Bearer ${state.key}`;
  const r = await fetch(url, { headers });
  const text = await r.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) { body = { detail: text }; }
  if (!r.ok) throw new HttpError(r.status, body);
  return body;
}

/* A section that loads its own data: shows the error in place (never a console error) and what is missing. */
function section(title, loader, { testid = null } = {}) {
  const box = h("section", { class: "card", "data-testid": testid }, h("h2", {}, title), h("p", { class: "muted" }, "loading…"));
  loader().then((content) => { box.replaceChildren(h("h2", {}, title), ...[content].flat().filter((x) => x !== null && x !== undefined)); })
    .catch((e) => {
      const msg = e instanceof HttpError && e.status === 403 ? "not available to your role" :
        e instanceof HttpError && e.status === 404 ? "nothing on record" : e.message;
      box.replaceChildren(h("h2", {}, title), h("p", { class: e.status === 403 ? "muted" : "error", "data-testid": "section-error" }, msg));
    });
  return box;
}

function chart(el, option) {
  const c = echarts.init(el, null, { renderer: "svg" });
  c.setOption({ animation: false, ...option });  // figures appear at once (and screenshots show them whole)
  state.charts.push(c);
  return c;
}

function table(cols, rows, attrs = {}) {
  return h("table", attrs,
    h("thead", {}, h("tr", {}, cols.map((c) => h("th", { class: c.num ? "num" : null }, c.label)))),
    h("tbody", {}, rows.map((r) => h("tr", { "data-testid": attrs["data-row"] || null }, r.map((v, i) => h("td", { class: cols[i].num ? "num" : null }, v))))));
}

/* ---------------------------------------------------------------------------------------- chain overview */
function overview(params) {
  const el = params.get("element") || "Ni";
  const period = params.get("period") || "";
  const sel = h("select", { id: "element", "aria-label": "element" }, ELEMENTS.map((e) => h("option", { value: e, selected: e === el }, e)));
  const per = h("input", { id: "period", value: period, placeholder: "2026, 2026-Q1, 2026-03 …", size: 22, "aria-label": "period" });
  const go = () => { location.hash = `#/overview?element=${enc(sel.value)}&period=${enc(per.value.trim())}`; };
  sel.addEventListener("change", go);
  per.addEventListener("change", go);
  const box = h("div", { id: "sankey", class: "chart tall", "data-testid": "sankey" });
  const body = h("div", {}, h("p", { class: "muted" }, "loading…"));
  view().replaceChildren(
    h("h1", {}, "Chain overview"),
    h("div", { class: "controls" }, h("label", {}, "Element", sel), h("label", {}, "Period (lots made in it)", per)),
    h("div", { class: "card" }, box, body));
  api(API.flows(el, period)).then((d) => {
    // columns in chain order; a return node one column right of where its flow comes from
    const ranks = [...new Set(d.nodes.filter((n) => !n.returned).map((n) => n.rank))].sort((a, b) => a - b);
    const col = Object.fromEntries(d.nodes.filter((n) => !n.returned).map((n) => [n.id, ranks.indexOf(n.rank)]));
    for (const n of d.nodes.filter((x) => x.returned)) col[n.id] = 1 + Math.max(...d.links.filter((k) => k.target === n.id).map((k) => col[k.source]));
    const depth = (n) => col[n.id];
    const label = (id) => id.endsWith(" (returned)") ? `${STAGE_LABEL[id.replace(" (returned)", "")] || id} ↩ recycled back` : (STAGE_LABEL[id] || id);
    chart(box, {
      tooltip: { trigger: "item", valueFormatter: (v) => `${fmt(v, 0)} kg ${d.element}` },
      series: [{
        type: "sankey", left: 10, right: 160, nodeAlign: "left", emphasis: { focus: "adjacency" },
        data: d.nodes.map((n) => ({ name: n.id, depth: depth(n), label: { formatter: label(n.id) } })),
        layoutIterations: 64,
        links: d.links.map((k) => ({ source: k.source, target: k.target, value: k.element_kg })),
        lineStyle: { color: "gradient", opacity: 0.4 },
      }],
    });
    body.replaceChildren(
      h("p", {}, `${d.element} moved between stages: `, h("strong", { "data-testid": "flow-total" }, fmt(d.total_kg, 0)), ` kg, lots made in ${d.period || "the whole ledger"}.`),
      h("p", { class: "muted" }, d.meaning),
      table([{ label: "from" }, { label: "to" }, { label: `${d.element} kg`, num: true }, { label: "lot-graph edges", num: true }],
        d.links.map((k) => [label(k.source), label(k.target), fmt(k.element_kg, 0), k.edges]), { "data-row": "flow-row" }),
      ...(d.within_stage.length ? [h("p", { class: "muted" }, "Within one stage (not drawn): " + d.within_stage.map((k) => `${label(k.source)} ${fmt(k.element_kg, 0)} kg`).join(", "))] : []));
  }).catch((e) => body.replaceChildren(h("p", { class: "error", "data-testid": "section-error" }, e.message)));
}

/* ---------------------------------------------------------------------------------------------- lot page */
function refused(title, testid) {
  return h("section", { class: "card", "data-testid": testid }, h("h2", {}, title),
    h("p", { class: "muted", "data-testid": "section-error" }, "not available to your role (the lot's history belongs to its producer)"));
}

function lotPage(id) {
  view().replaceChildren(h("h1", {}, "Lot ", h("code", { "data-testid": "lot-id" }, id)));
  api(API.lot(id)).then((d) => lotSections(id, d)).catch((e) => view().append(h("p", { class: "error", "data-testid": "section-error" },
    e instanceof HttpError && e.status === 404 ? `No lot ${id} in your scope.` : e.message)));
}

function lotSections(id, detail) {
  const full = !detail.lot;  // a receiver gets {lot, shipments}: the lot's own fields, not its history
  const grid = h("div", { class: "grid" });
  view().append(
    section("Summary", async () => {
      const d = detail;
      const l = d.lot || d;  // a receiver sees the lot's own fields and its shipments to it
      const rows = [["material", `${l.material} (${l.stage})`], ["site", l.site], ["produced", l.produced_at], ["mass", `${fmt(l.mass_kg, 3)} kg`],
        ["remaining", l.remaining_kg === undefined ? "—" : `${fmt(l.remaining_kg, 3)} kg`],
        ["assay (mass fraction)", Object.entries(l.assay || {}).map(([e, x]) => `${e} ${fmt(x, 4)}`).join(", ")],
        ["origin class of this lot", l.origin_class || l.origin]];
      return table([{ label: "field" }, { label: "value" }], rows);
    }, { testid: "lot-summary" }),
    grid);
  const parts = [
    full ? section("Upstream trace", async () => {
      const t = await api(API.trace(id));
      const g = t.graph;
      const el = h("div", { class: "chart", "data-testid": "trace-graph" });
      const byDepth = {};
      g.nodes.forEach((n) => { (byDepth[n.depth] = byDepth[n.depth] || []).push(n); });
      const pos = {};
      Object.entries(byDepth).forEach(([dep, ns]) => ns.forEach((n, i) => { pos[n.lot] = [-Number(dep) * 160, (i - ns.length / 2) * 40]; }));
      setTimeout(() => chart(el, {
        tooltip: { formatter: (p) => p.dataType === "edge" ? `${fmt(p.data.value, 1)} kg` : `${p.data.name}<br>${p.data.stage} at ${p.data.site}` },
        series: [{
          type: "graph", layout: "none", roam: true, edgeSymbol: ["none", "arrow"], label: { show: false },
          data: g.nodes.map((n) => ({ name: n.lot, x: pos[n.lot][0], y: pos[n.lot][1], stage: n.stage, site: n.site, symbolSize: n.depth === 0 ? 18 : 10, category: n.stage })),
          links: g.edges.map((e) => ({ source: e.src, target: e.dst, value: e.kg })),
          categories: [...new Set(g.nodes.map((n) => n.stage))].map((s) => ({ name: s })),
        }],
        legend: { bottom: 0, data: [...new Set(g.nodes.map((n) => n.stage))] },
      }), 0);
      return [el, h("p", { class: "muted" }, `${t.sources ?? g.nodes.filter((n) => n.leaf).length} source lots; ${g.edges.length} edges. Hover a node for its stage and site.`)];
    }, { testid: "lot-trace" }) : refused("Upstream trace", "lot-trace"),
    section("Carbon footprint", async () => {
      const f = await api(API.footprint(id));
      const el = h("div", { class: "chart", "data-testid": "footprint-chart" });
      const stages = Object.entries(f.by_stage || {});
      const causes = Object.entries(f.by_cause || {});
      let acc = 0;
      const bars = stages.map(([, v]) => { const base = acc; acc += v; return [base, v]; });
      setTimeout(() => chart(el, {
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: (v) => `${fmt(v, 3)} kg CO2e/kg` },
        grid: { left: 60, right: 20, bottom: 90 },
        xAxis: { type: "category", data: [...stages.map(([s]) => s.replaceAll("_", " ")), "total"], axisLabel: { rotate: 25, interval: 0 } },
        yAxis: { type: "value", name: "kg CO2e/kg" },
        series: [
          { type: "bar", stack: "w", itemStyle: { color: "transparent" }, data: [...bars.map((b) => b[0]), 0], tooltip: { show: false } },
          { type: "bar", stack: "w", name: "by stage", data: [...bars.map((b) => b[1]), f.kg_co2e_per_kg] },
        ],
      }), 0);
      const missing = (f.missing_inputs || []).length ? h("p", { class: "missing" }, `Missing inputs: ${f.missing_inputs.length} (the figure is incomplete)`) : null;
      return [h("p", {}, h("strong", { "data-testid": "footprint-value" }, fmt(f.kg_co2e_per_kg, 3)), " kg CO2e/kg (", f.basis?.replace("_", "-") || "location-based", ", ", f.complete ? "complete" : "incomplete", ")"),
        el, table([{ label: "cause" }, { label: "kg CO2e/kg", num: true }], causes.map(([c, v]) => [c, fmt(v, 3)])), missing];
    }, { testid: "lot-footprint" }),
    section("Recycled content", async () => {
      const r = await api(API.recycled(id));
      const per = r.elements || r.recycled_content || {};
      return [table([{ label: "element" }, { label: "pre-consumer", num: true }, { label: "post-consumer", num: true }, { label: "recycled", num: true }],
        Object.entries(per).map(([e, v]) => [e, pct(v.pre_consumer), pct(v.post_consumer), pct(v.recycled)])),
      h("p", { class: "muted" }, "Physical shares, element-mass weighted over the lot's inputs (mass fraction of the element).")];
    }, { testid: "lot-recycled" }),
    !full ? refused("Risk flags", "lot-diligence") : section("Risk flags", async () => {
      const d = await api(API.diligence(id));
      const flags = d.flags || [];
      return [flags.length ? h("ul", {}, flags.map((f) => h("li", { "data-testid": "risk-flag" }, h("span", { class: f.kind === "red_flag" ? "flag bad" : "flag" }, f.kind),
        `${f.site}: ${f.category_label || f.status}, ${Object.entries(f.share || {}).filter(([, x]) => x > 0).map(([e, x]) => `${e} ${pct(x)}`).join(", ")} [${f.source}]`)))
        : h("p", {}, h("span", { class: "flag ok" }, "none"), "no risk in force at an upstream site while this lot's material was there"),
      (d.sites_not_assessed || []).length ? h("p", { class: "missing" }, `Not assessed: ${d.sites_not_assessed.join(", ")}`) : null];
    }, { testid: "lot-diligence" }),
    section("Quality (certificates of analysis)", async () => {
      const q = await api(API.quality(id));
      const cls = q.status === "in_spec" ? "flag ok" : q.status === "not_certified" ? "flag" : "flag bad";
      return [h("p", {}, h("span", { class: cls, "data-testid": "quality-status" }, q.status.replaceAll("_", " ")),
        q.failing.length ? ` failing: ${q.failing.join(", ")}` : ""),
        q.certificates.length ? h("p", { class: "muted" }, `${q.certificates.length} certificate(s); ${q.deviations.length} deviation(s) on record.`)
          : h("p", { class: "missing" }, "No certificate of analysis on record for this lot.")];
    }, { testid: "lot-quality" }),
    (detail.lot || detail).stage !== "cell" ? null : h("section", { class: "card", "data-testid": "lot-passport" },
      h("h2", {}, "Battery passport"),
      h("p", {}, h("a", { href: API.passport(id), "data-testid": "passport-link" }, "Passport of this cell lot (public fields, BatteryPass 1.2 JSON)")),
      h("p", { class: "muted" }, "Higher access levels (legitimate interest, authorities) with a key: GET /passports/ID?level=…; a lot without the cell maker's data has none."))];
  grid.append(...parts.filter((x) => x !== null));
}

/* ----------------------------------------------------------------------------------------- compliance */
function periodControl(page, params) {
  const period = params.get("period") || String(new Date().getUTCFullYear() - 1);
  const per = h("input", { id: "period", value: period, size: 22, "aria-label": "period" });
  per.addEventListener("change", () => { location.hash = `#/${page}?period=${enc(per.value.trim())}`; });
  return [period, h("div", { class: "controls" }, h("label", {}, "Period", per))];
}

function compliance(params) {
  const [period, controls] = periodControl("compliance", params);
  view().replaceChildren(h("h1", {}, "Compliance"), controls,
    section("Recycled content vs Art. 8 minimums (CAM lots made in the period)", async () => {
      const a = await api(API.art8(period, state.me.report_organisation));
      const rows = [];
      for (const [e, v] of Object.entries(a.elements || {})) for (const t of v.vs_physical || []) rows.push([e, pct(v.recycled), pct(t.minimum), t.applies_from, h("span", { class: t.meets ? "flag ok" : "flag bad" }, t.meets ? "meets" : "below")]);
      return [h("p", { class: "muted" }, `${a.status}. ${a.regulation}.`),
        table([{ label: "element" }, { label: "recycled", num: true }, { label: "minimum", num: true }, { label: "from" }, { label: "" }], rows, { "data-testid": "art8-table" })];
    }, { testid: "art8" }),
    section("Recovery (Annex XII Part C)", async () => {
      const r = await api(API.recovery(period, state.me.report_organisation));
      const rows = [];
      for (const rec of r.recyclers || []) for (const [e, v] of Object.entries(rec.elements || {})) {
        const t = (v.targets || [])[0];
        rows.push([rec.site, e, fmt(v.black_mass_in_kg, 0), fmt(v.recovered_kg, 0), pct(v.recovery), t ? pct(t.minimum) : "—", t ? h("span", { class: t.meets ? "flag ok" : "flag bad" }, t.meets ? "meets" : "below") : ""]);
      }
      return [h("p", { class: "muted" }, `${r.status}; ${r.basis}.`),
        table([{ label: "recycler" }, { label: "element" }, { label: "in, kg", num: true }, { label: "recovered, kg", num: true }, { label: "recovery", num: true }, { label: "target", num: true }, { label: "" }], rows)];
    }, { testid: "recovery" }));
}

/* ------------------------------------------------------------------------------------------------ ESG */
function esg(params) {
  const [period, controls] = periodControl("esg", params);
  view().replaceChildren(h("h1", {}, "ESG"), controls,
    section("Indicators", async () => {
      const r = await api(API.esg(period, state.me.report_organisation));
      const k = (r.kpis && r.kpis.figures) || [];
      return [h("p", { class: "muted" }, r.organisation.boundary),
        table([{ label: "indicator" }, { label: "value", num: true }, { label: "unit" }, { label: "previous", num: true }], k.map((f) => [f.label, fmt(f.value, 1), f.unit, fmt(f.previous, 1)]), { "data-testid": "kpi-table" }),
        h("h2", {}, "Sites inside the organisation boundary"),
        table([{ label: "site" }, { label: "country" }, { label: "runs", num: true }, { label: "electricity, kWh", num: true }],
          r.sites.map((s) => [s.id, s.country, s.runs, fmt(s.energy.electricity_kwh_total, 0)])),
        h("p", { class: "muted" }, `Scope 3 context: ${r.scope3_context.sites.length} supplier and customer sites, never summed into the totals.`)];
    }, { testid: "esg-kpis" }));
}

/* -------------------------------------------------------------------------------------- process control */
function qualityPage(params) {
  const line = params.get("line") || "PCAM-L1", param = params.get("param") || "pH";
  const period = params.get("period") || "2026-03", rules = params.get("rules") || "western_electric";
  const inputs = {
    line: h("input", { id: "spc-line", value: line, size: 10, "aria-label": "line" }),
    param: h("input", { id: "spc-param", value: param, size: 10, "aria-label": "parameter" }),
    period: h("input", { id: "spc-period", value: period, size: 12, "aria-label": "period" }),
    rules: h("select", { id: "spc-rules", "aria-label": "rules" }, ["western_electric", "nelson"].map((r) => h("option", { value: r, selected: r === rules }, r.replace("_", " ")))),
  };
  const go = () => { location.hash = `#/quality?line=${enc(inputs.line.value)}&param=${enc(inputs.param.value)}&period=${enc(inputs.period.value)}&rules=${enc(inputs.rules.value)}`; };
  Object.values(inputs).forEach((el) => el.addEventListener("change", go));
  const box = h("div", { class: "chart", "data-testid": "spc-chart" });
  view().replaceChildren(h("h1", {}, "Process control"),
    h("div", { class: "controls" }, ...Object.entries(inputs).map(([k, el]) => h("label", {}, k, el))),
    section(`X̄ chart of ${param} on ${line}, ${period}`, async () => {
      const r = await api(API.spc(line, param, period, rules));
      const alarmed = new Set(r.alarms.filter((a) => a.chart === "xbar" || a.chart === "i").map((a) => a.index));
      const lim = r.center_limits;
      setTimeout(() => chart(box, {
        tooltip: { trigger: "axis" }, grid: { left: 60, right: 30 },
        xAxis: { type: "category", data: r.points.map((p) => p.start.slice(0, 16).replace("T", " ")) },
        yAxis: { type: "value", name: r.unit, scale: true },
        series: [{ type: "line", name: param, data: r.points.map((p) => p.value), symbolSize: 4,
          markLine: { symbol: "none", data: [{ yAxis: lim.ucl, name: "UCL" }, { yAxis: lim.center, name: "CL" }, { yAxis: lim.lcl, name: "LCL" }] } },
        { type: "scatter", name: "signal", itemStyle: { color: "#b42318" }, symbolSize: 8,
          data: r.points.map((p) => (alarmed.has(p.index) ? p.value : null)) }],
      }), 0);
      const cap = r.capability;
      return [h("p", {}, h("span", { class: r.in_control ? "flag ok" : "flag bad", "data-testid": "spc-state" }, r.in_control ? "in control" : "out of control"),
        ` ${r.readings.toLocaleString("en-GB")} readings in ${r.points.length} subgroups (${r.chart}, ${r.rules.replace("_", " ")} rules); `,
        h("strong", { "data-testid": "spc-alarms" }, String(r.alarms.length)), " signal(s)."), box,
        cap ? h("p", {}, `Cp ${fmt(cap.cp, 2)}, Cpk ${fmt(cap.cpk, 2)} against the line's specification.`) : h("p", { class: "missing" }, "No process specification on record: no capability."),
        h("p", {}, `While out of control: ${r.runs_in_alarm.length} run(s) made ${r.lots_made.length} lot(s); ${r.downstream_lots.length} lot(s) downstream were made from them.`)];
    }, { testid: "spc" }));
}

/* ------------------------------------------------------------------------------- lots shipped to the caller */
function received(params) {
  const offset = Number(params.get("offset") || 0);
  view().replaceChildren(h("h1", {}, "Lots shipped to ", state.me.organisation || "you"),
    section("Received lots", async () => {
      const r = await api(API.received(offset));
      const pager = h("p", { class: "muted", "data-testid": "received-count" }, `${r.total} lots shipped to ${state.me.organisation}; showing ${r.lots.length ? offset + 1 : 0}–${offset + r.lots.length}.`,
        offset > 0 ? h("a", { href: `#/received?offset=${Math.max(0, offset - 50)}` }, " ← previous") : null,
        offset + r.lots.length < r.total ? h("a", { href: `#/received?offset=${offset + 50}` }, " next →") : null);
      return [pager, table([{ label: "lot" }, { label: "material" }, { label: "produced" }, { label: "kg", num: true }],
        r.lots.map((l) => [h("a", { href: `#/lot/${enc(l.id)}`, "data-testid": "received-lot" }, l.id), l.material, l.produced_at, fmt(l.mass_kg, 1)]))];
    }, { testid: "received" }));
}

/* ---------------------------------------------------------------------------------------- search, auth */
async function search(q) {
  q = q.trim();
  if (!q) return;
  try {
    await api(API.lot(q));
    location.hash = `#/lot/${enc(q)}`;
  } catch (e) {
    view().replaceChildren(h("h1", {}, "Find a lot"), h("p", { class: "error", "data-testid": "search-error" },
      e instanceof HttpError && e.status === 404 ? `No lot ${q} in your scope.` : e.message));
  }
}

async function whoami() {
  try {
    state.me = await api(API.me());
    $("#who").textContent = `${state.me.organisation} · ${state.me.role}`;
    $("#signout").hidden = !state.key;
    for (const a of document.querySelectorAll("nav a")) a.hidden = !state.me.pages.includes(a.dataset.page);
    return true;
  } catch (e) {
    if (e instanceof HttpError && e.status === 401) return false;
    throw e;
  }
}

function showLogin(message = "") {
  $("#login").hidden = false;
  view().replaceChildren();
  $("#login-error").textContent = message;
}

async function route() {
  state.charts.forEach((c) => c.dispose());
  state.charts = [];
  if (!state.key) { showLogin(""); return; }  // nothing is asked of the API without a key
  if (!state.me && !(await whoami())) { showLogin("This key is not valid (revoked or mistyped)."); return; }
  $("#login").hidden = true;
  const home = state.me.pages.includes("overview") ? "/overview" : `/${state.me.pages[0] || "received"}`;
  let [path, query] = (location.hash.slice(1) || home).split("?");
  let page = path.split("/")[1];
  if (!location.hash || (page !== "lot" && !state.me.pages.includes(page))) {
    [path, query] = [home, ""];
    page = home.slice(1);
    history.replaceState(null, "", "#" + home);
  }
  const params = new URLSearchParams(query || "");
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.page === page);
  if (page === "lot") lotPage(decodeURIComponent(path.slice("/lot/".length)));
  else if (page === "compliance") compliance(params);
  else if (page === "esg") esg(params);
  else if (page === "received") received(params);
  else if (page === "quality") qualityPage(params);
  else overview(params);
  if (state.me.whole_ledger) api(API.head()).then((v) => { $("#head").textContent = (v.head || v.chain_head || "").slice(0, 16); }).catch((e) => { $("#head").textContent = e.message; });
  else $("#head").textContent = "(read by whole-ledger keys)";
}

document.addEventListener("DOMContentLoaded", () => {
  $("#login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    state.key = $("#api-key").value.trim();
    sessionStorage.setItem("lichain-key", state.key);
    state.me = null;
    route();
  });
  $("#signout").addEventListener("click", () => { sessionStorage.removeItem("lichain-key"); state.key = ""; state.me = null; location.hash = "#/overview"; route(); });
  $("#search").addEventListener("submit", (ev) => { ev.preventDefault(); search($("#search-input").value); });
  window.addEventListener("hashchange", route);
  window.addEventListener("resize", () => state.charts.forEach((c) => c.resize()));
  route();
});
