// The page's only way out: same-origin fetches with the bearer token from sessionStorage.

const TOKEN_KEY = 'kinga.token';

export const session = {
  get token() { return sessionStorage.getItem(TOKEN_KEY); },
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
};

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

// Only paths on this origin are ever requested, even when a `next` link names another host.
export function sameOrigin(href, params = {}) {
  const url = new URL(href, window.location.origin);
  const local = new URL(url.pathname + url.search, window.location.origin);
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    local.searchParams.set(key, String(value));
  }
  return local.pathname + local.search;
}

export let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

// Resolves to the parsed body, or null when the endpoint answers 404 (not there yet / no such thing).
export async function getJson(path, params = {}, { signal, method = 'GET', body } = {}) {
  const headers = { Accept: 'application/geo+json, application/json' };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(sameOrigin(path, params), {
    method, headers, signal, credentials: 'omit', body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (method === 'GET') noteStale(res);
  if (res.status === 404) return null;
  if (!res.ok) {
    let problem = null;
    try { problem = await res.json(); } catch { /* not JSON */ }
    if (res.status === 401) onUnauthorized();
    throw new ApiError(res.status, problem);
  }
  return res.json();
}

export const postJson = (path, params, body, opts = {}) => getJson(path, params, { ...opts, method: 'POST', body });

function nextLink(doc) {
  if (doc.next) return doc.next;
  const link = (doc.links || []).find((l) => l.rel === 'next');
  return link ? link.href : null;
}

// Walks `next` links up to maxPages; null when the endpoint is absent.
export async function getAllFeatures(path, params, { maxPages = 5, signal } = {}) {
  let doc = await getJson(path, params, { signal });
  if (doc === null) return null;
  const features = [...(doc.features || [])];
  let pages = 1;
  let next = nextLink(doc);
  while (next && pages < maxPages) {
    doc = await getJson(next, {}, { signal });
    if (doc === null) break;
    features.push(...(doc.features || []));
    next = nextLink(doc);
    pages += 1;
  }
  return { type: 'FeatureCollection', features, truncated: Boolean(next), numberMatched: doc.numberMatched };
}

// Lists and layers that are asked for again and again (queues polling, layer refreshes): the
// last body and its ETag are kept; the server answers 304 with no body when nothing changed.
const lastSeen = new Map();  // path → { etag, body }
export let staleSince = null;  // set when the service worker answered from its cache (no link)
const staleListeners = new Set();
export const onStale = (fn) => staleListeners.add(fn);
function noteStale(res) {
  const saved = res.headers.get('X-Kinga-Stale');
  if (saved && saved !== staleSince) { staleSince = saved; staleListeners.forEach((fn) => fn(saved)); }
  if (!saved && staleSince && res.status !== 0) { staleSince = null; staleListeners.forEach((fn) => fn(null)); }
}

export async function getFresh(path, params = {}, { signal } = {}) {
  const url = sameOrigin(path, params);
  const headers = { Accept: 'application/geo+json, application/json' };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  const seen = lastSeen.get(url);
  if (seen) headers['If-None-Match'] = seen.etag;
  const res = await fetch(url, { headers, signal, credentials: 'omit', cache: 'no-store' });
  noteStale(res);
  if (res.status === 304 && seen) return { body: seen.body, changed: false };
  if (res.status === 404) return { body: null, changed: true };
  if (!res.ok) {
    let problem = null;
    try { problem = await res.json(); } catch { /* not JSON */ }
    if (res.status === 401) onUnauthorized();
    throw new ApiError(res.status, problem);
  }
  const body = await res.json();
  const etag = res.headers.get('ETag');
  if (etag) lastSeen.set(url, { etag, body });
  return { body, changed: true };
}
