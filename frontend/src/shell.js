// The workbench shell: screens in the header's navigation, shown per role (the API still
// enforces every permission), the header's mission / role / data-as-of, language, link state.
import { onStale } from './api.js';
import { $, clear, el } from './dom.js';
import { missionTime, setLanguage, setMissionZone, t, translate, lang } from './i18n.js';
import { flush, onQueueChange, pending } from './queue.js';

const STAFF = ['admin', 'analyst', 'operations'];
export const SCREENS = [
  { id: 'map', roles: ['admin', 'analyst', 'operations', 'partner'] },
  { id: 'triage', roles: STAFF },
  { id: 'warnings', roles: ['admin', 'analyst', 'operations', 'partner'] },
  { id: 'incidents', roles: STAFF },
  { id: 'validation', roles: ['admin', 'analyst'] },
  { id: 'patrols', roles: STAFF },
  { id: 'footprint', roles: STAFF },
  // Not in the navigation: opened from a list, a queue, a match or the map (#incident/<id>).
  { id: 'incident', roles: STAFF, nav: false },
];
const handlers = {};  // screen id → { show(), hide() }
export const shell = { role: null, who: null, screen: 'map', pollS: 15, arg: null };

export function registerScreen(id, handler) { handlers[id] = handler; }
export const allowed = (id, role = shell.role) => SCREENS.find((s) => s.id === id)?.roles.includes(role);

export function show(id) {
  if (!allowed(id)) id = 'map';
  const prev = shell.screen;
  shell.screen = id;
  for (const s of SCREENS) {
    $(`screen-${s.id}`).hidden = s.id !== id;
    const btn = document.querySelector(`[data-screen="${s.id}"]`);
    if (btn) btn.setAttribute('aria-current', s.id === id ? 'page' : 'false');
  }
  if (prev !== id) handlers[prev]?.hide?.();
  handlers[id]?.show?.();
  document.body.dataset.currentScreen = id;
  const hash = handlers[id]?.hash?.() || id;
  if (window.location.hash !== `#${hash}`) history.replaceState(null, '', `#${hash}`);
}

// The incident page for one incident (the screen's argument is the id).
export function openIncident(id) {
  shell.arg = String(id);
  show('incident');
  document.getElementById('incident-page-title')?.focus();
}

// A button that opens an incident's page, for staff (partners have no incident page).
export function incidentButton(id, label) {
  if (!allowed('incident')) return '';
  return el('button', { type: 'button', class: 'linklike open-incident', dataset: { open: String(id) },
    onclick: () => openIncident(id) }, label || t('ip.open'));
}

function buildNav() {
  const list = clear($('nav-list'));
  for (const s of SCREENS) {
    if (!allowed(s.id) || s.nav === false) continue;
    list.append(el('li', {}, el('button', { type: 'button', class: 'nav-btn', dataset: { screen: s.id, i18n: `nav.${s.id}` },
      onclick: () => show(s.id) }, t(`nav.${s.id}`)), el('span', { class: 'badge', id: `badge-${s.id}`, hidden: true })));
  }
  $('nav').hidden = false;
}

export function setBadge(id, n) {
  const b = $(`badge-${id}`);
  if (!b) return;
  b.hidden = !n;
  b.textContent = String(n);
  b.setAttribute('aria-label', `${n}`);
}

export function renderWho(asOf) {
  const who = shell.who;
  if (!who) { $('who').textContent = ''; return; }
  const parts = [`${who.name} · ${who.role}`];
  if (who.mission?.name) parts.unshift(`${t('who.mission')}: ${who.mission.name}`);
  if (asOf) parts.push(`${t('who.asof')}: ${asOf}`);
  $('who').textContent = parts.join(' · ');
  $('who').dataset.role = who.role;
}

function renderQueue(n = pending()) {
  $('queue-note').hidden = !n;
  $('queue-note').textContent = n ? t('queue.pending', { n }) : '';
}

function renderNet(saved) {
  const offline = saved || !navigator.onLine;
  $('net').hidden = !offline;
  $('net').textContent = saved ? `${t('net.offline')} · ${t('net.stale', { when: missionTime(saved) })}` : t('net.offline');
  document.body.dataset.stale = saved ? 'true' : 'false';
}

export async function signedIn(who) {
  shell.role = who.role;
  shell.who = who;
  shell.pollS = who.poll_s || 15;
  setMissionZone(who.mission?.timezone);
  buildNav();
  $('signout').before($('lang-wrap'));  // the language choice moves from the sign-in card to the header
  renderWho();
  const [wanted, arg] = window.location.hash.slice(1).split('/');
  shell.arg = arg || null;
  show(allowed(wanted) ? wanted : 'map');
  await flush();
  renderQueue();
}

export function signedOutShell() {
  handlers[shell.screen]?.hide?.();
  shell.role = null;
  shell.who = null;
  $('nav').hidden = true;
  $('signin').append($('lang-wrap'));
  for (const s of SCREENS) $(`screen-${s.id}`).hidden = s.id !== 'map';
  navigator.serviceWorker?.controller?.postMessage('forget');
}

export function initShell() {
  $('lang').value = lang();
  $('lang').addEventListener('change', () => setLanguage($('lang').value));
  document.addEventListener('kinga:lang', () => { renderWho(); renderQueue(); handlers[shell.screen]?.show?.(); });
  translate();
  onQueueChange(renderQueue);
  onStale(renderNet);
  window.addEventListener('online', () => { renderNet(null); flush(); });
  window.addEventListener('offline', () => renderNet(null));
  setInterval(() => { if (pending()) flush(); }, 5000);
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('/map/sw.js', { scope: '/map' }).catch(() => {});
}
