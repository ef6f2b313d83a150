// The warehouse pages' forms: each becomes one command sent through the offline queue (rantai.js).
"use strict";
(function () {
  const en = document.documentElement.lang === "en";
  const say = en
    ? { sent: "Recorded", queued: "No network: kept and counted above; it will be sent with its scan time",
        refused: "Refused", label: "Print the label sheet", open: "Open the shipment", none: "No lot can be proposed",
        unknown: "Not a shipment expected here", shipment: "Shipment", from: "from", lots: "lot(s)", vials: "vials" }
    : { sent: "Tercatat", queued: "Tidak ada jaringan: disimpan dan dihitung di atas; dikirim nanti dengan waktu pindainya",
        refused: "Ditolak", label: "Cetak lembar label", open: "Buka kiriman", none: "Tidak ada lot yang bisa diusulkan",
        unknown: "Bukan kiriman yang ditunggu di sini", shipment: "Kiriman", from: "dari", lots: "lot", vials: "vial" };
  const $ = (selector, root = document) => root.querySelector(selector);
  const int = (value) => parseInt(value || "0", 10) || 0;

  function outcome(result, extra) {
    const box = $("#outcome");
    box.replaceChildren();
    const p = document.createElement("p");
    p.className = result.status === "refused" ? "error" : "ok";
    p.textContent = result.status === "sent" ? say.sent : result.status === "queued" ? say.queued
      : `${say.refused}: ${result.message}`;
    p.setAttribute("role", "status");
    box.append(p);
    if (extra && result.status === "sent") extra(box, result.body);
  }
  const link = (box, href, text) => { const a = document.createElement("a"); a.href = href; a.textContent = text;
                                      a.className = "button secondary"; box.append(a); };

  // Scan screens: a shipment label read (or typed) -> its command.
  const scanner = $("#scanner");
  if (scanner) {
    const form = $("#command"), action = form.dataset.action;
    const expected = JSON.parse($("#expected").textContent || "[]");
    let current = null;

    const ssccOf = (text) => {
      const match = /\/00\/(\d{18})/.exec(text) || /^\(?00\)?(\d{18})$/.exec(text) || /^(\d{18})$/.exec(text);
      return match ? match[1] : null;
    };
    window.RantaiScan.attach(scanner, (code) => {
      const sscc = code.answer && code.answer.shipment ? code.answer.shipment.sscc : ssccOf(code.text);
      const known = expected.find((s) => s.sscc === sscc);
      const shipment = code.answer && code.answer.shipment ? code.answer.shipment : known;
      if (!sscc || !shipment || code.refused) { form.hidden = true; current = null; return {}; }
      current = { sscc, shipment, scannedAt: code.scannedAt };
      if (action === "receive") {
        const lines = $("#receipt-lines");
        lines.replaceChildren();
        for (const line of shipment.lines) {
          const part = $("#receipt-line").content.cloneNode(true), set = part.querySelector("fieldset");
          set.dataset.gtin = line.gtin; set.dataset.lot = line.lot_number;
          set.querySelector("legend").textContent = `${line.lot_number} · ${line.vials} ${say.vials}`;
          set.querySelector('[name="accepted"]').value = line.vials;
          set.querySelector(".split").addEventListener("click", () => {  // some vials in another state
            const other = set.cloneNode(true);
            other.querySelector('[name="accepted"]').value = 0;
            other.querySelector(".split").remove();
            set.after(other);
          });
          lines.append(part);
        }
      }
      form.hidden = false;
      const lots = new Set(shipment.lines.map((l) => l.lot_number)).size;
      return { originName: known && known.origin_name,
               description: `${say.shipment} ${sscc} ${say.from} ${(known && known.origin_name) || shipment.origin}, ${lots} ${say.lots}` };
    });

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!current) return;
      const { sscc, scannedAt } = current;
      let url, body = {};
      if (action === "receive") {
        url = `/shipments/${sscc}/receipt`;
        body = { arrival_celsius: $("#celsius").value, lines: [...form.querySelectorAll("fieldset")].map((set) => ({
          gtin: set.dataset.gtin, lot_number: set.dataset.lot, accepted: int(set.querySelector('[name="accepted"]').value),
          rejected: int(set.querySelector('[name="rejected"]').value), vvm_stage: int(set.querySelector('[name="vvm_stage"]').value),
          reason: set.querySelector('[name="reason"]').value })) };
      } else if (action === "dispatch") {
        url = `/shipments/${sscc}/dispatch`;
      } else {
        url = `/shipments/${sscc}/handover`;
        body = { carrier: $("#carrier").value, vehicle: $("#vehicle").value, place: $("#place").value };
      }
      const result = await window.Rantai.submit(url, body, `${action} ${sscc}`, scannedAt);
      outcome(result);
      if (result.status !== "refused") { form.hidden = true; current = null; }
    });
  }

  // Pack: propose lots (earliest expiry first), pack, then the label sheet.
  const pack = $("#pack");
  if (pack) {
    let proposal = [];
    $("#propose").addEventListener("click", async () => {
      const gtin = $("#pack-gtin").value, vials = int($("#pack-vials").value), list = $("#proposal");
      list.replaceChildren();
      proposal = [];
      if (!vials) return;
      const response = await fetch(`/facilities/${encodeURIComponent(pack.dataset.origin)}/pick-list?gtin=${gtin}&vials=${vials}`,
                                   { credentials: "same-origin" });
      proposal = response.ok ? await response.json() : [];
      for (const pick of proposal) {
        const li = document.createElement("li");
        li.textContent = `${pick.lot_number}: ${pick.vials} ${say.vials}`;
        list.append(li);
      }
      if (!proposal.length) { const li = document.createElement("li"); li.textContent = say.none; list.append(li); }
      $("#pack-submit").disabled = !proposal.length;
    });
    pack.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { origin: pack.dataset.origin, destination: $("#destination").value.trim(),
                     lines: proposal.map((p) => ({ gtin: p.gtin, lot_number: p.lot_number, vials: p.vials })) };
      const result = await window.Rantai.submit("/shipments", body, `pack → ${body.destination}`);
      outcome(result, (box, answer) => {
        link(box, `/shipments/${answer.result.sscc}/label.pdf`, say.label);
        link(box, `/gudang/kiriman/${answer.result.sscc}`, `${say.open} ${answer.result.sscc}`);
      });
    });
  }

  // Count, wastage, and corrections made from the record.
  const lotOf = (form) => { const [gtin, lot_number] = form.querySelector('[name="lot"]').value.split(/\/(.*)/s); return { gtin, lot_number }; };
  const forms = {
    "#count": (f) => [`/facilities/${f.dataset.facility}/counts`,
      { ...lotOf(f), vials: int(f.vials.value), loose_doses: int(f.loose_doses.value) }],
    "#wastage": (f) => [`/facilities/${f.dataset.facility}/wastage`,
      { ...lotOf(f), doses: int(f.doses.value), reason: f.reason.value, note: f.note.value }],
    "#correction": (f) => [`/shipments/${f.dataset.sscc}/receipt/correction`, { reason: f.reason.value,
      lines: [...f.querySelectorAll("fieldset")].map((set) => ({ gtin: set.dataset.gtin, lot_number: set.dataset.lot,
        accepted: int(set.querySelector('[name="accepted"]').value), rejected: int(set.querySelector('[name="rejected"]').value) })) }],
  };
  for (const [selector, build] of Object.entries(forms)) {
    const form = $(selector);
    if (!form) continue;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const [url, body] = build(form);
      outcome(await window.Rantai.submit(url, body, selector.slice(1)));
    });
  }
  for (const form of document.querySelectorAll(".wastage-correction")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const url = `/facilities/${form.dataset.facility}/wastage/${form.dataset.version}/correction`;
      outcome(await window.Rantai.submit(url, { doses: int(form.doses.value), reason: form.reason.value }, "correction"));
    });
  }
})();
