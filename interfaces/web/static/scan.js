// The scan widget every scan screen shares (warehouse, receiving, the puskesmas desks).
//
// Three ways in, one way out: the rear camera (the browser's BarcodeDetector
// where it exists, else zxing-wasm, loaded only now, only here), a handheld
// scanner typing into the focused field (keyboard wedge, Enter at the end),
// or a photo sent to the server's decoder. The raw text and its symbology go
// to POST /scans, which says at once what it is or why it is refused.
//
// RantaiScan.attach(root, onCode): root holds .scan-camera, .scan-video,
// .scan-text, .scan-photo, .scan-result; data-action names the handoff the
// scan is for. onCode({text, symbology, scannedAt, answer?, offline?}).
"use strict";
(function () {
  const VENDOR = "/static/vendor/zxing-wasm/";
  const SYMBOLOGY = { QRCode: "qr", DataMatrix: "datamatrix", qr_code: "qr", data_matrix: "datamatrix",
                      "EAN-13": "ean-13", ean_13: "ean-13", Code128: "gs1-128", code_128: "gs1-128" };
  const en = document.documentElement.lang === "en";
  const say = en
    ? { shipment: "Shipment", from: "from", lots: "lot(s)", lot: "Lot", expires: "expires", ticket: "Ticket",
        offline: "No network: read", noCamera: "The camera could not be opened: type or photograph the code.",
        reading: "Reading the photo…" }
    : { shipment: "Kiriman", from: "dari", lots: "lot", lot: "Lot", expires: "kedaluwarsa", ticket: "Tiket",
        offline: "Tidak ada jaringan: terbaca", noCamera: "Kamera tidak dapat dibuka: ketik atau foto kodenya.",
        reading: "Membaca foto…" };
  let zxing = null;

  function loadZxing() {
    if (!zxing) {
      zxing = new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = VENDOR + "reader.js";
        script.onload = () => {
          window.ZXingWASM.prepareZXingModule({
            overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? VENDOR + path : prefix + path) },
          });
          resolve(window.ZXingWASM);
        };
        script.onerror = reject;
        document.head.append(script);
      });
    }
    return zxing;
  }

  async function detector() {
    if ("BarcodeDetector" in window) {
      try {
        const formats = await window.BarcodeDetector.getSupportedFormats();
        if (formats.includes("qr_code")) {
          const native = new window.BarcodeDetector({ formats: formats.filter((f) => ["qr_code", "data_matrix"].includes(f)) });
          return async (video) => (await native.detect(video)).map((c) => ({ text: c.rawValue, format: c.format }));
        }
      } catch (e) { /* fall through to zxing-wasm */ }
    }
    const reader = await loadZxing(), canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    return async (video) => {
      canvas.width = video.videoWidth; canvas.height = video.videoHeight;
      if (!canvas.width) return [];
      context.drawImage(video, 0, 0);
      const found = await reader.readBarcodes(context.getImageData(0, 0, canvas.width, canvas.height),
                                              { formats: ["QRCode", "DataMatrix"], tryHarder: true, maxNumberOfSymbols: 1 });
      return found.filter((c) => c.isValid).map((c) => ({ text: c.text, format: c.format }));
    };
  }

  function describe(answer) {
    if (answer.shipment) {
      const s = answer.shipment, lots = new Set(s.lines.map((l) => l.lot_number)).size;
      return `${say.shipment} ${s.sscc} ${say.from} ${answer.originName || s.origin}, ${lots} ${say.lots}`;
    }
    if (answer.lot) return `${say.lot} ${answer.lot.lot_number} · ${answer.lot.product} · ${say.expires} ${answer.lot.expiry}`;
    if (answer.ticket) return `${say.ticket}: ${answer.ticket.name} · ${answer.ticket.day || ""}`;
    return answer.kind;
  }

  function attach(root, onCode) {
    const result = root.querySelector(".scan-result"), video = root.querySelector(".scan-video");
    const field = root.querySelector(".scan-text"), photo = root.querySelector(".scan-photo");
    const action = root.dataset.action || undefined;
    const show = (good, text) => { result.hidden = false; result.className = `result scan-result ${good ? "good" : "bad"}`;
                                   result.textContent = text; };
    const headers = () => ({ "X-CSRF-Token": (document.querySelector('meta[name="csrf"]') || {}).content || "" });

    async function answered(response, code) {
      let body = {};
      try { body = await response.json(); } catch (e) { /* not JSON */ }
      if (!response.ok) { show(false, body.message || response.statusText); onCode({ ...code, refused: body.message }); return; }
      code.answer = body;
      if (!code.text && body.read && body.read.length) { code.text = body.read[0].text; code.symbology = body.read[0].symbology; }
      const known = onCode(code) || {};
      show(true, describe({ ...body, originName: known.originName }));
    }

    async function send(text, symbology) {
      const code = { text, symbology, scannedAt: window.Rantai.now() };
      let response;
      try {
        response = await fetch("/scans", { method: "POST", credentials: "same-origin",
          headers: { ...headers(), "Content-Type": "application/json" },
          body: JSON.stringify({ text, symbology: symbology || null, action }) });
      } catch (e) {
        code.offline = true;
        const known = onCode(code) || {};
        show(!!known.description, known.description ? `${say.offline}: ${known.description}` : `${say.offline}: ${text}`);
        return;
      }
      await answered(response, code);
    }

    field.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      const text = field.value.trim();
      field.value = "";
      if (text) send(text, null);
    });

    photo.addEventListener("change", async () => {
      if (!photo.files.length) return;
      show(true, say.reading);
      const form = new FormData();
      form.append("photo", photo.files[0]);
      if (action) form.append("action", action);
      photo.value = "";
      try {
        const response = await fetch("/scans", { method: "POST", credentials: "same-origin", headers: headers(), body: form });
        await answered(response, { text: "", symbology: null, scannedAt: window.Rantai.now() });
      } catch (e) { show(false, say.noCamera); }
    });

    root.querySelector(".scan-camera").addEventListener("click", async () => {
      let stream;
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false });
      } catch (e) { show(false, say.noCamera); return; }
      video.hidden = false;
      video.srcObject = stream;
      await video.play();
      const detect = await detector();
      const stop = () => { stream.getTracks().forEach((t) => t.stop()); video.hidden = true; };
      const tick = async () => {
        let found = [];
        try { found = await detect(video); } catch (e) { found = []; }
        if (found.length) { stop(); send(found[0].text, SYMBOLOGY[found[0].format] || "other"); return; }
        setTimeout(tick, 150);
      };
      tick();
    });
    field.focus();
  }

  window.RantaiScan = { attach };
})();
