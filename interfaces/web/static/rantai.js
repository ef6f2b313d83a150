// Every staff page: the service worker, and the offline queue of commands.
//
// A command (a dispatch, a receipt with its counts, a dose) is sent to the
// JSON API with the session's CSRF token, an Idempotency-Key made when the
// user pressed the button, and X-Occurred-At, the time of the scan. When the
// network is down it is kept in IndexedDB and sent later, in order, with the
// same key and the same time: the server records it once, at its scan time.
// Nothing queued is dropped: a 401 waits for the user to log in again; a
// refusal is shown with its reason, to confirm again (now) or discard.
"use strict";
(function () {
  const DB = "rantai", STORE = "commands";
  const words = document.documentElement.lang === "en"
    ? { refused: "Refused when sent", again: "Send again now", discard: "Discard", login: "Log in to send",
        sent: "Recorded", queued: "No network: kept, will be sent when back online" }
    : { refused: "Ditolak saat dikirim", again: "Kirim lagi sekarang", discard: "Buang", login: "Masuk untuk mengirim",
        sent: "Tercatat", queued: "Tidak ada jaringan: disimpan, dikirim saat tersambung" };

  function open() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  async function tx(mode, work) {
    const db = await open();
    return new Promise((resolve, reject) => {
      const t = db.transaction(STORE, mode), result = work(t.objectStore(STORE));
      t.oncomplete = () => { db.close(); resolve(result && "result" in result ? result.result : result); };
      t.onerror = () => { db.close(); reject(t.error); };
    });
  }
  const all = () => tx("readonly", (s) => s.getAll());
  const put = (command) => tx("readwrite", (s) => s.put(command));
  const remove = (seq) => tx("readwrite", (s) => s.delete(seq));

  function nowWithOffset() {
    const d = new Date(), off = -d.getTimezoneOffset(), sign = off >= 0 ? "+" : "-", a = Math.abs(off);
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:` +
      `${pad(d.getMinutes())}:${pad(d.getSeconds())}${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
  }
  const csrf = () => (document.querySelector('meta[name="csrf"]') || {}).content || "";

  async function post(command, token) {
    const headers = { "Content-Type": "application/json", "X-CSRF-Token": token, "Idempotency-Key": command.key,
                      "X-Device": "web" };
    if (command.occurredAt) headers["X-Occurred-At"] = command.occurredAt;
    return fetch(command.url, { method: "POST", headers, body: JSON.stringify(command.body), credentials: "same-origin" });
  }
  async function reason(response) {
    try { const body = await response.json(); return body.message || response.statusText; }
    catch (e) { return response.statusText; }
  }

  // Send one command now, or keep it. Resolves {status: "sent"|"queued"|"refused", ...}.
  async function submit(url, body, label, occurredAt) {
    const command = { url, body, label, key: crypto.randomUUID(), occurredAt: occurredAt || nowWithOffset(),
                      created: Date.now() };
    if ((await all()).some((c) => !c.refused)) {  // behind those still waiting, to keep the order
      await put(command); refresh(); sync(); return { status: "queued", message: words.queued };
    }
    let response;
    try {
      response = await post(command, csrf());
      if (response.status === 403 && (await response.clone().json().catch(() => ({}))).error === "CsrfMissing") {
        const session = await fetch("/session", { credentials: "same-origin" });  // a page kept from another session
        if (session.ok) response = await post(command, (await session.json()).csrf);
      }
    } catch (e) { await put(command); refresh(); return { status: "queued", message: words.queued }; }
    if (response.status === 401 || response.status >= 500) {
      await put(command); refresh();
      if (response.status === 401) showLogin();
      return { status: "queued", message: words.login };
    }
    if (!response.ok) return { status: "refused", message: await reason(response), code: response.status };
    return { status: "sent", body: await response.json() };
  }

  let syncing = false;
  async function sync() {
    if (syncing) return;
    syncing = true;
    try {
      const waiting = (await all()).filter((c) => !c.refused);
      if (!waiting.length) return;
      let session;
      try { session = await fetch("/session", { credentials: "same-origin" }); } catch (e) { return; }
      if (session.status === 401) { showLogin(); return; }
      if (!session.ok) return;
      const token = (await session.json()).csrf;
      for (const command of waiting) {
        let response;
        try { response = await post(command, token); } catch (e) { return; }
        if (response.status === 401) { showLogin(); return; }
        if (response.status >= 500) return;
        if (response.ok) await remove(command.seq);
        else { command.refused = await reason(response); command.code = response.status; await put(command); }
        refresh();
      }
      document.dispatchEvent(new CustomEvent("rantai:synced"));
    } finally { syncing = false; refresh(); }
  }

  function showLogin() {
    const box = document.getElementById("refused");
    if (!box) return;
    box.hidden = false;
    box.replaceChildren();
    const link = document.createElement("a");
    link.href = "/login?next=" + encodeURIComponent(location.pathname);
    link.textContent = words.login;
    box.append(link);
  }

  async function refresh() {
    const commands = await all(), counter = document.getElementById("queue");
    if (counter) { counter.hidden = !commands.length; document.getElementById("queue-count").textContent = commands.length; }
    const offline = document.getElementById("offline");
    if (offline) offline.hidden = navigator.onLine;
    const box = document.getElementById("refused");
    if (!box) return;
    const refused = commands.filter((c) => c.refused);
    if (!refused.length) { if (!box.querySelector("a")) box.hidden = true; return; }
    box.hidden = false;
    box.replaceChildren();
    for (const command of refused) {
      const item = document.createElement("div"), text = document.createElement("p");
      text.textContent = `${words.refused}: ${command.label} — ${command.refused}`;
      const again = document.createElement("button"), drop = document.createElement("button");
      again.textContent = words.again; drop.textContent = words.discard; drop.className = "secondary";
      again.onclick = async () => {  // confirmed again: recorded now, under a new key
        delete command.refused; command.key = crypto.randomUUID(); command.occurredAt = nowWithOffset();
        await put(command); sync();
      };
      drop.onclick = async () => { await remove(command.seq); refresh(); };
      item.append(text, again, drop);
      box.append(item);
    }
  }

  window.Rantai = { submit, sync, refresh, pending: all, words, now: nowWithOffset };
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
  // Logging out forgets the kept pages (the queue stays: it is sent after the next login).
  const logout = document.querySelector('form[action="/logout"]');
  if (logout && "caches" in window) logout.addEventListener("submit", () => { caches.delete("rantai-v1"); });
  window.addEventListener("online", () => { refresh(); sync(); });
  window.addEventListener("offline", refresh);
  setInterval(sync, 15000);
  refresh().then(sync);
})();
