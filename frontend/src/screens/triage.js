// Alert triage: new alerts newest first, suggested nearby incidents, link / new incident / dismiss.
// Polls the queue with its ETag: an unchanged queue costs a 304 and no redraw.
import { getFresh, getJson, postJson } from '../api.js';
import { $, clear, el, rememberFocus } from '../dom.js';
import { code, missionTime, t } from '../i18n.js';
import { incidentButton, registerScreen, setBadge, shell } from '../shell.js';

let timer = null;
let last = [];
const KM_PER_DEG = 111.32;

function distanceKm(a, b) {
  const dy = (a[1] - b[1]) * KM_PER_DEG;
  const dx = (a[0] - b[0]) * KM_PER_DEG * Math.cos(((a[1] + b[1]) / 2) * Math.PI / 180);
  return Math.hypot(dx, dy);
}

async function suggestions(alert) {
  if (alert.latitude == null || alert.longitude == null) return [];
  const when = Date.parse(alert.observed_at || alert.received_at);
  const d = 0.05;  // ~5 km, the triage radius
  const page = await getJson('/api/v1/incidents', {
    bbox: [alert.longitude - d, alert.latitude - d, alert.longitude + d, alert.latitude + d].map((v) => v.toFixed(4)).join(','),
    start: new Date(when - 72 * 3600e3).toISOString(), end: new Date(when + 72 * 3600e3).toISOString(), limit: 5, f: 'json',
  });
  return (page?.items || []).filter((i) => String(i.id) !== String(alert.incident_id)).map((i) => ({
    ...i, km: distanceKm([alert.longitude, alert.latitude], [i.longitude, i.latitude]),
    hours: Math.abs(Date.parse(i.occurred_start) - when) / 3600e3,
  })).sort((a, b) => a.km - b.km);
}

async function act(item, path, body, done) {
  const out = item.querySelector('.result');
  try {
    await postJson(path, {}, body);
    out.textContent = done;
    item.dataset.done = 'true';
    out.tabIndex = -1;
    out.focus();  // keyboard users hear the outcome; the controls below are now disabled
    for (const b of item.querySelectorAll('button, input')) b.disabled = true;
    setTimeout(poll, 300);
  } catch (err) {
    out.textContent = t('err.generic', { msg: err.message });
  }
}

function alertItem(a) {
  const id = String(a.id);
  const base = `/api/v1/alerts/${encodeURIComponent(id)}`;
  const item = el('li', { class: 'card alert', dataset: { alert: id } });
  const reason = el('input', { id: `reason-${id}`, type: 'text', maxlength: 2000 });
  const linkTo = el('input', { id: `link-${id}`, type: 'text', spellcheck: 'false', class: 'mono' });
  const sugg = el('ul', { class: 'suggestions', 'aria-label': t('triage.suggested') });
  const located = !a.needs_location;
  const place = el('input', { id: `place-${id}`, type: 'text' });
  const lat = el('input', { id: `lat-${id}`, type: 'number', step: 'any', min: -90, max: 90 });
  const lon = el('input', { id: `lon-${id}`, type: 'number', step: 'any', min: -180, max: 180 });
  item.append(
    el('h3', {}, `${missionTime(a.received_at)} · ${code(a.category || '?')}`),
    el('p', { class: 'alert-text', text: a.text }),
    el('p', { class: 'help' }, `${t('triage.status')}: ${code(a.triage?.action || (a.triaged ? '' : 'pending'))}`,
      a.place ? ` · ${a.place}` : '', a.incident_id ? ` · ${t('triage.incident_id')} ${a.incident_id}` : ''),
    located ? el('div', {}, el('h4', { text: t('triage.suggested') }), sugg) : el('fieldset', { class: 'locate' },
      el('legend', { text: t('triage.needs_location') }),
      el('label', { for: `place-${id}`, text: t('triage.place') }), place,
      el('label', { for: `lat-${id}`, text: t('triage.lat') }), lat,
      el('label', { for: `lon-${id}`, text: t('triage.lon') }), lon),
    el('div', { class: 'actions' },
      el('label', { for: `link-${id}`, text: t('triage.incident_id') }), linkTo,
      el('button', { type: 'button', class: 'act-link', onclick: () => linkTo.value.trim()
        && act(item, `${base}/merge`, { incident_id: linkTo.value.trim() }, t('triage.done_link', { id: linkTo.value.trim() })) }, t('triage.link')),
      el('button', { type: 'button', class: 'act-new', onclick: () => {
        const body = {};
        if (!located) {
          if (place.value.trim()) body.place = place.value.trim();
          if (lat.value && lon.value) { body.latitude = Number(lat.value); body.longitude = Number(lon.value); }
        }
        act(item, `${base}/confirm`, body, t('triage.done_new'));
      } }, t('triage.new'))),
    el('div', { class: 'actions' },
      el('label', { for: `reason-${id}`, text: t('triage.reason') }), reason,
      el('button', { type: 'button', class: 'act-dismiss', onclick: () => reason.value.trim()
        && act(item, `${base}/dismiss`, { reason: reason.value.trim() }, t('triage.done_dismiss')) }, t('triage.dismiss'))),
    el('p', { class: 'result', role: 'status' }));
  if (located) {
    suggestions(a).then((list) => {
      if (!list.length) { sugg.append(el('li', { class: 'help', text: t('triage.none_near') })); return; }
      for (const s of list) {
        sugg.append(el('li', {}, el('button', { type: 'button', class: 'linklike', dataset: { incident: String(s.id) },
          onclick: () => { linkTo.value = String(s.id); linkTo.focus(); } },
        `${code(s.category)} · ${s.km.toFixed(1)} km · ${s.hours.toFixed(0)} h · ${s.place_name || ''} · ${t('val.grade', { g: s.quality_grade || '?' })}`),
        ' ', incidentButton(s.id)));
      }
    }).catch(() => {});
  }
  return item;
}

// A card just acted on stays, marked done with its outcome, until the poll after the one that
// dropped it from the queue: the outcome can be read before the card goes.
function render(items) {
  const back = rememberFocus();
  const list = $('triage-list');
  const ids = new Set(items.map((a) => String(a.id)));
  const spent = [...list.querySelectorAll('li[data-done="true"]:not([data-kept])')].filter((li) => !ids.has(li.dataset.alert));
  for (const li of spent) li.dataset.kept = 'true';
  clear(list);
  list.dataset.count = String(items.length);
  setBadge('triage', items.length);
  list.append(...spent);
  if (!items.length && !spent.length) list.append(el('li', { class: 'help', text: t('triage.empty') }));
  for (const a of items) list.append(alertItem(a));
  back();
}

async function poll() {
  if (!shell.role) return;
  try {
    const { body, changed } = await getFresh('/api/v1/alerts', { status: 'new', limit: 50 });
    const items = (body?.items || []).filter((a) => a.triaged !== false || a.needs_location);
    const ids = items.map((a) => a.id).join();
    const spent = $('triage-list').querySelector('li[data-kept]');
    if ((changed && ids !== last.map((a) => a.id).join()) || spent) { last = items; if (shell.screen === 'triage') render(items); else setBadge('triage', items.length); }
    $('triage-status').textContent = t('triage.refreshed', { when: missionTime(new Date().toISOString()) });
  } catch (err) {
    $('triage-status').textContent = t('err.generic', { msg: err.message });
  }
}

registerScreen('triage', {
  show() { render(last); poll(); clearInterval(timer); timer = setInterval(poll, shell.pollS * 1000); },
  hide() { clearInterval(timer); timer = null; },
});
export const triage = { poll };
