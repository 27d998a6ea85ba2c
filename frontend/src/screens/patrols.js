// Patrol meeting: generate a plan for a date and bases, see the tasks as a table and on a map,
// drop tasks, save the plan, print one task card per patrol (print stylesheet).
import { getJson, postJson } from '../api.js';
import { $, clear, el, human, svg } from '../dom.js';
import { t } from '../i18n.js';
import { registerScreen } from '../shell.js';

let plan = null;
let planMap = null;
const dropped = new Set();
const EMPTY = { type: 'FeatureCollection', features: [] };

async function loadBases() {
  const sel = $('plan-bases');
  if (sel.options.length) return;
  const doc = await getJson('/api/v1/bases', { as_of: $('plan-date').value, f: 'geojson' }).catch(() => null);
  for (const f of doc?.features || []) sel.append(el('option', { value: String(f.id), text: f.properties?.name || String(f.id) }));
}

const kept = () => (plan?.tasks || []).filter((task, i) => !dropped.has(i));

function ensureMap() {
  if (planMap || !window.maplibregl) return;
  planMap = new window.maplibregl.Map({ container: 'plan-map', center: window.kinga.map.getCenter(), zoom: window.kinga.map.getZoom(),
    style: window.kinga.baseStyle(), attributionControl: false });
  planMap.on('load', () => {
    planMap.addSource('tasks', { type: 'geojson', data: EMPTY });
    planMap.addLayer({ id: 'tasks-fill', type: 'fill', source: 'tasks', paint: { 'fill-color': '#0b5cad', 'fill-opacity': 0.45 } });
    planMap.addLayer({ id: 'tasks-line', type: 'line', source: 'tasks', paint: { 'line-color': '#12324f', 'line-width': 1.5 } });
    drawMap();
  });
}

function drawMap() {
  const src = planMap?.getSource?.('tasks');
  if (!src) return;
  const feats = kept().flatMap((task) => task.cells.features);
  src.setData({ type: 'FeatureCollection', features: feats });
  if (feats.length) {
    const xs = []; const ys = [];
    for (const f of feats) for (const [x, y] of f.geometry.coordinates[0]) { xs.push(x); ys.push(y); }
    planMap.fitBounds([[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]], { padding: 30, duration: 0, maxZoom: 10 });
  }
}

const windowText = (w) => (w ? `${w.start}–${w.end}${w.days ? ` (${w.days.join(', ')})` : ''}${w.night ? ' · night' : ''}` : '—');

function renderTable() {
  const wrap = clear($('plan-table-wrap'));
  if (!plan) { wrap.append(el('p', { class: 'help', text: t('pat.none') })); return; }
  const share = plan.summary?.threat_covered_share;
  wrap.append(el('p', { text: t('pat.summary', { share: share == null ? '—' : `${Math.round(share * 100)}%` }) }));
  const table = el('table', { class: 'tasks' }, el('caption', { text: t('pat.tasks') }),
    el('thead', {}, el('tr', {}, ['#', 'Base', 'Mode', 'Effect', 'Window', 'Priority', 'Keep'].map((h) => el('th', { scope: 'col', text: h })))));
  const tbody = el('tbody');
  plan.tasks.forEach((task, i) => {
    const keep = el('input', { type: 'checkbox', checked: !dropped.has(i), 'aria-label': `Keep task ${i + 1}` });
    keep.addEventListener('change', () => { if (keep.checked) dropped.delete(i); else dropped.add(i); drawMap(); renderCards(); });
    tbody.append(el('tr', {}, el('td', { text: i + 1 }), el('td', { text: task.base_name || task.base_id }), el('td', { text: human(task.mode) }),
      el('td', { text: human(task.desired_effect) }), el('td', { text: windowText(task.time_window) }), el('td', { text: task.priority }), el('td', {}, keep)));
  });
  table.append(tbody);
  wrap.append(table);
}

// The task's cells drawn as a small SVG (prints crisply, needs no WebGL).
function areaMap(task) {
  const rings = task.cells.features.map((f) => f.geometry.coordinates[0]);
  const pts = rings.flat();
  const [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  const [y0, y1] = [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
  const span = Math.max(x1 - x0, y1 - y0) || 1;
  const s = svg('svg', { viewBox: '0 0 120 120', width: 120, height: 120, class: 'area-map', role: 'img', 'aria-label': `Area of task` });
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
      el('h3', {}, `Task ${i + 1} · ${task.base_name || task.base_id} · ${human(task.mode)}`),
      el('div', { class: 'card-body' }, areaMap(task), el('dl', { class: 'facts' },
        el('dt', { text: 'Desired effect' }), el('dd', { text: human(task.desired_effect) }),
        el('dt', { text: 'Reason' }), el('dd', { text: task.reason || '—' }),
        el('dt', { text: 'Time window' }), el('dd', { text: windowText(task.time_window) }),
        el('dt', { text: 'Area' }), el('dd', { text: `${task.cell_ids.join(', ')} · ${task.distance_km} km, ${Math.round(task.travel_minutes)} min` }),
        el('dt', { text: 'Composition' }), el('dd', { text: (task.composition || []).map((c) => `${human(c.role)} (${c.why})`).join('; ') || '—' }),
        el('dt', { text: 'QRF' }), el('dd', { text: qrf ? qrf.why : 'none on standby' })))));
  });
}

async function generate(e) {
  e.preventDefault();
  $('plan-status').textContent = '…';
  const base_ids = [...$('plan-bases').selectedOptions].map((o) => o.value);
  try {
    plan = await postJson('/api/v1/patrol-plans', { f: 'json' }, { as_of: $('plan-date').value, horizon_days: Number($('plan-horizon').value),
      ...(base_ids.length ? { base_ids } : {}) });
    dropped.clear();
    $('plan-status').textContent = `${plan.tasks.length} tasks`;
    $('plan-print').disabled = false;
    $('plan-save').disabled = false;
  } catch (err) {
    $('plan-status').textContent = t('err.generic', { msg: err.message });
    plan = null;
  }
  renderTable();
  renderCards();
  ensureMap();
  drawMap();
}

function save() {
  localStorage.setItem(`kinga.plan.${$('plan-date').value}`, JSON.stringify({ ...plan, tasks: kept() }));
  $('plan-status').textContent = t('pat.saved');
}

let wired = false;
registerScreen('patrols', {
  async show() {
    if (!wired) {
      wired = true;
      $('plan-form').addEventListener('submit', generate);
      $('plan-print').addEventListener('click', () => window.print());
      $('plan-save').addEventListener('click', save);
      $('plan-date').value = $('as-of').value;
    }
    await loadBases();
    renderTable();
    setTimeout(() => planMap?.resize(), 0);
  },
});
