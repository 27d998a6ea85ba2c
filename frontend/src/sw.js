// Kinga workbench service worker: keeps the app shell and the last answer of every GET the page
// made (layers, queues), so the page opens and shows the last picture when the link drops.
// Always network first: with a link the page sees live data (revalidated with ETags, so an
// unchanged asset costs a 304); without one it gets the saved copy, marked with X-Kinga-Stale.
const CACHE = 'kinga-workbench-v1';
const SHELL = ['/map', '/map/assets/map.js', '/map/assets/map.css', '/map/assets/maplibre-gl.js', '/map/countries.geojson'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});
self.addEventListener('activate', (event) => { event.waitUntil(self.clients.claim()); });

// Signing out forgets every saved answer (they belong to that token's role).
self.addEventListener('message', (event) => {
  if (event.data === 'forget') event.waitUntil(caches.open(CACHE).then(async (c) => {
    for (const req of await c.keys()) if (new URL(req.url).pathname.startsWith('/api/')) await c.delete(req);
  }));
});

const lastKey = (url) => `${url.origin}${url.pathname}?kinga-last`;

async function stale(res, savedAt) {
  const headers = new Headers(res.headers);
  headers.set('X-Kinga-Stale', savedAt || 'unknown');
  return new Response(await res.blob(), { status: res.status, statusText: res.statusText, headers });
}

async function networkFirst(request) {
  const url = new URL(request.url);
  const cache = await caches.open(CACHE);
  try {
    // no-store requests (the page's own ETag bookkeeping) are passed as they are.
    const res = await fetch(request);
    if (res.ok && res.status === 200) {
      const copy = res.clone();
      const headers = new Headers(copy.headers);
      headers.set('X-Kinga-Saved', new Date().toISOString());
      const saved = new Response(await copy.blob(), { status: 200, headers });
      await cache.put(request.url, saved.clone());
      if (url.pathname.startsWith('/api/')) await cache.put(lastKey(url), saved);
    }
    return res;
  } catch (err) {
    const hit = (await cache.match(request.url)) || (url.pathname.startsWith('/api/') && (await cache.match(lastKey(url))));
    if (!hit) throw err;
    return stale(hit, hit.headers.get('X-Kinga-Saved'));
  }
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (!(url.pathname === '/map' || url.pathname.startsWith('/map/') || url.pathname.startsWith('/api/'))) return;
  event.respondWith(networkFirst(request));
});
