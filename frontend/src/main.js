// Kinga operations map: sign-in, time and filter controls, toggleable layers, details panel.

import 'maplibre-gl/dist/maplibre-gl.css';
import './style.css';
import { ApiError, getJson, sameOrigin, session, setUnauthorizedHandler } from './api.js';
import { $, append, clear, el } from './dom.js';
import { addDays, featureCentre, isoDate } from './geo.js';
import { code, lang, t } from './i18n.js';
import { LAYERS } from './layers.js';
import { CATEGORIES } from './palette.js';
import { closePanel, openPanel, renderCell, renderRecord, renderWarning } from './panel.js';
import { incidentButton, initShell, renderWho, signedIn, signedOutShell } from './shell.js';
import './screens/triage.js';
import './screens/warnings.js';
import './screens/incidents.js';
import './screens/incident.js';
import './screens/patrols.js';
import './screens/footprint.js';

// MapLibre's prebuilt bundle is loaded as its own script: re-minifying it breaks its worker.
const { maplibregl } = window;
// Until sign-in tells the mission's start view (its profile's map_view), show the continent.
const START_VIEW = { center: [20, 2], zoom: 3 };
const PARTNER_MAX_RES = 6;
const EMPTY = { type: 'FeatureCollection', features: [] };
// MapLibre keeps only numeric feature ids, so each feature also carries its id as a property.
const FID = '_fid';
const state = { role: null, name: null, enabled: {}, status: {}, notes: {}, data: {}, index: {}, aborts: {}, res: null };

const status = (text) => { $('status').textContent = text; };

// ---------- map and basemap ----------

const map = new maplibregl.Map({
  container: 'map',
  center: START_VIEW.center,
  zoom: START_VIEW.zoom,
  minZoom: 3,
  maxZoom: 13,
  canvasContextAttributes: { preserveDrawingBuffer: true, antialias: true },
  attributionControl: { compact: true, customAttribution: 'Natural Earth · UCDP GED (CC BY 4.0)' },
  style: {
    version: 8,
    sources: { countries: { type: 'geojson', data: new URL('/map/countries.geojson', window.location.origin).href } },
    layers: [
      { id: 'background', type: 'background', paint: { 'background-color': '#dde6ea' } },
      { id: 'countries-fill', type: 'fill', source: 'countries', paint: { 'fill-color': '#f6f4ee' } },
      { id: 'countries-line', type: 'line', source: 'countries', paint: { 'line-color': '#8c8c8c', 'line-width': 1 } },
    ],
  },
});
map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
map.on('error', (e) => status(t('map.error', { msg: e.error?.message ?? 'error' })));
const mapReady = new Promise((resolve) => map.on('load', resolve));

function resForZoom(z) {
  if (z < 5.5) return 4;
  if (z < 7) return 5;
  if (z < 8.5) return 6;
  if (z < 10) return 7;
  if (z < 11.5) return 8;
  return 9;
}

function currentRes() {
  const chosen = $('res').value;
  const res = chosen === 'auto' ? resForZoom(map.getZoom()) : Number(chosen);
  return state.role === 'partner' ? Math.min(res, PARTNER_MAX_RES) : res;
}

function viewBbox() {
  const b = map.getBounds();
  const c = (v, lim) => Math.max(-lim, Math.min(lim, v)).toFixed(4);
  return [c(b.getWest(), 180), c(b.getSouth(), 90), c(b.getEast(), 180), c(b.getNorth(), 90)].join(',');
}

function context() {
  return {
    asOf: $('as-of').value, windowDays: Number($('window').value), horizonDays: Number($('horizon').value),
    category: $('category').value, minGrade: $('min-grade').value, res: currentRes(), bbox: viewBbox(), role: state.role,
  };
}

// ---------- layers ----------

// The note under a layer: a message key and its values (kept, so a language change redraws it).
function setLayerStatus(def, value, noteKey = '', vars = {}) {
  state.status[def.id] = value;
  state.notes[def.id] = [noteKey, vars];
  const item = document.querySelector(`[data-layer="${def.id}"]`);
  if (!item) return;
  item.dataset.status = value;
  item.querySelector('.note').textContent = noteKey ? t(noteKey, vars) : '';
  const box = item.querySelector('input');
  const off = value === 'unavailable' || value === 'forbidden';
  box.disabled = off;
  box.setAttribute('aria-describedby', `note-${def.id}`);
}

function addMapLayers() {
  for (const def of LAYERS) {
    map.addSource(def.id, { type: 'geojson', data: EMPTY, promoteId: FID, ...(def.source || {}) });
    for (const spec of def.mapLayers) {
      map.addLayer({ ...spec, source: def.id, layout: { visibility: state.enabled[def.id] ? 'visible' : 'none' } });
    }
  }
}

function applyVisibility(def) {
  const vis = state.enabled[def.id] && state.status[def.id] === 'ok' ? 'visible' : 'none';
  for (const spec of def.mapLayers) map.setLayoutProperty(spec.id, 'visibility', vis);
}

async function loadLayer(def) {
  if (!state.enabled[def.id] || !state.role) return;
  state.aborts[def.id]?.abort();
  const abort = new AbortController();
  state.aborts[def.id] = abort;
  setLayerStatus(def, 'loading', 'note.loading');
  try {
    const fc = await def.load(context(), abort.signal);
    if (abort.signal.aborted) return;
    if (fc === null) {
      state.data[def.id] = EMPTY;
      map.getSource(def.id).setData(EMPTY);
      setLayerStatus(def, 'unavailable', 'note.unavailable');
    } else {
      state.data[def.id] = fc;
      state.index[def.id] = new Map();
      (fc.features || []).forEach((f, i) => {
        const fid = String(f.id ?? i);
        f.properties = { ...(f.properties || {}), [FID]: fid };
        state.index[def.id].set(fid, f);
      });
      map.getSource(def.id).setData(fc);
      const n = (fc.features || []).length;
      const shown = n.toLocaleString(lang());
      if (fc.note && !n) setLayerStatus(def, 'ok', 'note.none', { note: fc.note });
      else if (fc.truncated) setLayerStatus(def, 'ok', 'note.first', { n: shown, of: fc.numberMatched?.toLocaleString(lang()) ?? t('note.more') });
      else setLayerStatus(def, 'ok', 'note.shown', { n: shown });
    }
  } catch (err) {
    if (abort.signal.aborted || err.name === 'AbortError') return;
    if (err instanceof ApiError && err.status === 403) setLayerStatus(def, 'forbidden', 'note.forbidden');
    else setLayerStatus(def, 'error', 'note.error', { msg: err.message });
  }
  applyVisibility(def);
  if (def.id === 'hotspots') renderTopCells();
}

function refresh(filter = () => true) {
  state.res = currentRes();
  $('res-now').textContent = t('map.res_now', { res: state.res });
  return Promise.all(LAYERS.filter(filter).map(loadLayer));
}

function buildLayerList() {
  const list = clear($('layer-list'));
  for (const def of LAYERS) {
    state.enabled[def.id] = def.defaultOn;
    const box = el('input', { type: 'checkbox', id: `layer-${def.id}`, checked: def.defaultOn });
    box.addEventListener('change', () => {
      state.enabled[def.id] = box.checked;
      if (box.checked) loadLayer(def); else applyVisibility(def);
    });
    list.append(el('li', { dataset: { layer: def.id, status: 'idle' } },
      el('div', { class: 'layer-row' }, box, el('label', { for: `layer-${def.id}` })),
      el('span', { class: 'note', id: `note-${def.id}` }), el('ul', { class: 'legend' })));
  }
  labelLayers();
}

// Layer labels, legends and notes in the current language (message keys `layer.<id>`,
// `legend.*`, `code.*`, `note.*`); redrawn when the language changes.
function labelLayers() {
  for (const def of LAYERS) {
    const item = document.querySelector(`[data-layer="${def.id}"]`);
    if (!item) continue;
    const label = t(`layer.${def.id}`);
    item.querySelector('label').textContent = label;
    const legend = clear(item.querySelector('.legend'));
    legend.setAttribute('aria-label', t('legend.of', { layer: label }));
    for (const [entry, colour] of def.legend) {
      const swatch = el('span', { class: 'swatch', 'aria-hidden': 'true' });
      swatch.style.background = colour;
      legend.append(el('li', {}, swatch, typeof entry === 'function' ? entry() : code(entry)));
    }
    const [key, vars] = state.notes[def.id] || [];
    item.querySelector('.note').textContent = key ? t(key, vars) : '';
  }
}

function renderTopCells() {
  const list = clear($('top-cells'));
  const feats = [...(state.data.hotspots?.features || [])]
    .sort((a, b) => (b.properties?.threat_score ?? 0) - (a.properties?.threat_score ?? 0)).slice(0, 8);
  if (!feats.length) { list.append(el('li', { class: 'help', text: t('map.no_cells') })); return; }
  for (const f of feats) {
    const p = f.properties || {};
    const score = typeof p.threat_score === 'number' ? p.threat_score.toFixed(1) : '—';
    list.append(el('li', {}, el('button', { type: 'button', class: 'linklike',
      onclick: () => { map.easeTo({ center: featureCentre(f), duration: 400 }); openCell(f.id ?? p.cell); } },
    t('map.top_cell', { level: code(p.threat_level ?? '?'), score, n: p.incidents ?? '?' }))));
  }
}

// ---------- details ----------

function findFeature(layerId, fid) {
  return state.index[layerId]?.get(String(fid));
}

async function openCell(cell) {
  const ctx = context();
  const original = findFeature('hotspots', cell);  // the layer's properties for this cell
  const params = { as_of: ctx.asOf, window_days: ctx.windowDays, category: ctx.category, min_grade: ctx.minGrade };
  const url = sameOrigin(`/api/v1/hotspots/${encodeURIComponent(cell)}`, params);
  try {
    const detail = await getJson(url);
    renderCell(cell, original?.properties || {}, detail, url,
      { from: addDays(ctx.asOf, 1 - ctx.windowDays), to: ctx.asOf });
  } catch (err) {
    openPanel(t('panel.cell', { cell }), el('p', { class: 'error', text: t('panel.cell_error', { msg: err.message }) }));
  }
}

async function openWarning(id, props) {
  try {
    const doc = await getJson(`/api/v1/warnings/${encodeURIComponent(id)}`);
    const warning = { ...props, ...((doc && (doc.properties || doc)) || {}), id };
    renderWarning(warning, Array.isArray(warning.responses) ? warning.responses : []);
  } catch (err) {
    openPanel(t('panel.warning_title'), el('p', { class: 'error', text: t('panel.warning_error', { msg: err.message }) }));
  }
}

const CLICK_ORDER = ['incidents', 'warnings', 'responses', 'bases', 'patrols', 'saved-plans', 'hotspots', 'forecast'];

function clickable() {
  return CLICK_ORDER.flatMap((id) => LAYERS.find((d) => d.id === id).clickLayers || [])
    .filter((id) => map.getLayer(id) && map.getLayoutProperty(id, 'visibility') === 'visible');
}

async function onMapClick(e) {
  const layers = clickable();
  if (!layers.length) return;
  const hits = map.queryRenderedFeatures(e.point, { layers });
  hits.sort((a, b) => layers.indexOf(a.layer.id) - layers.indexOf(b.layer.id));
  const hit = hits[0];
  if (!hit) return;
  const source = hit.layer.source;
  if (hit.layer.id === 'incidents-cluster') {
    const zoom = await map.getSource('incidents').getClusterExpansionZoom(hit.properties.cluster_id);
    map.easeTo({ center: hit.geometry.coordinates, zoom });
    return;
  }
  const original = findFeature(source, hit.properties[FID]);
  if (!original) return;
  const props = original.properties;
  const id = original.id ?? props.id;
  if (source === 'hotspots') openCell(id ?? props.cell);
  else if (source === 'warnings') openWarning(id, props);
  else if (source === 'responses') openWarning(id, props);
  else if (source === 'incidents') {
    renderRecord(t('panel.incident', { what: code(props.category ?? '') }), props, ['narrative']);
    if (id) $('panel-body').append(el('p', {}, incidentButton(id)));
  } else if (source === 'saved-plans') renderRecord(t('panel.saved_task', { what: code(props.desired_effect ?? '') }), props, ['cell']);
  else if (source === 'bases') renderRecord(t('panel.base', { what: props.name ?? id }), props);
  else if (source === 'patrols') renderRecord(t('panel.task', { what: code(props.desired_effect ?? '') }), props, ['cells']);
}

// ---------- sign-in and controls ----------

// The mission record's area of operations (GET /api/v1/missions/{code}): the map opens fitted to
// it. Without a record (or an area) the profile's start view stays.
function areaBounds(geom) {
  const polys = geom?.type === 'Polygon' ? [geom.coordinates] : geom?.type === 'MultiPolygon' ? geom.coordinates : [];
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const poly of polys) for (const [x, y] of poly[0] || []) { x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y); }
  return Number.isFinite(x0) && x1 > x0 && y1 > y0 ? [[x0, y0], [x1, y1]] : null;
}
async function fitMissionArea(code) {
  if (!code) return;
  const mission = await getJson(`/api/v1/missions/${encodeURIComponent(code)}`).catch(() => null);
  const geom = mission?.area?.type === 'Feature' ? mission.area.geometry : mission?.area;
  const bounds = areaBounds(geom);
  if (!bounds) return;
  map.fitBounds(bounds, { padding: 24, duration: 0 });
  map.getContainer().dataset.fitted = mission.code;
}

async function latestIncidentDate() {
  try {
    const page = await getJson('/api/v1/incidents', { limit: 1, f: 'json' });
    const first = page?.items?.[0];
    return first?.occurred_start ? String(first.occurred_start).slice(0, 10) : isoDate(new Date());
  } catch {
    return isoDate(new Date());
  }
}

function signedOut(message = '') {
  session.token = null;
  state.role = null;
  for (const a of Object.values(state.aborts)) a.abort();
  $('controls').hidden = true;
  $('signin').hidden = false;
  $('signout').hidden = true;
  $('who').textContent = '';
  signedOutShell();
  $('signin-error').textContent = message;
  closePanel();
  for (const def of LAYERS) {
    state.status[def.id] = 'idle';
    if (map.getSource(def.id)) { map.getSource(def.id).setData(EMPTY); applyVisibility(def); }
  }
}

async function signIn(token) {
  session.token = token;
  let who;
  try {
    who = await getJson('/api/v1/map/session');
  } catch (err) {
    signedOut(err.status === 401 ? t('signin.unknown') : t('signin.failed', { msg: err.message }));
    return;
  }
  if (!who) { signedOut(t('signin.no_session')); return; }
  state.role = who.role;
  state.name = who.name;
  $('who').textContent = `${who.name} · ${who.role}`;  // the header completes it once signed in
  $('signin').hidden = true;
  $('signout').hidden = false;
  $('controls').hidden = false;
  for (const opt of $('res').options) {
    if (opt.value !== 'auto') opt.disabled = state.role === 'partner' && Number(opt.value) > PARTNER_MAX_RES;
  }
  slider.latest = slider.latest || await latestIncidentDate();
  if (!$('as-of').value) $('as-of').value = slider.latest;
  syncSlider();
  await signedIn(who);
  renderWho($('as-of').value);
  await mapReady;
  const view = who.mission && who.mission.map_view;
  if (view && Array.isArray(view.center)) map.jumpTo({ center: view.center, zoom: view.zoom ?? 5 });
  await fitMissionArea(who.mission?.code);
  status(who.role === 'integration' ? t('signin.integration') : '');
  await refresh();
  document.body.dataset.ready = 'true';
}

// ---------- time slider and play ----------
// The slider covers ten years (521 weeks) up to the latest incident (a week a step); Play moves the as-of date
// forward one week at a time, waiting for the layers to arrive before the next step.
const SLIDER_DAYS = 3647; // 521 weeks: a multiple of the step, so the latest date is a value the range input can hold
const slider = { latest: null, playing: false };

function syncSlider() {
  if (!slider.latest || !$('as-of').value) return;
  const back = Math.round((Date.parse(slider.latest) - Date.parse($('as-of').value)) / 86400e3);
  $('time-slider').value = String(SLIDER_DAYS - Math.max(0, Math.min(SLIDER_DAYS, back)));
}

function sliderDate() {
  return addDays(slider.latest, Number($('time-slider').value) - SLIDER_DAYS);
}

async function play() {
  slider.playing = !slider.playing;
  $('play').setAttribute('aria-pressed', String(slider.playing));
  $('play').textContent = t(slider.playing ? 'time.pause' : 'time.play');
  while (slider.playing && state.role) {
    const next = Math.min(SLIDER_DAYS, Number($('time-slider').value) + 7);
    $('time-slider').value = String(next);
    $('as-of').value = sliderDate();
    await refresh();
    if (next >= SLIDER_DAYS) break;
    await new Promise((r) => setTimeout(r, 1200));
  }
  slider.playing = false;
  $('play').setAttribute('aria-pressed', 'false');
  $('play').textContent = t('time.play');
}

function initControls() {
  $('time-slider').addEventListener('input', () => { if (slider.latest) $('as-of').value = sliderDate(); });
  $('time-slider').addEventListener('change', () => { closePanel(); refresh(); });
  $('play').addEventListener('click', play);
  $('as-of').addEventListener('change', syncSlider);
  for (const [c] of CATEGORIES) $('category').append(el('option', { value: c, text: code(c), dataset: { code: c } }));
  const km = { 4: 22, 5: 8, 6: 3, 7: 1.2, 8: 0.5, 9: 0.2 };
  for (let r = 4; r <= 9; r += 1) $('res').append(el('option', { value: r, dataset: { km: km[r] }, text: t('map.res_option', { r, km: km[r] }) }));
  // Options, layers and the play button follow the language (the static page follows data-i18n).
  document.addEventListener('kinga:lang', () => {
    for (const o of $('category').options) if (o.dataset.code) o.textContent = code(o.dataset.code);
    for (const o of $('res').options) if (o.dataset.km) o.textContent = t('map.res_option', { r: o.value, km: o.dataset.km });
    if (state.res) $('res-now').textContent = t('map.res_now', { res: state.res });
    $('play').textContent = t(slider.playing ? 'time.pause' : 'time.play');
    labelLayers();
    renderTopCells();
  });
  append($('res').parentElement, el('span', { id: 'res-now', class: 'help' }));

  $('signin').addEventListener('submit', (e) => {
    e.preventDefault();
    const token = $('token').value.trim();
    $('token').value = '';
    if (token) signIn(token);
  });
  $('signout').addEventListener('click', () => signedOut(t('signin.signed_out')));
  $('time').addEventListener('submit', (e) => { e.preventDefault(); closePanel(); refresh(); });
  const step = (dir) => {
    if (!$('as-of').value) return;
    $('as-of').value = addDays($('as-of').value, dir * Number($('window').value));
    syncSlider();
    closePanel();
    refresh();
  };
  $('step-back').addEventListener('click', () => step(-1));
  $('step-fwd').addEventListener('click', () => step(1));
  for (const id of ['category', 'min-grade']) $(id).addEventListener('change', () => refresh());
  $('res').addEventListener('change', () => refresh((d) => ['hotspots', 'forecast'].includes(d.id)));
  $('panel-close').addEventListener('click', closePanel);
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && !$('panel').hidden) closePanel(); });
  setUnauthorizedHandler(() => signedOut(t('signin.refused')));
}

let moveTimer = null;
function onMoveEnd() {
  if (!state.role) return;
  clearTimeout(moveTimer);
  moveTimer = setTimeout(() => {
    const resChanged = currentRes() !== state.res;
    refresh((d) => d.id === 'incidents' || ((d.id === 'hotspots' || d.id === 'forecast') && (resChanged || currentRes() >= 7)));
  }, 250);
}

initShell();
buildLayerList();
initControls();
mapReady.then(() => {
  addMapLayers();
  map.on('click', onMapClick);
  map.on('moveend', onMoveEnd);
  map.on('mousemove', (e) => {
    const layers = clickable();
    const hit = layers.length && map.queryRenderedFeatures(e.point, { layers }).length;
    map.getCanvas().style.cursor = hit ? 'pointer' : '';
  });
});
if (session.token) signIn(session.token);

// For tests and for debugging from the console.
// The basemap alone (the workbench's smaller maps draw their own layers over it).
const baseStyle = () => {
  const style = map.getStyle();
  return { version: 8, sources: { countries: style.sources.countries }, layers: style.layers.filter((l) => l.source === 'countries' || l.type === 'background') };
};
window.kinga = { map, state, openCell, refresh, baseStyle };
