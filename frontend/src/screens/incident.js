// The incident page (#incident/<id>): the incident with its grade, its reports and their
// source grading (A–F / 1–6 with their meaning), its audit trail and "merge with…" (analysts and
// admins). Opened from the validation queue, triage's suggested matches, the incident form's
// result and the map's cell details; or by id on the page itself.
import { getJson, postJson } from '../api.js';
import { $, clear, el } from '../dom.js';
import { code, missionTime, t } from '../i18n.js';
import { incidentButton, openIncident, registerScreen, shell } from '../shell.js';

const ANALYSTS = ['admin', 'analyst'];
const MERGEABLE = ['entered', 'validated', 'approved'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const reliabilityText = (r) => (r ? `${r} — ${t(`rel.${r}`)}` : '—');
export const credibilityText = (c) => (c ? `${c} — ${t(`cred.${c}`)}` : '—');
const gradeText = (g) => (g ? `${g.toUpperCase()} — ${t(`grade.${g}`)}` : '—');
const num = (v) => (v === null || v === undefined ? '—' : String(v));

function facts(rows) {
  const dl = el('dl', { class: 'facts' });
  for (const [label, value, field] of rows) {
    if (value === undefined) continue;
    dl.append(el('dt', { text: label }), el('dd', { text: value === null || value === '' ? '—' : String(value), dataset: { field } }));
  }
  return dl;
}


// Four eyes: who entered, validated and approved it (from the audit trail when the role sees it).
function eyesOf(i, events) {
  const by = (action) => events.filter((e) => e.action === action).map((e) => e.actor).pop();
  return [(by('create') || i.created_by) && t('ip.entered_by', { who: by('create') || i.created_by }),
    by('validated') && t('ip.validated_by', { who: by('validated') }),
    by('approved') && t('ip.approved_by', { who: by('approved') })].filter(Boolean).join(' · ');
}

function summary(i, events) {
  const eyes = eyesOf(i, events);
  return el('section', { class: 'card', 'aria-labelledby': 'ip-facts-title' },
    el('h3', { id: 'ip-facts-title', text: t('ip.facts') }),
    facts([
      [t('ip.status'), code(i.status), 'status'],
      [t('ip.grade'), gradeText(i.quality_grade), 'grade'],
      [t('ip.sources'), num(i.independent_sources), 'sources'],
      [t('inc.when'), missionTime(i.occurred_start) + (i.occurred_end && i.occurred_end !== i.occurred_start ? ` – ${missionTime(i.occurred_end)}` : ''), 'when'],
      [t('inc.category'), code(i.category), 'category'],
      [t('inc.place'), [i.place_name, i.admin2, i.admin1].filter(Boolean).join(', '), 'place'],
      [t('ip.location'), `${Number(i.latitude).toFixed(4)}, ${Number(i.longitude).toFixed(4)}${i.location_radius_m ? ` (± ${(i.location_radius_m / 1000).toFixed(1)} km)` : ''}`, 'location'],
      [t('inc.perps'), (i.perpetrators || []).join(', '), 'perpetrators'],
      [t('inc.ptype'), code(i.perpetrator_type), 'perpetrator_type'],
      [t('inc.fatalities'), num(i.fatalities_best), 'fatalities'],
      [t('inc.injured'), num(i.injured), 'injured'],
      [t('inc.displaced'), num(i.displaced), 'displaced'],
      [t('ip.eyes'), eyes || undefined, 'eyes'],
    ]),
    i.merged_into ? el('p', { class: 'merged-note', dataset: { mergedInto: i.merged_into } }, `${t('ip.merged_into')} `, incidentButton(i.merged_into, i.merged_into)) : '',
    i.narrative ? el('p', { class: 'narrative', text: i.narrative }) : '');
}

function reportsTable(reports) {
  const staff = ANALYSTS.includes(shell.role);
  const head = [t('inc.section'), staff ? t('inc.source') : null, t('inc.reliability'), t('inc.credibility'), t('ip.count'), t('ip.received'), t('inc.narrative')].filter(Boolean);
  const table = el('table', { class: 'reports', id: 'ip-reports' }, el('caption', { text: t('ip.reports', { n: reports.length }) }),
    el('thead', {}, el('tr', {}, head.map((h) => el('th', { scope: 'col', text: h })))));
  const body = el('tbody');
  for (const r of reports) {
    body.append(el('tr', { dataset: { report: r.id } },
      el('td', { text: code(r.section) }), staff ? el('td', { text: r.source_name || '—' }) : '',
      el('td', { class: 'grade-cell', text: reliabilityText(r.source_reliability) }),
      el('td', { class: 'grade-cell', text: credibilityText(r.information_credibility) }),
      el('td', { text: num(r.source_count) }), el('td', { text: missionTime(r.received_at) }), el('td', { text: r.narrative || '' })));
  }
  table.append(body);
  return el('section', { class: 'card wide' }, table);
}

// What an audit event changed, in one line: the "after" values (ids and long texts shortened).
function changeText(e) {
  const after = e.after || {};
  const keys = Object.keys(after).filter((k) => !['h3_cell', 'narrative', 'report'].includes(k));
  const show = (v) => (v === null || v === undefined ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  return keys.slice(0, 8).map((k) => `${code(k)}: ${show(after[k]).slice(0, 60)}`).join(' · ');
}

async function loadAudit(id) {
  try { return await getJson(`/api/v1/incidents/${encodeURIComponent(id)}/audit`, { limit: 500 }); } catch (err) { return { error: err.message }; }
}

function auditSection(doc) {
  const box = el('section', { class: 'card wide', 'aria-labelledby': 'ip-audit-title' }, el('h3', { id: 'ip-audit-title', text: t('ip.audit') }));
  if (doc?.error) {
    box.append(el('p', { class: 'error', text: t('err.generic', { msg: doc.error }) }));
    return box;
  }
  const items = doc?.items || [];
  if (!items.length) { box.append(el('p', { class: 'help', text: t('ip.audit_empty') })); return box; }
  const table = el('table', { class: 'audit', id: 'ip-audit' }, el('thead', {}, el('tr', {},
    [t('ip.when'), t('ip.actor'), t('ip.action'), t('ip.change')].map((h) => el('th', { scope: 'col', text: h })))));
  const body = el('tbody');
  for (const e of items) {
    body.append(el('tr', { dataset: { action: e.action } }, el('td', { text: missionTime(e.at) }), el('td', { text: e.actor }),
      el('td', { text: code(e.action) }), el('td', { text: changeText(e) })));
  }
  table.append(body);
  box.append(el('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': t('ip.audit') }, table));
  if (doc.next) box.append(el('p', { class: 'help', text: t('ip.audit_more') }));
  return box;
}

function candidateLabel(c) {
  const other = c.categories?.[1];
  const parts = [t('ip.score', { s: Number(c.score).toFixed(2) }), `${Number(c.distance_km).toFixed(1)} km`,
    t('ip.days', { n: Number(c.days_apart).toFixed(1) }), other ? code(other) : null,
    (c.names?.[1] || []).join(', ') || null, c.fatalities?.[1] != null ? t('ip.killed', { n: c.fatalities[1] }) : null];
  return parts.filter(Boolean).join(' · ');
}

async function mergeSection(i) {
  const id = String(i.id);
  const box = el('section', { class: 'card', id: 'ip-merge', 'aria-labelledby': 'ip-merge-title' }, el('h3', { id: 'ip-merge-title', text: t('ip.merge') }));
  const out = el('p', { class: 'result', id: 'ip-merge-result', role: 'status', 'aria-live': 'polite' });
  if (i.status === 'merged') {
    box.append(el('p', { class: 'help', text: t('ip.is_merged') }),
      el('div', { class: 'actions' }, el('button', { type: 'button', id: 'ip-unmerge', onclick: async () => {
        try { await postJson(`/api/v1/incidents/${encodeURIComponent(id)}/unmerge`, {}, {}); openIncident(id); } catch (err) { out.textContent = t('err.generic', { msg: err.message }); out.className = 'error'; }
      } }, t('ip.unmerge'))), out);
    return box;
  }
  if (!MERGEABLE.includes(i.status)) { box.append(el('p', { class: 'help', text: t('ip.not_mergeable', { status: code(i.status) }) })); return box; }
  let dup = null;
  try { dup = await getJson(`/api/v1/incidents/${encodeURIComponent(id)}/duplicates`); } catch { dup = null; }
  const cands = (dup?.candidates || []).filter((c) => c.incident_id !== id);
  const fs = el('fieldset', { class: 'candidates' }, el('legend', { text: t('ip.candidates') }));
  if (!cands.length) fs.append(el('p', { class: 'help', text: t('ip.no_candidates') }));
  for (const c of cands) {
    const radio = el('input', { type: 'radio', name: 'merge-into', value: c.incident_id });
    radio.addEventListener('change', () => { $('ip-into').value = c.incident_id; });
    fs.append(el('div', { class: 'candidate', dataset: { candidate: c.incident_id } },
      el('label', {}, radio, ` ${candidateLabel(c)}`), ' ', incidentButton(c.incident_id, t('ip.open'))));
  }
  const into = el('input', { id: 'ip-into', type: 'text', spellcheck: 'false', autocomplete: 'off', size: 38, maxlength: 36 });
  const form = el('form', { class: 'inline', id: 'ip-merge-form' }, el('label', { for: 'ip-into', text: t('ip.by_id') }), into,
    el('button', { type: 'submit', id: 'ip-merge-go' }, t('ip.merge_go')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const target = into.value.trim();
    if (!UUID.test(target)) { out.className = 'error'; out.textContent = t('ip.pick_target'); into.focus(); return; }
    try {
      const r = await postJson(`/api/v1/incidents/${encodeURIComponent(id)}/merge`, {}, { into: target });
      out.className = 'ok';
      out.textContent = t('ip.merged', { id: target, n: r.reports_moved });
      await render(id, t('ip.merged', { id: target, n: r.reports_moved }));
      $('incident-page-title').focus();
    } catch (err) {
      out.className = 'error';
      const errs = (err.problem?.errors || []).map((x) => x.detail).join('; ');
      out.textContent = t('err.generic', { msg: `${err.message}${errs ? ` (${errs})` : ''}` });
    }
  });
  box.append(fs, form, out);
  return box;
}

let current = null;
async function render(id, note = '') {
  current = id;
  const page = clear($('incident-page'));
  $('ip-id').value = id;
  $('incident-page-status').textContent = note || '…';
  let i;
  try { i = await getJson(`/api/v1/incidents/${encodeURIComponent(id)}`); } catch (err) {
    $('incident-page-status').textContent = t('err.generic', { msg: err.message });
    return;
  }
  if (current !== id) return;
  if (!i) { $('incident-page-status').textContent = t('ip.not_found', { id }); $('incident-page-title').textContent = t('ip.title'); return; }
  $('incident-page-title').textContent = `${t('ip.title')}: ${code(i.category)} · ${missionTime(i.occurred_start)}${i.place_name ? ` · ${i.place_name}` : ''}`;
  page.dataset.incident = id;
  page.dataset.status = i.status;
  const analyst = ANALYSTS.includes(shell.role);
  const [audit, merge] = analyst ? await Promise.all([loadAudit(id), mergeSection(i)]) : [null, null];
  if (current !== id) return;
  const parts = [summary(i, audit?.items || []), merge, reportsTable(i.reports || []), analyst ? auditSection(audit) : null].filter(Boolean);
  page.append(...parts);
  $('incident-page-status').textContent = note;
}

let wired = false;
registerScreen('incident', {
  show() {
    if (!wired) {
      wired = true;
      $('ip-open').addEventListener('submit', (e) => {
        e.preventDefault();
        const id = $('ip-id').value.trim();
        if (UUID.test(id)) openIncident(id); else $('incident-page-status').textContent = t('ip.pick_target');
      });
    }
    if (shell.arg && UUID.test(shell.arg)) render(shell.arg);
    else { clear($('incident-page')); $('incident-page-title').textContent = t('ip.title'); $('incident-page-status').textContent = ''; }
  },
  hash: () => (shell.arg ? `incident/${shell.arg}` : 'incident'),
});
