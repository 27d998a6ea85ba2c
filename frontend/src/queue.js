// Form submissions that could not reach the server wait here (localStorage) and are sent again
// when the link returns, each with the Idempotency-Key it was given when first submitted, so a
// submission that did reach the server before the link dropped is recorded once.
import { session } from './api.js';

const KEY = 'kinga.queue';
const listeners = new Set();
const load = () => JSON.parse(localStorage.getItem(KEY) || '[]');
const save = (items) => { localStorage.setItem(KEY, JSON.stringify(items)); listeners.forEach((fn) => fn(items.length)); };

export const pending = () => load().length;
export const onQueueChange = (fn) => listeners.add(fn);

async function send(item) {
  return fetch(item.path, {
    method: 'POST', credentials: 'omit', cache: 'no-store',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json',
      Authorization: `Bearer ${session.token}`, 'Idempotency-Key': item.key },
    body: JSON.stringify(item.body),
  });
}

// Resolves to {status, body} when the server answered, or {queued: true} when it could not be reached.
export async function submit(path, body) {
  const item = { path, body, key: crypto.randomUUID(), at: new Date().toISOString() };
  let res;
  try {
    res = await send(item);
  } catch {
    save([...load(), item]);
    return { queued: true };
  }
  let doc = null;
  try { doc = await res.json(); } catch { /* empty */ }
  return { status: res.status, body: doc };
}

let flushing = null;
export function flush() {
  if (flushing || !session.token) return flushing;
  flushing = (async () => {
    let sent = 0;
    for (const item of load()) {
      let res;
      try { res = await send(item); } catch { break; }  // still no link: keep the rest
      if (res.status >= 500) break;
      save(load().filter((q) => q.key !== item.key));  // answered (2xx, or refused for good)
      sent += 1;
    }
    return sent;
  })().finally(() => { flushing = null; });
  return flushing;
}
