// The puskesmas desks: desk 1 finds the ticket, desk 2 screens, desks 3–4 record the dose
// from the vial's scan and watch the person for 30 minutes. Every write goes through the
// offline queue (window.Rantai.submit): a dose made offline is kept with its scan time.
"use strict";
(function () {
  const $ = (selector) => document.querySelector(selector);
  const wordsBox = $("#desk-words"), words = wordsBox ? JSON.parse(wordsBox.textContent) : {};

  function say(good, text) {
    const box = $("#outcome");
    box.className = `result ${good ? "good" : "bad"}`;
    box.textContent = text;
  }

  // Desk 1: a scanned ticket opens the person's page (the ticket is opaque; a NIK goes by the form's body).
  const ticketScan = $("#ticket-scan");
  if (ticketScan) {
    window.RantaiScan.attach(ticketScan, (code) => {
      if (code.answer && code.answer.kind === "ticket") {
        location.href = "/meja/tiket/" + encodeURIComponent(code.text.trim().toUpperCase());
      }
    });
  }

  const desk = $("#desk");
  if (!desk) return;
  const ticket = desk.dataset.ticket, observeKey = `rantai:observe:${ticket}`;

  async function send(url, body, label, good, occurredAt) {
    const answer = await window.Rantai.submit(url, body, label, occurredAt);
    if (answer.status === "sent") { say(true, good); return answer; }
    if (answer.status === "queued") { say(true, words.queued); return answer; }
    say(false, answer.message);
    return answer;
  }

  // Desk 2: any "yes" suggests postponing; the vaccinator chooses.
  const screening = $("#screening");
  if (screening) {
    const result = $("#result"), postpone = $("#postpone-fields");
    const showPostpone = () => { postpone.hidden = result.value !== "postponed"; };
    screening.addEventListener("change", (event) => {
      if (event.target.type === "radio") {
        const anyYes = [...screening.querySelectorAll('input[type=radio][value=yes]')].some((r) => r.checked);
        $("#suggest").hidden = !anyYes;
        if (anyYes && result.value === "eligible") result.value = "postponed";
      }
      showPostpone();
    });
    screening.addEventListener("submit", async (event) => {
      event.preventDefault();
      const yes = [...screening.querySelectorAll('input[type=radio][value=yes]:checked')].map((r) => r.name.slice(2));
      const reason = ($("#reason").value.trim() || (yes.length ? yes.join(", ") : "")).slice(0, 200);
      const body = { result: result.value, reason, until: result.value === "postponed" && $("#until").value ? $("#until").value : null };
      const answer = await send(`/tickets/${ticket}/screening`, body, `${ticket}: ${result.selectedOptions[0].text}`, words.sent_screening);
      if (answer.status === "sent") location.reload();
    });
  }

  // Desks 3–4: the vial's code names the lot (and its serial); the dose is confirmed with it.
  const vialScan = $("#vial-scan"), doseForm = $("#dose-form");
  let scannedAt = null;
  if (vialScan) {
    window.RantaiScan.attach(vialScan, (code) => {
      const lot = code.answer && code.answer.lot;
      if (!lot) return {};
      doseForm.gtin.value = lot.gtin; doseForm.lot_number.value = lot.lot_number; doseForm.serial.value = lot.serial || "";
      $("#vial-text").textContent = `${lot.product} · lot ${lot.lot_number}${lot.serial ? " · " + lot.serial : ""}`;
      scannedAt = code.scannedAt;
      doseForm.hidden = false;
      $("#confirm-dose").focus();
      return {};
    });
    doseForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { gtin: doseForm.gtin.value, lot_number: doseForm.lot_number.value, serial: doseForm.serial.value };
      $("#confirm-dose").disabled = true;
      const answer = await send(`/tickets/${ticket}/dose`, body, `${ticket}: lot ${body.lot_number}`, words.dose_recorded, scannedAt);
      if (answer.status === "refused") { $("#confirm-dose").disabled = false; return; }
      localStorage.setItem(observeKey, String(Date.now()));
      if (answer.status === "sent") {
        const next = answer.body && answer.body.result && answer.body.result.next_ticket;
        if (next) say(true, `${words.dose_recorded} · ${words.next_ticket}: ${next}`);
      }
      $("#dose").hidden = true;
      observe();
    });
  }

  // The 30-minute observation, counted from the dose (kept across reloads on this phone).
  function observe() {
    const section = $("#observe");
    section.hidden = false;
    if (!localStorage.getItem(observeKey)) localStorage.setItem(observeKey, String(Date.now()));
    const ends = Number(localStorage.getItem(observeKey)) + Number(desk.dataset.minutes) * 60000;
    const tick = () => {
      const left = Math.max(0, ends - Date.now()), minutes = Math.floor(left / 60000), seconds = Math.floor(left / 1000) % 60;
      $("#timer").textContent = `${minutes}:${String(seconds).padStart(2, "0")}`;
      if (left === 0) { $("#observe-done").hidden = false; return; }
      setTimeout(tick, 1000);
    };
    tick();
  }
  if (desk.dataset.stage === "observe") observe();

  const aefi = $("#aefi-form");
  if (aefi) {
    aefi.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { severity: aefi.severity.value, description: aefi.description.value.trim() };
      const answer = await send(`/tickets/${ticket}/aefi`, body, `${ticket}: KIPI`, words.aefi_recorded);
      if (answer.status !== "refused") aefi.reset();
    });
  }
})();
