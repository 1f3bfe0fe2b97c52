/* 家访通 service worker: app shell cache, offline fallback, background sync of the outbox, Web Push reminders.
 * Served by app/pwa.py, which fills in the version (a hash of the shell's files) and the precache list.
 * The outbox lives in IndexedDB, not here: replacing this worker can never lose a record. */
"use strict";

const VERSION = "__SHELL_VERSION__";
// One worker per language (/sw.js?lang=…): an English phone's cache holds the English words, a Chinese one's none.
const LANG = "__SHELL_LANG__";
const SHELL_CACHE = "jf-shell-" + VERSION + "-" + LANG;
const PRECACHE = "__PRECACHE__";
const SHELL_URL = "/app/shell";
const OFFLINE_URL = "/offline";
// A 2G link that accepts the connection but never answers must not keep the teacher from the app.
const NAV_TIMEOUT_MS = 6000;

// The same sync engine the page uses (crypto.js, db.js, device.js and outbox.js, defining self.JF): the bundle the page has just loaded (its
// other scripts need a document and do not run here), so it is not sent over the wire again.
importScripts(PRECACHE.find((u) => u.startsWith("/shell.js?")));

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    // "no-cache": revalidate with the server (a 304 when the page has just loaded the file, so a first install does not
    // download the shell twice on 2G) and never precache a stale copy from the HTTP cache.
    // Static files carry a hash of their bytes (?v=…): the copy the page has just loaded is the right one, so take it
    // from the HTTP cache ("default") instead of asking again. Pages and the manifest are revalidated ("no-cache").
    await cache.addAll(PRECACHE.map((url) => new Request(url, {
      cache: url.includes("?v=") ? "default" : "no-cache", credentials: "same-origin" })));
    // Safe to take over at once: pages and worker share the IndexedDB queue, not any state in here.
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key !== SHELL_CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

// The data key comes from an unlocked page and goes at its lock; a worker the browser restarted has none until a page
// gives it again (ensureKey), so the outbox is sent in the background only while the app is unlocked somewhere.
let keyWaiters = [];
self.addEventListener("message", (event) => {
  const msg = event.data || {};
  if (msg.type === "jf-key") {
    self.JF.crypt.setKey(msg.key);
    keyWaiters.forEach((fn) => fn());
    keyWaiters = [];
  }
  if (msg.type === "jf-lock") self.JF.crypt.setKey(null);
  if (event.data === "skipWaiting") self.skipWaiting();
  if (event.data === "flush") event.waitUntil(self.JF.outbox.flush({ source: "sw" }));
});

const SHELL_PATHS = new Set(PRECACHE.map((u) => new URL(u, self.location.origin).pathname));

function isShellAsset(url) {
  return SHELL_PATHS.has(url.pathname);
}

// Never cached here: the API, photos and server pages (they carry children's data).
function isPrivate(url) {
  return url.pathname.startsWith("/api/") || url.pathname.startsWith("/photos/");
}

function withTimeout(promise, ms) {
  return Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), ms))]);
}

async function navigate(request, url) {
  const isApp = url.pathname === "/app/" || url.pathname.startsWith("/app/");
  try {
    // Network first: online, /app/ still goes through the login check and other pages stay fresh.
    return await (isApp ? withTimeout(fetch(request), NAV_TIMEOUT_MS) : fetch(request));
  } catch (err) {
    const cache = await caches.open(SHELL_CACHE);
    const fallback = await cache.match(isApp ? SHELL_URL : OFFLINE_URL);
    return fallback || Response.error();
  }
}

async function shellAsset(request) {
  const cache = await caches.open(SHELL_CACHE);
  const hit = await cache.match(request, { ignoreSearch: true });
  return hit || fetch(request);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || isPrivate(url)) return;  // straight to the network
  if (request.mode === "navigate") {
    event.respondWith(navigate(request, url));
  } else if (isShellAsset(url)) {
    event.respondWith(shellAsset(request));
  }
});

/** Ask open pages for the data key (they answer only while unlocked); go on after 2 s either way. */
async function ensureKey() {
  if (self.JF.crypt.ready()) return;
  const got = new Promise((resolve) => { keyWaiters.push(resolve); setTimeout(resolve, 2000); });
  for (const c of await self.clients.matchAll({ type: "window" })) c.postMessage({ type: "jf-need-key" });
  await got;
}

// Background Sync: fires when the phone is back online, even if the app is closed.
self.addEventListener("sync", (event) => {
  if (event.tag !== self.JF.outbox.SYNC_TAG) return;
  event.waitUntil(ensureKey().then(() => self.JF.outbox.flush({ source: "sw" })).then((result) => {
    // Rejecting asks the browser to retry later with its own backoff.
    if (result && result.retry) throw new Error("sync will be retried");
  }));
});

// Web Push: the payload is {id, title, body}, never a name (lock screens show it).
self.addEventListener("push", (event) => {
  let msg = {};
  try { msg = event.data.json(); } catch (e) { /* unreadable: generic text */ }
  self.JF.db.broadcast({ type: "push" });  // an open app refreshes its reminders
  event.waitUntil(self.registration.showNotification("家访通", { body: msg.body || "您有新的提醒，请打开家访通查看。",
    tag: "jf-" + msg.id, data: { id: msg.id }, icon: "/static/icons/icon-192.png" }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = "/app/#/notifications";
  event.waitUntil(self.clients.matchAll({ type: "window" }).then((list) => {
    const c = list.find((w) => new URL(w.url).pathname === "/app/");
    return c ? c.navigate(url).catch(() => c).then((w) => (w || c).focus()) : self.clients.openWindow(url);
  }));
});
