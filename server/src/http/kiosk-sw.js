// The kiosk's service worker, served at /kiosk-sw.js and registered by the kiosk page with scope
// /kiosk. Commune centres lose their network and their power; this keeps the kiosk working:
//
// - the kiosk page and its assets come from the network when it answers, else from a cache, so
//   the page loads (and reloads) with no network;
// - a finished survey posted to the submit server function is first written to IndexedDB (a
//   durable transaction), then sent; when the server cannot be reached or asks to retry later
//   (503, 429), it stays queued and the page is told "Queued", so the citizen sees the usual
//   thank-you. The queue is sent again in the background with a growing delay, whenever the
//   page asks (every few seconds, and at once when the browser comes back online). Each survey
//   keeps the id the page made for it, so a survey sent twice is stored once (200 on a retry).
//
// The page learns the queue's length from messages {queued: n}, for the staff's indicator.

const CACHE = "hailong-kiosk-v2";
const PAGE = "/kiosk";
const SUBMIT = "/api/kiosk/submit";
const DATABASE = "hailong-kiosk";
const QUEUE = "surveys";
const FIRST_DELAY_MS = 5_000;
const LONGEST_DELAY_MS = 60_000;
// A send that has not been answered by then is taken as failed: a network that hangs must not
// hold the queue (and the staff's count) forever.
const SEND_TIMEOUT_MS = 15_000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // The page first, then every /pkg/ asset it names (styles, script, wasm: their names
      // depend on the build). One by one: what cannot be fetched now is cached when it next loads.
      const assets = new Set();
      try {
        const page = await fetch(PAGE, { credentials: "same-origin" });
        if (page.ok && !page.redirected) {
          for (const found of (await page.clone().text()).matchAll(/\/pkg\/[A-Za-z0-9._-]+/g)) assets.add(found[0]);
          await cache.put(PAGE, page);
        }
      } catch (_) {}
      // A script's own imports ("./__wasm_split….js" of a split build) are assets too; the
      // set grows while it is walked, so they are fetched in turn.
      for (const path of assets) {
        try {
          const response = await fetch(path, { credentials: "same-origin" });
          if (!response.ok) continue;
          if (path.endsWith(".js")) {
            for (const found of (await response.clone().text()).matchAll(/["']\.\/([A-Za-z0-9._-]+\.js)["']/g)) {
              assets.add(`/pkg/${found[1]}`);
            }
          }
          await cache.put(path, response);
        } catch (_) {}
      }
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && url.pathname === SUBMIT) {
    event.respondWith(submit(request));
  } else if (request.method === "GET" && (url.pathname === PAGE || url.pathname.startsWith("/pkg/"))) {
    event.respondWith(networkFirst(request, url.pathname));
    // A page (re)loading is also a moment to send what waits, without relying on its messages.
    if (url.pathname === PAGE) event.waitUntil(flush(false));
  }
});

self.addEventListener("message", (event) => {
  if (event.data !== "flush" && event.data !== "online") return;
  // The page that asked hears the count at once, whatever the flush then finds.
  event.waitUntil(tellPages(event.source).then(() => flush(event.data === "online")));
});

async function networkFirst(request, key) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(key, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(key);
    if (cached) return cached;
    throw error;
  }
}

// ----- the queue -----

function openQueue() {
  return new Promise((resolve, reject) => {
    const opening = indexedDB.open(DATABASE, 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore(QUEUE, { keyPath: "id" });
    opening.onsuccess = () => resolve(opening.result);
    opening.onerror = () => reject(opening.error);
  });
}

// Runs `work` on the queue's store in one transaction; resolves with its request's result once
// the transaction is complete (for writes: on disk, with "strict" durability).
async function withQueue(mode, work) {
  const db = await openQueue();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(QUEUE, mode, { durability: "strict" });
      const request = work(tx.objectStore(QUEUE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

const keep = (entry) => withQueue("readwrite", (store) => store.put(entry));
const forget = (id) => withQueue("readwrite", (store) => store.delete(id));
const queued = () => withQueue("readonly", (store) => store.getAll());
const queueLength = () => withQueue("readonly", (store) => store.count());

// Tells every kiosk page (and `asking`, the page whose message this answers, should the
// browser not list it yet) how many surveys wait.
async function tellPages(asking) {
  const n = await queueLength();
  const pages = new Set(await self.clients.matchAll({ type: "window", includeUncontrolled: true }));
  if (asking) pages.add(asking);
  for (const page of pages) page.postMessage({ queued: n });
}

// Sends one queued survey. Resolves with the server's response when it has decided (stored,
// or refused for good, and then the survey leaves the queue), or null when it must be sent
// again later (no network, 503, 429, another server error).
async function send(entry) {
  let response;
  try {
    response = await fetch(SUBMIT, {
      method: "POST",
      body: entry.body,
      credentials: "same-origin",
      headers: { "content-type": "application/json", accept: "application/json" },
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    });
  } catch (_) {
    return null;
  }
  if (response.status === 429 || response.status >= 500) return null;
  // A kiosk that must be paired again keeps its queue: it is sent once the tablet is paired.
  if (response.status === 401) return response;
  await forget(entry.id);
  return response;
}

async function submit(request) {
  const body = await request.text();
  let id = null;
  try {
    id = JSON.parse(body).draft.id || null;
  } catch (_) {}
  if (!id) return fetch(SUBMIT, { method: "POST", body, headers: request.headers, credentials: "same-origin" });
  await keep({ id, body, queuedAt: Date.now() });
  const response = await send({ id, body });
  await tellPages();
  if (response) return response;
  retry.delay = retry.delay || FIRST_DELAY_MS;
  retry.next = Date.now() + retry.delay;
  return new Response(JSON.stringify("Queued"), { headers: { "content-type": "application/json" } });
}

// When the queue may be tried again, and how long to wait after the next failure.
const retry = { next: 0, delay: 0 };
let flushing = null;

// Sends the queue in order, stopping at the first survey that must wait; `now` skips the wait.
// One flush at a time: a flush asked for while one runs is that one.
function flush(now) {
  // Cleared in a callback, never inside sendQueue: a sendQueue that returns before its first
  // await would clear it before it is set, and no flush would ever run again.
  flushing ??= sendQueue(now)
    .catch(() => {}) // the queue stays as it is: the next flush tries again
    .then(() => {
      flushing = null;
      return tellPages();
    });
  return flushing;
}

async function sendQueue(now) {
  if (!now && Date.now() < retry.next) return;
  for (const entry of await queued()) {
    if (!(await send(entry))) {
      retry.delay = Math.min(Math.max(retry.delay * 2, FIRST_DELAY_MS), LONGEST_DELAY_MS);
      retry.next = Date.now() + retry.delay;
      return;
    }
  }
  retry.delay = 0;
  retry.next = 0;
}
