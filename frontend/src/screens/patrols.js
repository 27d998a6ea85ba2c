// Patrol meeting: generate a plan for a date, bases and their capacity (patrols a day per base
// and mode, for this plan only: capacity_overrides), see the tasks as a table and on a map, drop
// tasks and add cells, save exactly the adjusted plan as a record (POST /api/v1/patrol-plans with
// "save": true and the tasks on screen; a copy is also kept in this browser), list saved plans,
// open one, record patrol reports against its tasks, print one task card per patrol.
import { getJson, postJson } from '../api.js';
import { $, clear, el, svg } from '../dom.js';
import { code, fromMissionLocal, missionNowLocal, t } from '../i18n.js';
import { registerScreen } from '../shell.js';

let plan = null;
let request = null;  // the body that generated the plan on screen (saving sends it again)
let lastSaved = null;  // the plan saved from this screen: saving again for its date supersedes it
let planMap = null;
const dropped = new Set();  // row numbers (plan tasks, then added ones) the planners dropped
let added = [];  // cells the planners added: { cell_ids, base_id, base_name, mode, cells, added: true }
const MODES = ['road', 'foot', 'air'];
let bases = [];  // the bases of the plan date, with their patrols a day
const EMPTY = { type: 'FeatureCollection', features: [] };

let basesFor = null;  // the plan date the base list and capacity table were loaded for
async function loadBases() {
  const sel = $('plan-bases');
  const day = $('plan-date').value;
  if (basesFor === day || !day) return;
  basesFor = day;
  const doc = await getJson('/api/v1/bases', { as_of: day, f: 'geojson' }).catch(() => null);
  if (basesFor !== day) return;
  clear(sel);
  bases = (doc?.features || []).map((f) => ({ id: String(f.id), ...(f.properties || {}) }));
  for (const b of bases) sel.append(el('option', { value: b.id, text: b.name || b.id }));
  renderCapacity();
}

// Capacity per base and mode for this plan: each field starts at the base's registered patrols a
// day; a changed field goes into the request as a capacity override.
function renderCapacity() {
  const wrap = clear($('plan-capacity-wrap'));
  if (!bases.length) return;
  const table = el('table', { class: 'tasks capacity-table' }, el('caption', { text: t('pat.capacity') }),
    el('thead', {}, el('tr', {}, [t('pat.h_base'), ...MODES.map((m) => t(`mode.${m}`))].map((h) => el('th', { scope: 'col', text: h })))));
  const body = el('tbody');
  for (const b of bases) {
    body.append(el('tr', { dataset: { base: b.id } }, el('th', { scope: 'row', text: b.name || b.id }),
      MODES.map((m) => el('td', {}, el('input', { type: 'number', min: 0, max: 100, step: 1, class: 'cap',
        value: Number(b[`${m}_patrols_per_day`] || 0), dataset: { base: b.id, mode: m, default: Number(b[`${m}_patrols_per_day`] || 0) },
        'aria-label': t('pat.capacity_n', { base: b.name || b.id, mode: t(`mode.${m}`) }) })))));
  }
  table.append(body);
  wrap.append(table);
}

function capacityOverrides() {
  return [...document.querySelectorAll('#plan-capacity-wrap input.cap')]
    .filter((i) => i.value !== '' && Number(i.value) !== Number(i.dataset.default))
    .map((i) => ({ base_id: i.dataset.base, mode: i.dataset.mode, patrols_per_day: Number(i.value) }));
}

const rows = () => [...(plan?.tasks || []), ...added];
const kept = () => rows().filter((task, i) => !dropped.has(i));
const edited = () => dropped.size > 0 || added.length > 0;
const choices = () => kept().map((task) => ({ cell_id: task.cell_ids[0], base_id: task.base_id, mode: task.mode }));

function ensureMap() {
  if (planMap || !window.maplibregl) return;
  planMap = new window.maplibregl.Map({ container: 'plan-map', center: window.kinga.map.getCenter(), zoom: window.kinga.map.getZoom(),
    style: window.kinga.baseStyle(), attributionControl: false });
  planMap.on('load', () => {
    planMap.addSource('tasks', { type: 'geojson', data: EMPTY });
    planMap.addLayer({ id: 'tasks-fill', type: 'fill', source: 'tasks', paint: { 'fill-color': '#0b5cad', 'fill-opacity': 0.45 } });
    planMap.addLayer({ id: 'tasks-line', type: 'line', source: 'tasks', paint: { 'line-color': '#12324f', 'line-width': 1.5 } });
    planMap.addSource('uncovered', { type: 'geojson', data: EMPTY });
    planMap.addLayer({ id: 'uncovered-fill', type: 'fill', source: 'uncovered', paint: { 'fill-color': '#d94801', 'fill-opacity': 0.25 } });
    planMap.addLayer({ id: 'uncovered-line', type: 'line', source: 'uncovered', paint: { 'line-color': '#a63603', 'line-width': 1.5, 'line-dasharray': [2, 1] } });
    // A click on a cell left uncovered picks it for "Add a task".
    planMap.on('click', (e) => {
      const hit = planMap.queryRenderedFeatures(e.point, { layers: ['uncovered-fill'] })[0];
      if (hit?.properties?.cell && !plan?.saved) { $('plan-add-cell').value = hit.properties.cell; $('plan-add-cell').focus(); }
    });
    drawMap();
  });
}

function uncoveredCells() {
  const taken = new Set(kept().map((task) => task.cell_ids[0]));
  return (plan?.uncovered?.features || []).filter((f) => !taken.has(String(f.id)))
    .map((f) => ({ ...f, properties: { ...(f.properties || {}), cell: String(f.id) } }));
}

function drawMap() {
  const src = planMap?.getSource?.('tasks');
  if (!src) return;
  const feats = kept().flatMap((task) => task.cells.features);
  src.setData({ type: 'FeatureCollection', features: feats });
  planMap.getSource('uncovered')?.setData({ type: 'FeatureCollection', features: plan?.saved ? [] : uncoveredCells() });
  if (feats.length) {
    const xs = []; const ys = [];
    for (const f of feats) for (const [x, y] of f.geometry.coordinates[0]) { xs.push(x); ys.push(y); }
    planMap.fitBounds([[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]], { padding: 30, duration: 0, maxZoom: 10 });
  }
}

const windowText = (w) => (w ? `${w.start}–${w.end}${w.days ? ` (${w.days.join(', ')})` : ''}${w.night ? ` · ${t('pat.night')}` : ''}` : '—');

function renderTable() {
  const wrap = clear($('plan-table-wrap'));
  if (!plan) { wrap.append(el('p', { class: 'help', text: t('pat.none') })); return; }
  const share = plan.summary?.threat_covered_share;
  wrap.append(el('p', { text: t('pat.summary', { share: share == null ? '—' : `${Math.round(share * 100)}%` }) }));
  if (plan.saved) {
    wrap.append(el('p', { class: 'saved-note', dataset: { plan: plan.id } }, t('pat.record', {
      v: plan.version, start: plan.starts_on, end: plan.ends_on, n: plan.reported ?? 0, of: plan.tasks.length })));
  }
  const heads = ['#', t('pat.h_base'), t('pat.h_mode'), t('pat.h_effect'), t('pat.h_window'), t('pat.h_priority'), t('pat.h_keep')];
  if (plan.saved) heads.push(t('pat.h_report'));
  const table = el('table', { class: 'tasks' }, el('caption', { text: t('pat.tasks') }),
    el('thead', {}, el('tr', {}, heads.map((h) => el('th', { scope: 'col', text: h })))));
  const tbody = el('tbody');
  rows().forEach((task, i) => {
    const keep = el('input', { type: 'checkbox', checked: !dropped.has(i), 'aria-label': t('pat.keep_n', { n: i + 1 }) });
    keep.addEventListener('change', () => { if (keep.checked) dropped.delete(i); else dropped.add(i); drawMap(); renderCards(); renderAddForm(); });
    const row = el('tr', { dataset: { task: task.id ?? '', cell: task.cell_ids[0], ...(task.added ? { added: 'true' } : {}) } },
      el('td', { text: i + 1 }), el('td', { text: task.base_name || task.base_id }), el('td', { text: t(`mode.${task.mode}`) }),
      el('td', { text: task.added ? t('pat.added_row') : code(task.desired_effect) }), el('td', { text: windowText(task.time_window) }),
      el('td', { text: task.priority ?? '—' }), el('td', {}, keep));
    if (plan.saved) {
      row.append(el('td', { class: 'report-cell' }, task.added ? '—' : task.report
        ? el('span', { dataset: { reported: task.report.status } }, code(task.report.status))
        : el('button', { type: 'button', class: 'linklike act-report', 'aria-label': t('pat.report_n', { n: i + 1 }),
          onclick: () => { $('rep-task').value = task.id; $('rep-task').focus(); } }, t('pat.report'))));
    }
    tbody.append(row);
  });
  table.append(tbody);
  wrap.append(table);
}

// The task's cells drawn as a small SVG (prints crisply, needs no WebGL).
function areaMap(task) {
  if (!task.cells?.features?.length) return el('span');
  const rings = task.cells.features.map((f) => f.geometry.coordinates[0]);
  const pts = rings.flat();
  const [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  const [y0, y1] = [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
  const span = Math.max(x1 - x0, y1 - y0) || 1;
  const s = svg('svg', { viewBox: '0 0 120 120', width: 120, height: 120, class: 'area-map', role: 'img', 'aria-label': t('card.area_map') });
  for (const ring of rings) {
    s.append(svg('polygon', { points: ring.map(([x, y]) => `${10 + ((x - x0) / span) * 100},${110 - ((y - y0) / span) * 100}`).join(' '),
      fill: '#9ecae1', stroke: '#12324f', 'stroke-width': 1.5 }));
  }
  return s;
}

function renderCards() {
  const box = clear($('task-cards'));
  kept().forEach((task, i) => {
    const qrf = (task.composition || []).find((c) => c.role === 'quick_reaction_force_standby');
    box.append(el('article', { class: 'task-card', dataset: { task: i } },
      el('h3', {}, `${t('card.task', { n: i + 1 })} · ${task.base_name || task.base_id} · ${t(`mode.${task.mode}`)}`),
      el('div', { class: 'card-body' }, areaMap(task), el('dl', { class: 'facts' },
        el('dt', { text: t('pat.h_effect') }), el('dd', { text: task.added ? t('pat.added_row') : code(task.desired_effect) }),
        el('dt', { text: t('card.reason') }), el('dd', { text: task.reason || '—' }),
        el('dt', { text: t('pat.h_window') }), el('dd', { text: windowText(task.time_window) }),
        el('dt', { text: t('card.area') }), el('dd', { text: task.added ? task.cell_ids.join(', ')
          : `${task.cell_ids.join(', ')} · ${task.distance_km} km, ${Math.round(task.travel_minutes)} min` }),
        el('dt', { text: t('card.composition') }), el('dd', { text: (task.composition || []).map((c) => `${code(c.role)} (${c.why})`).join('; ') || '—' }),
        el('dt', { text: t('card.qrf') }), el('dd', { text: qrf ? qrf.why : t('card.no_qrf') })))));
  });
}

async function generate(e) {
  e.preventDefault();
  $('plan-status').textContent = '…';
  const base_ids = [...$('plan-bases').selectedOptions].map((o) => o.value);
  const capacity_overrides = capacityOverrides();
  request = { as_of: $('plan-date').value, horizon_days: Number($('plan-horizon').value), ...(base_ids.length ? { base_ids } : {}),
    ...(capacity_overrides.length ? { capacity_overrides } : {}) };
  try {
    plan = await postJson('/api/v1/patrol-plans', { f: 'json' }, request);
    dropped.clear();
    added = [];
    $('plan-status').textContent = t('pat.n_tasks', { n: plan.tasks.length });
    $('plan-print').disabled = false;
    $('plan-save').disabled = false;
  } catch (err) {
    $('plan-status').textContent = t('err.generic', { msg: err.message });
    plan = null;
  }
  showPlan();
}

// Add a task: a cell (typed, chosen from the cells left uncovered, or clicked on the map), the base
// that sends the patrol and its mode. The server builds its details when the plan is saved.
function renderAddForm() {
  const form = $('plan-add');
  form.hidden = !plan;
  if (!plan) return;
  const list = clear($('plan-add-cells'));
  for (const f of uncoveredCells()) {
    const p = f.properties;
    list.append(el('option', { value: p.cell, text: `${code(p.threat_level)} · ${p.nearest_base || ''} ${p.nearest_base_km ?? ''} km` }));
  }
  const sel = $('plan-add-base');
  const chosen = sel.value;
  clear(sel);
  const ids = new Set();
  for (const b of [...(plan.summary?.patrols || []).map((p) => ({ id: p.base_id, name: p.base_name })), ...bases]) {
    if (ids.has(b.id)) continue;
    ids.add(b.id);
    sel.append(el('option', { value: b.id, text: b.name || b.id }));
  }
  if (chosen && ids.has(chosen)) sel.value = chosen;
}

function addTask(e) {
  e.preventDefault();
  const cell = $('plan-add-cell').value.trim();
  if (!cell) return;
  if (kept().some((task) => task.cell_ids[0] === cell)) { $('plan-status').textContent = t('pat.add_twice', { cell }); return; }
  const sel = $('plan-add-base');
  const feature = (plan.uncovered?.features || []).find((f) => String(f.id) === cell);
  added.push({ added: true, cell_ids: [cell], base_id: sel.value, base_name: sel.selectedOptions[0]?.text, mode: $('plan-add-mode').value,
    cells: { type: 'FeatureCollection', features: feature ? [feature] : [] } });
  $('plan-add-cell').value = '';
  $('plan-status').textContent = t('pat.added', { cell });
  renderTable();
  renderCards();
  renderAddForm();
  drawMap();
}

function showPlan() {
  renderTable();
  renderCards();
  renderReportForm();
  renderAddForm();
  ensureMap();
  drawMap();
}

// Saved as a record on the server (the same request again, with "save": true: the same data
// and request give the same plan); a copy of the adjusted plan stays in this browser too.
async function save() {
  if (!plan) return;
  localStorage.setItem(`kinga.plan.${plan.as_of || $('plan-date').value}`, JSON.stringify({ ...plan, tasks: kept() }));
  let body;
  if (plan.saved) {
    // A saved plan adjusted on screen is saved as its next version (refused once it has reports).
    if (!edited()) { $('plan-status').textContent = t('pat.already_saved', { v: plan.version }); return; }
    const { save: _s, supersedes: _p, tasks: _t, ...params } = plan.parameters || {};
    body = { ...params, save: true, supersedes: plan.id, tasks: choices() };
  } else {
    if (!request) { $('plan-status').textContent = t('pat.saved'); return; }
    body = { ...request, save: true, ...(edited() ? { tasks: choices() } : {}) };
    if (lastSaved && lastSaved.as_of === request.as_of && lastSaved.horizon_days === request.horizon_days && !lastSaved.reported) body.supersedes = lastSaved.id;
  }
  $('plan-status').textContent = '…';
  try {
    const saved = await postJson('/api/v1/patrol-plans', { f: 'json' }, body);
    plan = saved;
    lastSaved = saved;
    request = null;
    dropped.clear();
    added = [];
    $('plan-status').textContent = t('pat.saved_record', { v: saved.version, id: saved.id });
    showPlan();
    loadSaved();
  } catch (err) {
    const errs = (err.problem?.errors || []).map((x) => `${x.pointer}: ${x.detail}`).join('; ');
    $('plan-status').textContent = err.status ? t('err.generic', { msg: `${err.message}${errs ? ` (${errs})` : ''}` }) : t('pat.saved');
  }
}

// ---------- saved plans ----------

async function loadSaved() {
  const box = clear($('plan-saved-list'));
  let doc;
  try { doc = await getJson('/api/v1/patrol-plans', { limit: 20 }); } catch (err) {
    box.append(el('p', { class: 'error', text: t('err.generic', { msg: err.message }) }));
    return;
  }
  const items = doc?.items || [];
  if (!items.length) { box.append(el('p', { class: 'help', text: t('pat.no_saved') })); return; }
  const table = el('table', { class: 'tasks saved-plans' }, el('caption', { text: t('pat.saved_title') }),
    el('thead', {}, el('tr', {}, [t('pat.date'), t('pat.period'), t('pat.version'), t('pat.tasks'), t('pat.reported'), t('pat.by'), t('pat.approved'), ''].map((h) => el('th', { scope: 'col', text: h })))));
  const body = el('tbody');
  for (const p of items) {
    body.append(el('tr', { dataset: { plan: String(p.id) } }, el('td', { text: p.as_of }), el('td', { text: `${p.starts_on} – ${p.ends_on}` }),
      el('td', { text: p.version }), el('td', { text: p.tasks }), el('td', { text: p.reported }), el('td', { text: p.created_by }),
      el('td', { text: p.approved_by ? `${p.approved_by}` : '—' }),
      el('td', {}, el('button', { type: 'button', class: 'linklike open-plan', 'aria-label': t('pat.open_n', { date: p.as_of, v: p.version }),
        onclick: () => openSaved(String(p.id)) }, t('pat.open')))));
  }
  table.append(body);
  box.append(table);
}

async function openSaved(id) {
  $('plan-status').textContent = '…';
  try {
    const p = await getJson(`/api/v1/patrol-plans/${encodeURIComponent(id)}`);
    if (!p) { $('plan-status').textContent = t('pat.none'); return; }
    plan = p;
    request = null;
    dropped.clear();
    added = [];
    $('plan-print').disabled = false;
    $('plan-save').disabled = false;
    $('plan-status').textContent = t('pat.opened', { date: p.as_of, v: p.version });
    showPlan();
  } catch (err) {
    $('plan-status').textContent = t('err.generic', { msg: err.message });
  }
}

// ---------- patrol reports against a saved plan's tasks ----------

function renderReportForm() {
  const form = $('rep-form');
  form.hidden = !plan?.saved;
  if (!plan?.saved) return;
  const sel = clear($('rep-task'));
  plan.tasks.forEach((task, i) => {
    if (!task.report) sel.append(el('option', { value: task.id, text: `${i + 1} · ${task.base_name || task.base_id} · ${t(`mode.${task.mode}`)}` }));
  });
  $('rep-submit').disabled = !sel.options.length;
  if (!$('rep-start').value) $('rep-start').value = missionNowLocal();
}

async function sendReport(e) {
  e.preventDefault();
  const out = $('rep-result');
  const status = document.querySelector('input[name=rep-status]:checked')?.value;
  const body = { status };
  if ($('rep-start').value && status !== 'not_done') body.started_at = fromMissionLocal($('rep-start').value);
  if ($('rep-end').value && status !== 'not_done') body.ended_at = fromMissionLocal($('rep-end').value);
  if ($('rep-obs').value.trim()) body.observations = $('rep-obs').value.trim();
  if ($('rep-reason').value.trim()) body.reason = $('rep-reason').value.trim();
  if ($('rep-civ').value !== '') body.civilians_engaged = Number($('rep-civ').value);
  const task = $('rep-task').value;
  try {
    await postJson(`/api/v1/patrol-plans/${encodeURIComponent(plan.id)}/tasks/${encodeURIComponent(task)}/report`, {}, body);
    out.className = 'ok';
    out.textContent = t('pat.reported_ok', { task });
    for (const id of ['rep-obs', 'rep-reason', 'rep-civ', 'rep-end']) $(id).value = '';
    const fresh = await getJson(`/api/v1/patrol-plans/${encodeURIComponent(plan.id)}`);
    if (fresh) { plan = fresh; if (lastSaved?.id === fresh.id) lastSaved = fresh; renderTable(); renderReportForm(); }
    loadSaved();
  } catch (err) {
    out.className = 'error';
    const errs = (err.problem?.errors || []).map((x) => `${x.pointer}: ${x.detail}`).join('; ');
    out.textContent = t('err.generic', { msg: `${err.message}${errs ? ` (${errs})` : ''}` });
  }
}

let wired = false;
registerScreen('patrols', {
  async show() {
    if (!wired) {
      wired = true;
      $('plan-form').addEventListener('submit', generate);
      $('plan-print').addEventListener('click', () => window.print());
      $('plan-save').addEventListener('click', save);
      $('plan-add').addEventListener('submit', addTask);
      document.addEventListener('kinga:lang', () => { renderCapacity(); if (plan) showPlan(); });
      $('rep-form').addEventListener('submit', sendReport);
      $('plan-date').value = $('as-of').value;
      $('plan-date').addEventListener('change', loadBases);  // that day's bases and their capacity
    }
    await loadBases();
    loadSaved();
    renderTable();
    setTimeout(() => planMap?.resize(), 0);
  },
});
