// Warnings board: open warnings by deadline (overdue in red), acknowledge / dispatch / on scene /
// close with outcome and delay reasons, the response timeline per warning, the response metrics.
import { getFresh, getJson, postJson } from '../api.js';
import { $, clear, el, rememberFocus } from '../dom.js';
import { code, missionTime, t } from '../i18n.js';
import { registerScreen, setBadge, shell } from '../shell.js';

// what a response achieved (the API's outcome values; docs/response.md)
const OUTCOMES = ['deterred', 'civilians_protected', 'incident_found_reported', 'nothing_found', 'access_denied', 'arrived_after_attack', 'referred_to_partner', 'false_alarm', 'other'];
const TYPES = ['patrol', 'quick_reaction_force', 'civil_affairs_engagement', 'referral_to_partner', 'none'];
const DELAYS = ['no_air_asset', 'road_or_access_denied', 'awaiting_authorisation', 'insufficient_troops', 'weather_season', 'other'];
const OPEN = 'active,acknowledged,responded';
let timer = null;
const canAct = () => ['admin', 'analyst', 'operations'].includes(shell.role);
// A warning's own deadline when the server gives one; else the acknowledgement target while it
// is active, then its expiry.
function deadlineOf(p) {
  if (p.deadline || p.respond_by) return p.deadline || p.respond_by;
  if (p.status === 'active' && p.created_at) return new Date(Date.parse(p.created_at) + (shell.who?.ack_minutes || 60) * 60e3).toISOString();
  return p.expires_at;
}

async function metrics() {
  if (!canAct()) { $('metrics').parentElement.hidden = true; return; }
  const start = new Date(Date.now() - 30 * 86400e3).toISOString();
  const m = await getJson('/api/v1/response-metrics', { start }).catch(() => null);
  const dl = clear($('metrics'));
  if (!m) return;
  const row = (label, v, field) => dl.append(el('dt', { text: label }),
    el('dd', { dataset: { field }, text: v?.median == null ? '—' : t('warn.minutes', { n: Math.round(v.median * 10) / 10 }) }));
  row(t('warn.tta'), m.time_to_acknowledge, 'tta');
  row(t('warn.ttd'), m.time_to_dispatch, 'ttd');
}

function timeline(responses) {
  const ol = el('ol', { class: 'timeline' });
  for (const r of responses) {
    const steps = [['warn.ack', r.acknowledged_at], ['warn.dispatch', r.dispatched_at], ['warn.onscene', r.on_scene_at]]
      .filter(([, v]) => v).map(([k, v]) => `${t(k)} ${missionTime(v)}`);
    ol.append(el('li', {}, `${code(r.type)}${r.unit ? ` (${r.unit})` : ''}: ${steps.join(' → ') || '—'}`,
      r.outcome ? ` · ${t('warn.outcome')}: ${code(r.outcome)}${r.outcome_note ? ` (${r.outcome_note})` : ''}` : '', (r.delay_reasons || []).length ? ` · ${t('warn.delay')}: ${r.delay_reasons.map((d) => code(d)).join(', ')}` : ''));
  }
  return ol;
}

function warningItem(f) {
  const p = f.properties || {};
  const id = String(f.id);
  const due = deadlineOf(p);
  const overdue = due && Date.parse(due) < Date.now() && ['active', 'acknowledged'].includes(p.status);
  const item = el('li', { class: `card warning${overdue ? ' overdue' : ''}`, dataset: { warning: id, status: p.status } });
  const type = el('select', { id: `type-${id}` }, TYPES.map((v) => el('option', { value: v, text: code(v) })));
  const unit = el('input', { id: `unit-${id}`, type: 'text', maxlength: 200 });
  const outcome = el('input', { id: `outcome-${id}`, type: 'text', maxlength: 5000 });
  const kind = el('select', { id: `outcome-kind-${id}` }, OUTCOMES.map((v) => el('option', { value: v, text: code(v) })));
  const delays = el('fieldset', { class: 'delays' }, el('legend', { text: t('warn.delay') }),
    DELAYS.map((d) => el('label', { class: 'check' }, el('input', { type: 'checkbox', value: d }), code(d))));
  const out = el('p', { class: 'result', role: 'status' });
  const tl = el('div', { class: 'tl' });
  const body = (extra) => ({ type: type.value, ...(unit.value.trim() ? { unit: unit.value.trim() } : {}),
    delay_reasons: [...delays.querySelectorAll('input:checked')].map((c) => c.value), ...extra });
  const send = async (fn) => {
    try { await fn(); out.textContent = ''; const back = rememberFocus(); await refresh(true); back(); } catch (err) { out.textContent = t('err.generic', { msg: err.message }); }
  };
  const now = () => new Date().toISOString();
  const base = `/api/v1/warnings/${encodeURIComponent(id)}`;
  item.append(
    el('h3', {}, overdue ? el('strong', { class: 'overdue-tag', text: `${t('warn.overdue')} · ` }) : '', `${p.severity} · ${p.headline}`),
    el('p', { class: 'help' }, `${code(p.rule)} · ${code(p.status)} · ${t('warn.raised')} ${missionTime(p.created_at)} · `,
      el('span', { class: 'deadline' }, `${t('warn.deadline')} ${missionTime(due)}`)),
    tl);
  if (canAct()) {
    item.append(el('div', { class: 'actions' },
      el('label', { for: `type-${id}`, text: t('warn.type') }), type,
      el('label', { for: `unit-${id}`, text: t('warn.unit') }), unit),
    delays,
    el('div', { class: 'actions' },
      el('button', { type: 'button', class: 'act-ack', onclick: () => send(() => postJson(`${base}/responses`, {}, { type: 'none', acknowledged_at: now() })) }, t('warn.ack')),
      el('button', { type: 'button', class: 'act-dispatch', onclick: () => send(() => postJson(`${base}/responses`, {}, body({ dispatched_at: now() }))) }, t('warn.dispatch')),
      el('button', { type: 'button', class: 'act-onscene', onclick: () => send(() => postJson(`${base}/responses`, {}, body({ on_scene_at: now() }))) }, t('warn.onscene'))),
    el('div', { class: 'actions' },
      el('label', { for: `outcome-kind-${id}`, text: t('warn.outcome') }), kind,
      el('label', { for: `outcome-${id}`, text: t('warn.outcome') }), outcome,
      el('button', { type: 'button', class: 'act-close', onclick: () => outcome.value.trim() && send(async () => {
        // the outcome is kept on a response (the timeline and metrics read responses), then closed
        // the latest response gets its outcome (a later step: PATCH), then the warning closes
        const note = outcome.value.trim();
        const done = { outcome: kind.value, outcome_note: note, completed_at: now() };
        const doc = await getJson(base);
        const responses = doc?.properties?.responses || [];
        const last = responses[responses.length - 1];
        if (last && last.id && last.dispatched_at) {
          await getJson(`${base}/responses/${encodeURIComponent(last.id)}`, {}, { method: 'PATCH', body: done });
        } else {
          await postJson(`${base}/responses`, {}, body({ dispatched_at: now(), ...done }));
        }
        await postJson(`${base}/status`, {}, { status: 'closed', outcome: kind.value, outcome_note: note });
      }) }, t('warn.close'))),
    out);
  }
  getJson(base).then((doc) => tl.append(timeline(doc?.properties?.responses || []))).catch(() => {});
  return item;
}

async function refresh(force = false) {
  try {
    const { body, changed } = await getFresh('/api/v1/warnings', { status: OPEN, limit: 200 });
    const feats = [...(body?.features || [])].sort((a, b) => String(deadlineOf(a.properties)).localeCompare(String(deadlineOf(b.properties))));
    setBadge('warnings', feats.filter((f) => f.properties.status === 'active').length);
    if (changed || force) {
      const back = rememberFocus();
      const list = clear($('warnings-list'));
      if (!feats.length) list.append(el('li', { class: 'help', text: t('warn.empty') }));
      for (const f of feats) list.append(warningItem(f));
      back();
      await metrics();
    }
    $('warnings-status').textContent = t('triage.refreshed', { when: missionTime(new Date().toISOString()) });
  } catch (err) {
    $('warnings-status').textContent = t('err.generic', { msg: err.message });
  }
}

registerScreen('warnings', {
  show() { refresh(true); clearInterval(timer); timer = setInterval(refresh, shell.pollS * 1000); },
  hide() { clearInterval(timer); timer = null; },
});
