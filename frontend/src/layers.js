// The map's data layers: where each comes from, how it is drawn, and its legend.
// Every loader resolves to a FeatureCollection, or null when its endpoint is not there (404).

import { ApiError, getAllFeatures, getJson, postJson } from './api.js';
import { addDays } from './geo.js';
import { code, t } from './i18n.js';
import { circleRing, toCollection } from './geo.js';
import {
  CATEGORIES, EFFECTS, NEUTRAL, SEVERITIES, THREAT_LEVELS, VIRIDIS, matchColour,
} from './palette.js';

const INCIDENT_PAGES = 5; // × 1000 features: a sane cap for one view
const OPEN_WARNINGS = 'active,acknowledged,responded';

function windowStart(ctx) { return addDays(ctx.asOf, 1 - ctx.windowDays); }

// One dashed ring per base at its longest ground (road or foot) reach, as the planner computes it
// (GET /api/v1/map/reach). Partners are not given capacities, so they see bases without rings.
async function withRings(fc, asOf, signal) {
  const reach = await getJson('/api/v1/map/reach', { as_of: asOf }, { signal }).catch(() => null);
  const byBase = (reach && reach.bases) || {};
  const rings = [];
  for (const f of fc.features) {
    const modes = byBase[String(f.id)];
    if (!modes || !f.geometry || f.geometry.type !== 'Point') continue;
    const [mode, km] = Object.entries(modes).sort((a, b) => b[1] - a[1])[0];
    rings.push({ type: 'Feature', geometry: { type: 'Polygon', coordinates: [circleRing(f.geometry.coordinates, km)] },
      properties: { ring_of: String(f.id), mode, reach_km: km } });
  }
  return { type: 'FeatureCollection', features: [...rings, ...fc.features] };
}

// A patrol plan for the horizon after as_of (plans are computed on request, not stored).
// 422 means "no plan possible here" (e.g. no base active that day): an empty layer with a note.
async function patrolPlan(ctx, signal) {
  const body = { as_of: ctx.asOf, horizon_days: Math.min(ctx.horizonDays, 90),
    window_days: Math.max(7, Math.min(ctx.windowDays, 3650)) };
  try {
    return await postJson('/api/v1/patrol-plans', { f: 'geojson' }, body, { signal });
  } catch (err) {
    if (err instanceof ApiError && err.status === 422) return { type: 'FeatureCollection', features: [], note: err.message };
    throw err;
  }
}

// Saved patrol plans (records) whose period covers the as-of date: their tasks' cells, with each
// task's report status (done, partly, not done, not yet reported). Current versions only.
const SAVED_PLANS = 5;
async function savedPlans(ctx, signal) {
  const list = await getJson('/api/v1/patrol-plans', { start: ctx.asOf, end: ctx.asOf, limit: SAVED_PLANS }, { signal });
  if (list === null) return null;
  const features = [];
  for (const p of list.items || []) {
    const plan = await getJson(`/api/v1/patrol-plans/${encodeURIComponent(p.id)}`, {}, { signal });
    for (const task of plan?.tasks || []) {
      for (const cell of task.cells?.features || []) {
        features.push({ type: 'Feature', id: `${plan.id}:${task.id}:${cell.id}`, geometry: cell.geometry, properties: {
          plan_id: String(plan.id), plan_version: plan.version, plan_period: `${plan.starts_on} – ${plan.ends_on}`, task: task.id,
          base_name: task.base_name, mode: task.mode, desired_effect: task.desired_effect, time_window: task.time_window,
          report: task.report ? task.report.status : 'not_reported', cell: cell.id } });
      }
    }
  }
  return { type: 'FeatureCollection', features };
}

// Warnings that were answered in the window (acknowledged, responded, closed): where the
// mission's responses went, by how far the response got.
async function responses(ctx, signal) {
  return getAllFeatures('/api/v1/warnings', { status: RESPONSE_STATUSES.map(([s]) => s).join(','), start: windowStart(ctx),
    end: addDays(ctx.asOf, 1), limit: 1000 }, { signal, maxPages: 3 });
}
const RESPONSE_STATUSES = [['acknowledged', '#d94801'], ['responded', '#2171b5'], ['closed', '#238b45']];
const REPORT_STATUSES = [['done', '#238b45'], ['partly', '#fd8d3c'], ['not_done', '#cb181d'], ['not_reported', '#525252']];

// Each layer's label is `layer.<id>` in the message files (i18n/*.json).
export const LAYERS = [
  {
    id: 'forecast',
    defaultOn: false,
    load: async (ctx, signal) => getJson('/api/v1/forecast', {
      res: ctx.res, as_of: ctx.asOf, horizon_days: ctx.horizonDays,
    }, { signal }),
    mapLayers: [
      { id: 'forecast-fill', type: 'fill', paint: {
        'fill-color': ['interpolate', ['linear'], ['coalesce', ['get', 'p_incident'], 0], ...VIRIDIS.flat()],
        'fill-opacity': 0.55 } },
    ],
    legend: VIRIDIS.filter((_, i) => i % 2 === 0).map(([p, c]) => [() => t('legend.p_incident', { p: Math.round(p * 100) }), c]),
  },
  {
    id: 'hotspots',
    defaultOn: true,
    load: async (ctx, signal) => getJson('/api/v1/hotspots', {
      res: ctx.res, as_of: ctx.asOf, window_days: ctx.windowDays, category: ctx.category,
      min_grade: ctx.minGrade, bbox: ctx.res >= 7 ? ctx.bbox : undefined,
    }, { signal }),
    mapLayers: [
      { id: 'hotspots-fill', type: 'fill', paint: {
        'fill-color': matchColour('threat_level', THREAT_LEVELS), 'fill-opacity': 0.7 } },
      { id: 'hotspots-line', type: 'line', paint: { 'line-color': '#7f2704', 'line-width': 0.6, 'line-opacity': 0.6 } },
    ],
    clickLayers: ['hotspots-fill'],
    legend: THREAT_LEVELS.map(([level, c]) => [level, c]),
  },
  {
    id: 'patrols',
    defaultOn: false,
    load: patrolPlan,
    mapLayers: [
      { id: 'patrols-fill', type: 'fill', paint: { 'fill-color': matchColour('desired_effect', EFFECTS), 'fill-opacity': 0.6 } },
      { id: 'patrols-line', type: 'line', paint: { 'line-color': matchColour('desired_effect', EFFECTS), 'line-width': 2.5 } },
    ],
    clickLayers: ['patrols-fill'],
    legend: EFFECTS,
  },
  {
    id: 'saved-plans',
    defaultOn: false,
    load: savedPlans,
    mapLayers: [
      { id: 'saved-plans-fill', type: 'fill', paint: { 'fill-color': matchColour('desired_effect', EFFECTS), 'fill-opacity': 0.35 } },
      { id: 'saved-plans-line', type: 'line', paint: { 'line-color': matchColour('report', REPORT_STATUSES), 'line-width': 3 } },
    ],
    clickLayers: ['saved-plans-fill'],
    legend: [...REPORT_STATUSES.map(([k, c]) => [() => t('legend.outline', { s: code(k) }), c]), ...EFFECTS],
  },
  {
    id: 'responses',
    defaultOn: false,
    load: responses,
    mapLayers: [
      { id: 'responses-fill', type: 'fill', filter: ['==', ['geometry-type'], 'Polygon'],
        paint: { 'fill-color': matchColour('status', RESPONSE_STATUSES), 'fill-opacity': 0.3 } },
      { id: 'responses-line', type: 'line', filter: ['==', ['geometry-type'], 'Polygon'],
        paint: { 'line-color': matchColour('status', RESPONSE_STATUSES), 'line-width': 2, 'line-dasharray': [2, 1] } },
      { id: 'responses-point', type: 'circle', filter: ['==', ['geometry-type'], 'Point'],
        paint: { 'circle-color': matchColour('status', RESPONSE_STATUSES), 'circle-radius': 7,
          'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } },
    ],
    clickLayers: ['responses-fill', 'responses-point'],
    legend: RESPONSE_STATUSES,
  },
  {
    id: 'warnings',
    defaultOn: true,
    load: async (_ctx, signal) => getAllFeatures('/api/v1/warnings', { status: OPEN_WARNINGS, limit: 1000 },
      { signal, maxPages: 3 }),
    mapLayers: [
      { id: 'warnings-fill', type: 'fill', filter: ['==', ['geometry-type'], 'Polygon'],
        paint: { 'fill-color': matchColour('severity', SEVERITIES), 'fill-opacity': 0.35 } },
      { id: 'warnings-line', type: 'line', filter: ['==', ['geometry-type'], 'Polygon'],
        paint: { 'line-color': matchColour('severity', SEVERITIES), 'line-width': 2.5 } },
      { id: 'warnings-point', type: 'circle', filter: ['==', ['geometry-type'], 'Point'],
        paint: { 'circle-color': matchColour('severity', SEVERITIES), 'circle-radius': 9,
          'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } },
    ],
    clickLayers: ['warnings-fill', 'warnings-point'],
    legend: SEVERITIES,
  },
  {
    id: 'bases',
    defaultOn: true,
    load: async (ctx, signal) => {
      const doc = await getJson('/api/v1/bases', { as_of: ctx.asOf, f: 'geojson' }, { signal });
      return doc === null ? null : withRings(toCollection(doc), ctx.asOf, signal);
    },
    mapLayers: [
      { id: 'bases-ring', type: 'line', filter: ['==', ['geometry-type'], 'Polygon'],
        paint: { 'line-color': '#08519c', 'line-width': 1.2, 'line-dasharray': [3, 2] } },
      { id: 'bases-point', type: 'circle', filter: ['==', ['geometry-type'], 'Point'],
        paint: { 'circle-color': '#08519c', 'circle-radius': 5, 'circle-stroke-color': '#fff', 'circle-stroke-width': 1.5 } },
    ],
    clickLayers: ['bases-point'],
    legend: [[() => t('legend.base'), '#08519c'], [() => t('legend.reach'), '#6baed6']],
  },
  {
    id: 'incidents',
    defaultOn: true,
    source: { cluster: true, clusterRadius: 40, clusterMaxZoom: 11 },
    load: async (ctx, signal) => getAllFeatures('/api/v1/incidents', {
      f: 'geojson', bbox: ctx.bbox, start: windowStart(ctx), end: ctx.asOf, category: ctx.category,
      min_grade: ctx.minGrade, limit: 1000,
    }, { signal, maxPages: INCIDENT_PAGES }),
    mapLayers: [
      { id: 'incidents-cluster', type: 'circle', filter: ['has', 'point_count'], paint: {
        'circle-color': ['step', ['get', 'point_count'], '#dadaeb', 10, '#bcbddc', 50, '#9e9ac8', 200, '#6a51a3'],
        'circle-radius': ['step', ['get', 'point_count'], 9, 10, 13, 50, 18, 200, 24],
        'circle-stroke-color': '#3f007d', 'circle-stroke-width': 1, 'circle-opacity': 0.85 } },
      { id: 'incidents-point', type: 'circle', filter: ['!', ['has', 'point_count']], paint: {
        'circle-color': matchColour('category', CATEGORIES), 'circle-radius': 5,
        'circle-stroke-color': '#222', 'circle-stroke-width': 0.8 } },
    ],
    clickLayers: ['incidents-cluster', 'incidents-point'],
    legend: [...CATEGORIES, [() => t('legend.cluster'), '#9e9ac8']],
  },
];

export const NEUTRAL_COLOUR = NEUTRAL;
