// Hearth's service worker. The server fills in VERSION and PRECACHE from the build it serves
// (the hashed files under /pkg/ with the icons, the manifest and the offline page), so every
// deploy that changes an asset is a new worker, which waits until the page says "reload".
//
// - hashed assets: cache first (they never change under their name);
// - API GETs: network first, the last good answer when the network is gone;
// - pages: network first, the last good copy of the page (or the offline page) without one;
// - everything else (writes, the WebSocket, /sw.js itself): straight to the network.
// Sign-out clears the pages and API answers (the page asks, see "sign-out").
// Background Sync ("hearth-outbox") sends the expenses waiting in IndexedDB.
'use strict';

const VERSION = '__VERSION__';
const PRECACHE = __PRECACHE__;
const SHELL = `hearth-shell-${VERSION}`;
const PAGES = 'hearth-pages';
const API = 'hearth-api';
const OFFLINE = '/offline';
const PASS = ['/sw.js', '/ws', '/api/vitals', '/api/export.csv', '/metrics', '/healthz', '/readyz'];

self.addEventListener('install', (event) => {
  // Fresh from the server (not the HTTP cache), and without cookies: the shell (the
  // offline page included) holds nobody's data.
  const requests = PRECACHE.map((url) => new Request(url, { credentials: 'omit', cache: 'reload' }));
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(requests)));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('hearth-shell-') && name !== SHELL) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  const kind = event.data && event.data.type;
  if (kind === 'skip-waiting') self.skipWaiting();
  if (kind === 'sign-out') event.waitUntil(forgetUser());
});

async function forgetUser() {
  await caches.delete(PAGES);
  await caches.delete(API);
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (PASS.includes(url.pathname)) return;
  if (url.pathname.startsWith('/pkg/') || PRECACHE.includes(url.pathname)) {
    event.respondWith(cacheFirst(request));
  } else if (url.pathname.startsWith('/api/')) {
    event.respondWith(networkFirst(request, API, offlineApi));
  } else if (request.mode === 'navigate') {
    event.respondWith(networkFirst(request, PAGES, offlinePage));
  }
});

async function cacheFirst(request) {
  const cached = await caches.match(request, { ignoreVary: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) (await caches.open(SHELL)).put(request, response.clone());
  return response;
}

async function networkFirst(request, cacheName, fallback) {
  try {
    const response = await fetch(request);
    // Only a good answer is kept (never an error page or a redirect to the sign-in page).
    if (response.status === 200 && !response.redirected) {
      const cache = await caches.open(cacheName);
      await cache.put(request, response.clone());
    }
    return response;
  } catch (offline) {
    const cached = await caches.match(request, { cacheName, ignoreVary: true });
    return cached || fallback(request);
  }
}

function offlineApi() {
  const body = JSON.stringify({
    error: { code: 'offline', message: 'You are offline and this was not loaded before.' },
  });
  return new Response(body, { status: 503, headers: { 'Content-Type': 'application/json' } });
}

async function offlinePage() {
  return (await caches.match(OFFLINE)) || Response.error();
}

// Background Sync: the outbox the page keeps in IndexedDB ("hearth" / "outbox"): expenses as
// records {id, body, at}, whose client id makes a resend harmless; other changes (recurring
// bills, imports) as {id, method, path, type, body, what, at}, each as harmless to resend (a
// rule's client id, an import's key; a deletion already done answers 404).
self.addEventListener('sync', (event) => {
  if (event.tag === 'hearth-outbox') event.waitUntil(drainOutbox());
});

function idb(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function drainOutbox() {
  const open = indexedDB.open('hearth', 1);
  open.onupgradeneeded = () => open.result.createObjectStore('outbox', { keyPath: 'id' });
  const db = await idb(open);
  try {
    const records = await idb(db.transaction('outbox').objectStore('outbox').getAll());
    records.sort((a, b) => a.at - b.at);
    for (const record of records) {
      const response = await fetch(record.path || '/api/expenses', {
        method: record.method || 'POST',
        headers: { 'Content-Type': record.type || 'application/json' },
        body: record.body || undefined,
        credentials: 'same-origin',
      });
      // Sent, or refused for good (bad input): either way it leaves the outbox. Signed out,
      // rate limited or a server error: it stays, and the sync is retried later.
      const final = response.ok || (response.status >= 400 && response.status < 500
        && ![401, 408, 429].includes(response.status));
      if (!final) throw new Error(`outbox not sent: ${response.status}`);
      const tx = db.transaction('outbox', 'readwrite');
      await idb(tx.objectStore('outbox').delete(record.id));
    }
  } finally {
    db.close();
  }
}
