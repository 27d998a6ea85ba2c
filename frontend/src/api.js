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
