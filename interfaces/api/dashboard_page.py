"""The monitoring dashboard page: one self-contained HTML document (no CDN, no
external JS or CSS, so it works without internet). It fetches /dashboard/data
every few seconds and draws the registrations chart as inline SVG.

Numbers use Indonesian grouping (71.000) as the officials read them; change
LOCALE below for another convention.
"""

DASHBOARD_HTML = r"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Rantai · Vaccination monitoring</title>
<style>
  :root { --ink: #1d2731; --muted: #5b6b7a; --line: #d9e1e8; --panel: #fff; --bg: #eef2f5;
          --web: #1f77b4; --ussd: #f0a202; --field: #2ca58d; --cum: #b8336a; --alert: #c0392b; --ok: #2e7d32; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, "Segoe UI", Roboto, "Noto Sans", Arial, sans-serif;
         color: var(--ink); background: var(--bg); }
  header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 16px; padding: 12px 20px;
           background: #12355b; color: #fff; }
  header h1 { margin: 0; font-size: 20px; }
  header .sub { color: #c9d7e6; }
  header .status { margin-left: auto; font-size: 13px; color: #c9d7e6; }
  header .status.stale { color: #ffb3a7; font-weight: 600; }
  .stuck { margin: 12px 20px 0; padding: 10px 14px; border: 2px solid var(--alert); border-radius: 6px;
           background: #fdecea; color: var(--alert); font-weight: 600; }
  .stuck ul { margin: 4px 0 0; padding-left: 18px; font-weight: 400; color: var(--ink); }
  .stuck code { font-size: 12px; }
  main { display: grid; grid-template-columns: repeat(12, 1fr); gap: 14px; padding: 14px 20px 24px; }
  section { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px;
            display: flex; flex-direction: column; min-width: 0; }
  section h2 { margin: 0 0 8px; font-size: 15px; }
  .w12 { grid-column: span 12; } .w8 { grid-column: span 8; } .w6 { grid-column: span 6; } .w4 { grid-column: span 4; }
  @media (max-width: 1000px) { .w8, .w6, .w4 { grid-column: span 12; } }
  .pos { margin-top: auto; padding-top: 8px; font-size: 12px; color: var(--muted); }
  .pos .behind { color: var(--alert); }
  .cards { display: grid; grid-template-columns: repeat(10, minmax(0, 1fr)); gap: 8px; }
  @media (max-width: 1300px) { .cards { grid-template-columns: repeat(5, minmax(0, 1fr)); } }
  @media (max-width: 700px) { .cards { grid-template-columns: repeat(2, minmax(0, 1fr)); } }
  .card { border: 1px solid var(--line); border-radius: 5px; padding: 8px 10px; }
  .card .label { font-size: 12px; color: var(--muted); }
  .card .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
  .card .note { font-size: 12px; color: var(--muted); }
  .card .bar { height: 4px; background: var(--line); border-radius: 2px; margin-top: 4px; }
  .card .bar i { display: block; height: 100%; background: var(--web); border-radius: 2px; }
  .card.alert .value { color: var(--alert); }
  .legend { display: flex; gap: 14px; font-size: 12px; color: var(--muted); margin-bottom: 4px; }
  .legend b { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: -1px; }
  svg { width: 100%; height: auto; display: block; }
  svg text { font-size: 11px; fill: var(--muted); }
  .empty { color: var(--muted); padding: 20px 0; text-align: center; }
  .tools { display: flex; gap: 10px; align-items: center; margin-bottom: 6px; }
  .tools input { width: 260px; padding: 4px 8px; border: 1px solid var(--line); border-radius: 4px; font: inherit; }
  .scroll { max-height: 420px; overflow: auto; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
  th { position: sticky; top: 0; background: #f6f8fa; font-size: 12px; color: var(--muted); cursor: pointer;
       user-select: none; }
  th.sorted { color: var(--ink); }
  td.text, th.text { text-align: left; }
  tr.overdue td { color: var(--alert); }
  .bands div.row { display: grid; grid-template-columns: 110px 1fr 50px; gap: 8px; align-items: center; margin: 4px 0; }
  .bands .track { background: var(--bg); height: 14px; border-radius: 3px; }
  .bands .track i { display: block; height: 100%; border-radius: 3px; background: #5b8db8; }
  .bands .row.low .track i { background: var(--alert); }
  .num { text-align: right; font-variant-numeric: tabular-nums; }
  .big { display: flex; gap: 18px; flex-wrap: wrap; margin-bottom: 8px; }
  .big div { min-width: 90px; } .big .value { font-size: 22px; font-weight: 600; }
  .big .label { font-size: 12px; color: var(--muted); } .big .alert { color: var(--alert); }
  ul.plain { margin: 4px 0 0; padding-left: 18px; font-size: 13px; }
</style>
</head>
<body>
<header>
  <h1>Rantai · Vaccination monitoring</h1>
  <span class="sub">COVID-19 vaccination campaign · times in WIB (UTC+7)</span>
  <span class="status" id="status">Loading…</span>
</header>
<div class="stuck" id="stuck" role="alert" hidden></div>
<main>
  <section class="w12" id="funnel">
    <h2>National funnel</h2>
    <div class="cards" id="funnel-cards"></div>
    <div class="pos"></div>
  </section>

  <section class="w8" id="hours">
    <h2>Registrations per hour (WIB)</h2>
    <div class="legend"><span><b style="background:var(--web)"></b>Web</span><span><b style="background:var(--ussd)"></b>USSD *119#</span>
      <span><b style="background:var(--field)"></b>Field visit</span><span><b style="background:var(--cum)"></b>Total so far (right scale)</span></div>
    <div id="hours-chart"></div>
    <div class="pos"></div>
  </section>

  <section class="w4" id="stock">
    <h2>Stock bands (days of stock)</h2>
    <div class="big" id="stock-big"></div>
    <div class="bands" id="stock-bands"></div>
    <div id="stock-outs"></div>
    <div class="pos"></div>
  </section>

  <section class="w12" id="districts">
    <h2>Districts</h2>
    <div class="tools"><input id="district-filter" type="search" placeholder="Find district (code or name)">
      <span class="pos" id="district-count" style="margin:0;padding:0"></span></div>
    <div class="scroll"><table id="district-table"><thead></thead><tbody></tbody></table></div>
    <div class="pos"></div>
  </section>

  <section class="w6" id="shipments">
    <h2>Shipments in transit</h2>
    <div class="big" id="shipments-big"></div>
    <div id="shipments-list"></div>
    <div class="pos"></div>
  </section>

  <section class="w6" id="aefi">
    <h2>AEFI (KIPI) reports by severity</h2>
    <div class="big" id="aefi-big"></div>
    <div id="aefi-lots"></div>
    <div class="pos"></div>
  </section>
</main>
<script>
"use strict";
const LOCALE = "id-ID";          // 71.000 and 12,5 %: how Indonesian officials write numbers
const REFRESH_SECONDS = 5;
const numbers = new Intl.NumberFormat(LOCALE);
const percents = new Intl.NumberFormat(LOCALE, { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 });
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const num = (n) => (n === null || n === undefined) ? "–" : numbers.format(n);
const pct = (r) => (r === null || r === undefined) ? "–" : percents.format(r);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const $ = (id) => document.getElementById(id);

function wibTime(iso, withDate = true) {
  if (!iso) return "–";
  const t = new Date(new Date(iso).getTime() + 7 * 3600 * 1000);   // WIB = UTC+7, no daylight saving
  const two = (n) => String(n).padStart(2, "0");
  const time = `${two(t.getUTCHours())}:${two(t.getUTCMinutes())}:${two(t.getUTCSeconds())}`;
  return withDate ? `${t.getUTCDate()} ${MONTHS[t.getUTCMonth()]} ${t.getUTCFullYear()} ${time} WIB` : `${time} WIB`;
}

/* ---------- read models a follower cannot take past an event ---------- */
const PANEL_READ_MODEL = { funnel: "funnel", hours: "funnel", districts: "funnel", stock: "stock_on_hand",
  shipments: "shipments", aefi: "aefi" };
let stuckModels = {};

function drawStuck(readModels) {
  stuckModels = {};
  for (const r of readModels || []) if (r.stuck) stuckModels[r.name] = r.stuck;
  const names = Object.keys(stuckModels), box = $("stuck");
  box.hidden = !names.length;
  box.innerHTML = names.length ? `Warning: ${names.length === 1 ? "a read model is" : `${names.length} read models are`} stuck;
    ${names.length === 1 ? "its" : "their"} figures stop at the position shown and no longer follow the log.<ul>` +
    names.map((name) => `<li><b>${esc(name)}</b> stuck at log position ${esc(stuckModels[name].notification_id)}
      since ${esc(wibTime(stuckModels[name].since))}: <code>${esc(stuckModels[name].error)}</code></li>`).join("") +
    "</ul>" : "";
}

function showPosition(sectionId, position, head) {
  const el = document.querySelector(`#${sectionId} > .pos`);
  const stuck = stuckModels[PANEL_READ_MODEL[sectionId]];
  const warning = stuck ? ` · <span class="behind">stuck at log position ${esc(stuck.notification_id)}</span>` : "";
  if (!position || !position.notification_id) { el.innerHTML = "Log position: no events processed yet." + warning; return; }
  const behind = head - position.notification_id;
  // the id is written plainly (no grouping) so it can be looked up as it stands in the log and the exports
  el.innerHTML = `Log position: notification id ${esc(position.notification_id)}, recorded ${esc(wibTime(position.recorded_at))}` +
    (behind > 0 ? ` · <span class="behind">${num(behind)} newer events not yet counted</span>` : "") + warning;
}

/* ---------- national funnel ---------- */
function drawFunnel(t) {
  const share = (n) => t.targeted ? n / t.targeted : null;
  const cards = [
    ["Targeted", t.targeted, "health workers on the list", null],
    ["SMS sent", t.sms_sent, t.targeted ? pct(share(t.sms_sent)) + " of targeted" : "", share(t.sms_sent)],
    ["SMS delivered", t.delivered, "confirmed by the operator", share(t.delivered)],
    ["SMS failed", t.failed, "not delivered", null, t.failed > 0],
    ["Registered", t.registered, `web ${num(t.registered_web)} · USSD ${num(t.registered_ussd)} · field ${num(t.registered_field)}`, share(t.registered)],
    ["Screened", t.screened, `eligible ${num(t.eligible)} · postponed ${num(t.postponed)}`, share(t.screened)],
    ["Dose 1", t.dose1, "people vaccinated", share(t.dose1)],
    ["Dose 2", t.dose2, "completed both doses", share(t.dose2)],
    ["Drop-out rate", pct(t.drop_out_rate), "(dose 1 − dose 2) ÷ dose 1", null, t.drop_out_rate > 0.1],
    ["Coverage", pct(t.coverage), "dose 1 ÷ targeted", t.coverage],
  ];
  $("funnel-cards").innerHTML = cards.map(([label, value, note, bar, alert]) => `
    <div class="card${alert ? " alert" : ""}"><div class="label">${esc(label)}</div>
      <div class="value">${esc(typeof value === "number" ? num(value) : value)}</div>
      <div class="note">${esc(note)}</div>
      ${bar === null || bar === undefined ? "" : `<div class="bar"><i style="width:${Math.min(100, bar * 100).toFixed(1)}%"></i></div>`}
    </div>`).join("");
}

/* ---------- registrations per hour: stacked bars + cumulative line, inline SVG ---------- */
function scale(max) {                       // a round step (1, 2 or 5 × 10ⁿ) giving at most five intervals
  const rough = Math.max(max, 1) / 5, power = Math.pow(10, Math.floor(Math.log10(rough)));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough);
  return { step, top: Math.max(step, Math.ceil(max / step) * step) };
}

function drawHours(hours) {
  const box = $("hours-chart");
  if (!hours.length) { box.innerHTML = '<div class="empty">No registrations yet.</div>'; return; }
  const W = 900, H = 280, L = 56, R = 64, T = 12, B = 44, w = W - L - R, h = H - T - B;
  const left = scale(Math.max(...hours.map((x) => x.registered))), right = scale(hours[hours.length - 1].cumulative);
  const top = left.top, cumTop = right.top;
  const slot = w / hours.length, bar = Math.max(1, slot * 0.8);
  const y = (v) => T + h - (v / top) * h, yc = (v) => T + h - (v / cumTop) * h;
  const parts = [];
  for (let v = 0; v <= top; v += left.step) {     // grid on the left scale (per hour)
    parts.push(`<line x1="${L}" x2="${L + w}" y1="${y(v)}" y2="${y(v)}" stroke="#e3e8ed"/>`,
      `<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${num(v)}</text>`);
  }
  for (let v = 0; v <= cumTop; v += right.step) {  // the right scale (total so far)
    parts.push(`<text x="${L + w + 6}" y="${yc(v) + 4}" style="fill:var(--cum)">${num(v)}</text>`);
  }
  const every = Math.max(1, Math.ceil(hours.length / 12));
  let labelledDay = "";
  hours.forEach((x, i) => {
    const bx = L + i * slot + (slot - bar) / 2;
    let base = 0;
    for (const [key, colour] of [["web", "var(--web)"], ["ussd", "var(--ussd)"], ["field", "var(--field)"]]) {
      if (!x[key]) continue;
      parts.push(`<rect x="${bx.toFixed(1)}" y="${y(base + x[key]).toFixed(1)}" width="${bar.toFixed(1)}" height="${(y(base) - y(base + x[key])).toFixed(1)}" style="fill:${colour}"/>`);
      base += x[key];
    }
    parts.push(`<rect x="${(L + i * slot).toFixed(1)}" y="${T}" width="${slot.toFixed(1)}" height="${h}" fill="transparent"><title>${esc(x.wib)} WIB: ${num(x.registered)} registered (web ${num(x.web)}, USSD ${num(x.ussd)}, field ${num(x.field)}); ${num(x.cumulative)} so far</title></rect>`);
    if (i % every === 0) {
      const [day, month, time] = x.wib.split(" "), cx = (L + i * slot + slot / 2).toFixed(1);
      parts.push(`<text x="${cx}" y="${T + h + 16}" text-anchor="middle">${esc(time)}</text>`);
      if (`${day} ${month}` !== labelledDay) {   // the date under the first label of each day
        labelledDay = `${day} ${month}`;
        parts.push(`<text x="${cx}" y="${T + h + 30}" text-anchor="middle" style="font-weight:600">${esc(labelledDay)}</text>`);
      }
    }
  });
  const line = hours.map((x, i) => `${(L + i * slot + slot / 2).toFixed(1)},${yc(x.cumulative).toFixed(1)}`).join(" ");
  parts.push(`<polyline points="${line}" fill="none" stroke="var(--cum)" stroke-width="2"/>`,
    `<line x1="${L}" x2="${L + w}" y1="${T + h}" y2="${T + h}" stroke="#9aa8b5"/>`,
    `<text x="12" y="${T + h / 2}" transform="rotate(-90 12 ${T + h / 2})" text-anchor="middle">per hour</text>`);
  box.innerHTML = `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="Registrations per hour">${parts.join("")}</svg>`;
}

/* ---------- districts: sortable, filterable ---------- */
const DISTRICT_COLUMNS = [
  ["district", "District", "text"], ["phase", "Phase"], ["targeted", "Targeted"], ["sms_sent", "SMS sent"],
  ["delivered", "Delivered"], ["failed", "Failed"], ["registered", "Registered"], ["screened", "Screened"],
  ["dose1", "Dose 1"], ["dose2", "Dose 2"], ["drop_out_rate", "Drop-out", "rate"], ["coverage", "Coverage", "rate"],
];
const districtState = { rows: [], sortKey: "targeted", descending: true, filter: "" };

function drawDistricts() {
  const { sortKey, descending } = districtState;
  $("district-table").tHead.innerHTML = "<tr>" + DISTRICT_COLUMNS.map(([key, title, kind]) =>
    `<th data-key="${key}" class="${kind === "text" ? "text" : ""}${key === sortKey ? " sorted" : ""}">${esc(title)}${key === sortKey ? (descending ? " ▼" : " ▲") : ""}</th>`).join("") + "</tr>";
  const needle = districtState.filter.trim().toLowerCase();
  const rows = districtState.rows.filter((r) => !needle || `${r.district} ${r.name}`.toLowerCase().includes(needle));
  rows.sort((a, b) => {
    const x = a[sortKey] ?? -Infinity, y = b[sortKey] ?? -Infinity;
    const order = typeof x === "string" ? x.localeCompare(y) : x - y;
    return (descending ? -order : order) || a.district.localeCompare(b.district);
  });
  $("district-table").tBodies[0].innerHTML = rows.length ? rows.map((r) => "<tr>" + DISTRICT_COLUMNS.map(([key, , kind]) =>
    kind === "text" ? `<td class="text">${esc(r.district)} ${esc(r.name)}</td>`
      : `<td>${kind === "rate" ? pct(r[key]) : num(r[key])}</td>`).join("") + "</tr>").join("")
    : `<tr><td class="text" colspan="${DISTRICT_COLUMNS.length}">No districts${needle ? " match" : " yet"}.</td></tr>`;
  $("district-count").textContent = `${num(rows.length)} of ${num(districtState.rows.length)} district rows · click a heading to sort`;
}

$("district-table").addEventListener("click", (event) => {
  const th = event.target.closest("th");
  if (!th) return;
  districtState.descending = districtState.sortKey === th.dataset.key ? !districtState.descending : th.dataset.key !== "district";
  districtState.sortKey = th.dataset.key;
  drawDistricts();
});
$("district-filter").addEventListener("input", (event) => { districtState.filter = event.target.value; drawDistricts(); });

/* ---------- stock, shipments, AEFI ---------- */
function big(items) {
  return items.map(([label, value, alert]) => `<div><div class="value${alert ? " alert" : ""}">${esc(value)}</div><div class="label">${esc(label)}</div></div>`).join("");
}

function drawStock(s) {
  $("stock-big").innerHTML = big([["facility/lot rows", num(s.rows)], ["stock-outs", num(s.stock_outs), s.stock_outs > 0],
    ["below minimum (< 7 days)", num(s.below_minimum), s.below_minimum > 0]]);
  const most = Math.max(1, ...s.bands.map((b) => b.rows));
  $("stock-bands").innerHTML = s.bands.map((b) => `<div class="row${b.band === "< 7" ? " low" : ""}"><span>${esc(b.label)}</span>
    <div class="track"><i style="width:${(100 * b.rows / most).toFixed(1)}%"></i></div><span class="num">${num(b.rows)}</span></div>`).join("") +
    `<div class="pos" style="padding-top:2px">Stock-outs are counted apart from the bands. As of the latest stock movement, ${esc(wibTime(s.as_of))}.</div>`;
  $("stock-outs").innerHTML = s.stock_out_rows.length ? "<b>Stock-outs</b><ul class=\"plain\">" +
    s.stock_out_rows.map((r) => `<li>${esc(r.facility)} · lot ${esc(r.lot_number)}</li>`).join("") + "</ul>" : "";
}

function duration(hours) {
  return hours < 48 ? `${num(Math.floor(hours))} hours` : `${num(Math.floor(hours / 24))} days`;
}

function drawShipments(s) {
  $("shipments-big").innerHTML = big([["in transit", num(s.in_transit)], [`overdue (over ${s.overdue_after_days} days)`, num(s.overdue), s.overdue > 0],
    ["vials in transit", num(s.vials)], ["with a temperature excursion", num(s.with_excursion), s.with_excursion > 0]]);
  $("shipments-list").innerHTML = s.longest.length ? `<table><thead><tr><th class="text">Shipment (SSCC)</th><th class="text">From → to</th>
    <th>Vials</th><th>In transit for</th><th>Excursions</th></tr></thead><tbody>` + s.longest.map((r) =>
    `<tr class="${r.overdue ? "overdue" : ""}"><td class="text">${esc(r.sscc)}</td><td class="text">${esc(r.origin)} → ${esc(r.destination)}</td>
     <td>${num(r.vials)}</td><td>${esc(duration(r.hours_in_transit))}${r.overdue ? " (overdue)" : ""}</td><td>${num(r.excursions)}</td></tr>`).join("") + "</tbody></table>"
    : '<div class="empty">No shipment is in transit.</div>';
}

function drawAefi(a) {
  const label = { mild: "Mild", moderate: "Moderate", severe: "Severe" };
  $("aefi-big").innerHTML = big([["reports in all", num(a.total)], ...a.by_severity.map((s) =>
    [label[s.severity] || s.severity, num(s.reports), s.severity === "severe" && s.reports > 0])]);
  $("aefi-lots").innerHTML = a.by_lot.length ? `<table><thead><tr><th class="text">GTIN</th><th class="text">Lot</th>
    <th class="text">Severity</th><th>Reports</th></tr></thead><tbody>` + a.by_lot.map((r) =>
    `<tr><td class="text">${esc(r.gtin)}</td><td class="text">${esc(r.lot_number)}</td><td class="text">${esc(label[r.severity] || r.severity)}</td><td>${num(r.reports)}</td></tr>`).join("") +
    "</tbody></table>" : '<div class="empty">No AEFI reported.</div>';
}

/* ---------- refresh loop ---------- */
let lastGood = null, busy = false;

async function refresh() {
  if (busy) return;
  busy = true;
  try {
    const response = await fetch("/dashboard/data", { cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const d = await response.json();
    drawStuck(d.read_models);
    drawFunnel(d.funnel.totals); showPosition("funnel", d.funnel.position, d.log_head);
    drawHours(d.registrations_per_hour.hours); showPosition("hours", d.registrations_per_hour.position, d.log_head);
    districtState.rows = d.districts.rows; drawDistricts(); showPosition("districts", d.districts.position, d.log_head);
    drawStock(d.stock); showPosition("stock", d.stock.position, d.log_head);
    drawShipments(d.shipments); showPosition("shipments", d.shipments.position, d.log_head);
    drawAefi(d.aefi); showPosition("aefi", d.aefi.position, d.log_head);
    lastGood = d.generated_at;
    $("status").className = "status";
    $("status").textContent = `Updated ${wibTime(d.generated_at, false)} · event log: ${num(d.log_head)} events · refreshes every ${REFRESH_SECONDS} s`;
  } catch (error) {
    $("status").className = "status stale";
    $("status").textContent = `Cannot reach the server (${error.message}); ` +
      (lastGood ? `showing figures from ${wibTime(lastGood, false)}` : "no figures yet") + ". Retrying…";
  } finally {
    busy = false;
  }
}

refresh();
setInterval(refresh, REFRESH_SECONDS * 1000);
</script>
</body>
</html>
"""
