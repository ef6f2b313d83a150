// The service worker (served at /sw.js, scope /): pages still open when the network drops.
//
// Pages: network first, the last copy when offline; a page sent with
// "Cache-Control: no-store" (personal data unmasked) is never kept. Static files: the cache
// first (they change with a new CACHE name). Writes are never touched here:
// the page's queue (rantai.js) keeps them in IndexedDB and sends them later.
"use strict";
const CACHE = "rantai-v1";
const SHELL = ["/static/rantai.css", "/static/rantai.js"];
// Pages that may show a person unmasked: never kept, whatever their headers say.
const NEVER_KEPT = ["/meja/tiket/", "/distrik/orang/"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    const path = new URL(request.url).pathname;
    const private_ = (response.headers.get("Cache-Control") || "").includes("no-store")
      || NEVER_KEPT.some((prefix) => path.startsWith(prefix));
    if (response.ok && !response.redirected && !private_) cache.put(request, response.clone());
    return response;
  } catch (error) {
    const kept = await cache.match(request, { ignoreSearch: false });
    if (kept) return kept;
    throw error;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(request);
  if (kept) return kept;
  const response = await fetch(request);
  if (response.ok) cache.put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request, url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/")) event.respondWith(cacheFirst(request));
  else if (request.mode === "navigate") event.respondWith(networkFirst(request));
});
