// Footprint review: coverage per base, what closing a base loses, candidate sites; two dates
// side by side when a comparison date is given.
import { postJson } from '../api.js';
import { $, clear, el } from '../dom.js';
import { t } from '../i18n.js';
import { registerScreen } from '../shell.js';

const pct = (v) => (v == null ? '—' : `${(v * 100).toFixed(1)}%`);

function column(doc, asOf) {
  const bases = [...(doc.bases || [])].sort((a, b) => (b.share_of_mission_threat ?? 0) - (a.share_of_mission_threat ?? 0));
  const table = el('table', { class: 'tasks' }, el('caption', { text: `${t('fp.bases')} · ${asOf}` }),
    el('thead', {}, el('tr', {}, ['Base', t('fp.share'), t('fp.loss'), 'Trend'].map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, bases.map((b) => el('tr', { dataset: { base: String(b.id) } }, el('td', { text: b.name }), el('td', { text: pct(b.share_of_mission_threat) }),
      el('td', { text: pct(b.coverage_lost_share) }), el('td', { text: b.trend_in_reach?.direction || '—' })))));
  const cands = el('ol', {}, (doc.candidates || []).map((c) => el('li', {}, `${c.name} · ${c.threat_in_reach ?? ''}`)));
  return el('section', { class: 'card fp-col', dataset: { asOf } }, table, el('h3', { text: t('fp.candidates') }), cands);
}

async function run(e) {
  e?.preventDefault();
  const dates = [$('fp-date').value, $('fp-compare').value].filter(Boolean);
  $('fp-status').textContent = '…';
  const out = clear($('fp-results'));
  try {
    for (const d of dates) out.append(column(await postJson('/api/v1/footprint-reviews', { f: 'json' }, { as_of: d }), d));
    $('fp-status').textContent = '';
  } catch (err) {
    $('fp-status').textContent = t('err.generic', { msg: err.message });
  }
}

let wired = false;
registerScreen('footprint', {
  show() {
    if (wired) return;
    wired = true;
    $('fp-date').value = $('as-of').value;
    $('fp-form').addEventListener('submit', run);
  },
});
