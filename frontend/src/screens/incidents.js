// Incident form (map pick, category, perpetrators, victims, first report with its source
// grading) and the analysts' validation queue (approval with four eyes: who entered, who
// validated). A form sent without a link is queued and sent later with its Idempotency-Key.
import { getFresh, getJson, postJson } from '../api.js';
import { $, clear, el, rememberFocus } from '../dom.js';
import { code, fromMissionLocal, missionNowLocal, missionTime, t } from '../i18n.js';
import { CATEGORIES } from '../palette.js';
import { submit } from '../queue.js';
import { incidentButton, registerScreen, shell } from '../shell.js';

// Source grading (Admiralty / NATO): the meanings are in the message files (rel.A…, cred.1…).
const RELIABILITY = ['A', 'B', 'C', 'D', 'E', 'F'];
const CREDIBILITY = ['1', '2', '3', '4', '5', '6'];
const SECTIONS = ['jmac', 'u2_military', 'civil_affairs', 'human_rights', 'police', 'military_observers', 'humanitarian_partner', 'open_source', 'other'];
const PTYPES = ['unknown', 'state_force', 'non_state_armed_group', 'community_militia', 'criminal'];
let pickMap = null;
let marker = null;

const field = (id, label, input) => el('div', { class: 'row' }, el('label', { for: id, text: label }), input);
const select = (id, values, selected) => el('select', { id, name: id }, values.map((v) => el('option', { value: v, text: code(v), selected: v === selected })));

function picker(name, legend, options, checked, prefix) {
  return el('fieldset', { class: 'grading', id: `pick-${name}` }, el('legend', { text: legend }),
    options.map((v) => [v, t(`${prefix}.${v}`)]).map(([v, meaning]) => el('label', { class: 'grade-opt' },
      el('input', { type: 'radio', name, value: v, checked: v === checked }), el('strong', { text: v }), ` ${meaning}`)));
}

function buildForm() {
  const f = clear($('incident-fields'));
  f.append(
    field('inc-when', t('inc.when'), el('input', { id: 'inc-when', type: 'datetime-local', required: true, value: missionNowLocal() })),
    field('inc-category', t('inc.category'), select('inc-category', CATEGORIES.map(([c]) => c), 'killing')),
    field('inc-lat', t('inc.lat'), el('input', { id: 'inc-lat', type: 'number', step: 'any', min: -90, max: 90, required: true })),
    field('inc-lon', t('inc.lon'), el('input', { id: 'inc-lon', type: 'number', step: 'any', min: -180, max: 180, required: true })),
    field('inc-place', t('inc.place'), el('div', { class: 'place-search' },
      el('input', { id: 'inc-place', type: 'text', maxlength: 200 }),
      el('button', { type: 'button', id: 'place-search', onclick: searchPlaces }, t('inc.search')))),
    el('ul', { id: 'place-hits', class: 'suggestions', 'aria-live': 'polite' }),
    field('inc-perps', t('inc.perps'), el('input', { id: 'inc-perps', type: 'text' })),
    field('inc-ptype', t('inc.ptype'), select('inc-ptype', PTYPES, 'unknown')),
    field('inc-fatalities', t('inc.fatalities'), el('input', { id: 'inc-fatalities', type: 'number', min: 0, value: 0 })),
    field('inc-injured', t('inc.injured'), el('input', { id: 'inc-injured', type: 'number', min: 0, value: 0 })),
    field('inc-displaced', t('inc.displaced'), el('input', { id: 'inc-displaced', type: 'number', min: 0, value: 0 })),
    field('inc-narrative', t('inc.narrative'), el('textarea', { id: 'inc-narrative', rows: 3, maxlength: 20000 })),
    field('inc-section', t('inc.section'), select('inc-section', SECTIONS, 'civil_affairs')),
    field('inc-source', t('inc.source'), el('input', { id: 'inc-source', type: 'text', maxlength: 200 })),
    picker('reliability', t('inc.reliability'), RELIABILITY, 'F', 'rel'),
    picker('credibility', t('inc.credibility'), CREDIBILITY, '6', 'cred'));
  for (const id of ['inc-lat', 'inc-lon']) $(id).addEventListener('change', placeMarker);
}

// Place search in the mission's gazetteer (GET /api/v1/places); a hit sets the coordinates.
async function searchPlaces() {
  const q = $('inc-place').value.trim();
  const list = clear($('place-hits'));
  if (!q) return;
  const doc = await getJson('/api/v1/places', { q, limit: 5 }).catch(() => null);
  for (const p of doc?.items || []) {
    list.append(el('li', {}, el('button', { type: 'button', class: 'linklike', dataset: { place: p.name },
      onclick: () => {
        $('inc-place').value = p.name;
        $('inc-lat').value = Number(p.latitude).toFixed(5);
        $('inc-lon').value = Number(p.longitude).toFixed(5);
        placeMarker();
        pickMap?.easeTo({ center: [p.longitude, p.latitude], zoom: 9 });
        clear(list);
      } }, `${p.name} (${p.source}, ${Number(p.latitude).toFixed(3)}, ${Number(p.longitude).toFixed(3)})`)));
  }
  if (!list.childElementCount) list.append(el('li', { class: 'help', text: '—' }));
}

function placeMarker() {
  const lat = Number($('inc-lat').value);
  const lon = Number($('inc-lon').value);
  if (!pickMap || !$('inc-lat').value || !$('inc-lon').value) return;
  marker = marker || new window.maplibregl.Marker({ color: '#a50f15' });
  marker.setLngLat([lon, lat]).addTo(pickMap);
}

function ensurePickMap() {
  if (pickMap || !window.maplibregl) return;
  pickMap = new window.maplibregl.Map({
    container: 'pick-map', center: window.kinga.map.getCenter(), zoom: window.kinga.map.getZoom(),
    style: window.kinga.baseStyle(), attributionControl: false,
  });
  pickMap.on('click', (e) => {
    $('inc-lat').value = e.lngLat.lat.toFixed(5);
    $('inc-lon').value = e.lngLat.lng.toFixed(5);
    placeMarker();
  });
}

function formBody() {
  const num = (id) => Number($(id).value || 0);
  const checked = (name) => document.querySelector(`input[name=${name}]:checked`)?.value;
  const body = {
    occurred_start: fromMissionLocal($('inc-when').value), category: $('inc-category').value,
    latitude: Number($('inc-lat').value), longitude: Number($('inc-lon').value),
    perpetrators: $('inc-perps').value.split(',').map((s) => s.trim()).filter(Boolean),
    perpetrator_type: $('inc-ptype').value, fatalities_best: num('inc-fatalities'), injured: num('inc-injured'),
    displaced: num('inc-displaced'),
    report: { section: $('inc-section').value, source_reliability: checked('reliability'), information_credibility: Number(checked('credibility')) },
  };
  if ($('inc-place').value.trim()) body.place_name = $('inc-place').value.trim();
  if ($('inc-narrative').value.trim()) body.narrative = $('inc-narrative').value.trim();
  if ($('inc-source').value.trim()) body.report.source_name = $('inc-source').value.trim();
  return body;
}

async function onSubmit(e) {
  e.preventDefault();
  const out = $('incident-result');
  if (!$('inc-lat').value || !$('inc-lon').value || !$('inc-when').value) { out.textContent = t('inc.pick'); out.className = 'error'; return; }
  const res = await submit('/api/v1/incidents', formBody());
  if (res.queued) { out.className = 'queued'; out.textContent = t('inc.queued'); return; }
  if (res.status === 201) {
    out.className = 'ok';
    clear(out).append(t('inc.saved', { id: res.body.id }), ' ', incidentButton(res.body.id));
    out.dataset.incident = res.body.id;
    return;
  }
  out.className = 'error';
  const errs = (res.body?.errors || []).map((x) => `${x.pointer}: ${x.detail}`).join('; ');
  out.textContent = t('err.generic', { msg: `${res.body?.detail || res.status}${errs ? ` (${errs})` : ''}` });
}

// ---------- validation queue ----------

// Four eyes from the real record: the incident API gives `created_by`; who validated (and who
// approved) is in the audit trail (GET /api/v1/incidents/{id}/audit, analysts and admins: the
// roles of this screen). The rule the server enforces (KINGA_FOUR_EYES_APPROVAL): the person who
// entered an incident never approves it; the queue then offers no Approve and says why.
async function auditOf(id) {
  try {
    const doc = await getJson(`/api/v1/incidents/${encodeURIComponent(id)}/audit`, { limit: 500 });
    return doc?.items || doc?.events || [];
  } catch { return []; }
}
const lastBy = (events, action) => events.filter((e) => e.action === action).map((e) => e.actor).pop();

async function loadQueue() {
  const list = $('validation-list');
  try {
    const { body, changed } = await getFresh('/api/v1/incidents', { status: 'entered,validated', limit: 50, f: 'json' });
    if (!changed && list.childElementCount) return;
    const items = body?.items || [];
    const trails = await Promise.all(items.map((i) => (i.status === 'validated' ? auditOf(String(i.id)) : [])));
    const back = rememberFocus();
    clear(list);
    if (!items.length) list.append(el('li', { class: 'help', text: t('val.empty') }));
    items.forEach((i, n) => list.append(queueItem(i, trails[n])));
    back();
  } catch (err) {
    $('validation-status').textContent = t('err.generic', { msg: err.message });
  }
}

function queueItem(i, events) {
  const id = String(i.id);
  const out = el('p', { class: 'result', role: 'status' });
  const act = (verb) => async () => {
    try { await postJson(`/api/v1/incidents/${encodeURIComponent(id)}/${verb}`, {}, {}); out.textContent = t(`val.done_${verb}`); loadQueue(); } catch (err) { out.textContent = t('err.generic', { msg: err.message }); }
  };
  const me = shell.who ? `${shell.who.role}:${shell.who.name}` : null;
  const entered = lastBy(events, 'create') || i.created_by;
  const validated = lastBy(events, 'validated');
  const eyes = el('span', { class: 'eyes' },
    el('span', { dataset: { eyes: 'entered' }, text: t('ip.entered_by', { who: entered || '?' }) }),
    validated ? ' · ' : '', validated ? el('span', { dataset: { eyes: 'validated' }, text: t('ip.validated_by', { who: validated }) }) : '');
  // Only admins approve; never the person who entered the incident (four eyes).
  const mayApprove = i.status === 'validated' && shell.role === 'admin' && entered !== me;
  const blocked = i.status === 'validated' && shell.role === 'admin' && entered === me;
  return el('li', { class: 'card', dataset: { incident: id, status: i.status } },
    el('h3', {}, `${missionTime(i.occurred_start)} · ${code(i.category)} · ${i.place_name || ''}`),
    el('p', { class: 'help' }, `${t(`status.${i.status}`)} · ${t('val.grade', { g: i.quality_grade || '?' })} · ${i.independent_sources ?? '?'} ${t('val.reports')} · `, eyes),
    blocked ? el('p', { class: 'four-eyes', text: t('val.four_eyes', { who: entered }) }) : '',
    i.narrative ? el('p', { text: i.narrative }) : '',
    el('div', { class: 'actions' }, incidentButton(id),
      i.status === 'entered' ? el('button', { type: 'button', class: 'act-validate', onclick: act('validate') }, t('val.validate')) : '',
      mayApprove ? el('button', { type: 'button', class: 'act-approve', onclick: act('approve') }, t('val.approve')) : '',
      el('button', { type: 'button', class: 'act-reject', onclick: act('reject') }, t('val.reject'))),
    out);
}

let built = false;
registerScreen('incidents', {
  show() {
    if (!built) { buildForm(); $('incident-form').addEventListener('submit', onSubmit); built = true; }
    ensurePickMap();
    setTimeout(() => pickMap?.resize(), 0);
  },
});
registerScreen('validation', { show: loadQueue });
