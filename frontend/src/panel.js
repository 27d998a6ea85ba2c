// The details panel: hexagon cells, warnings, incidents, bases, patrol tasks. All text is text.

import { $, append, clear, el, human } from './dom.js';
import { weeklyChart } from './chart.js';
import { incidentButton } from './shell.js';
import { code, t as tr } from './i18n.js';

export function openPanel(title, ...content) {
  const panel = $('panel');
  $('panel-title').textContent = title;
  append(clear($('panel-body')), content);
  panel.hidden = false;
  panel.focus();
  return panel;
}

export function closePanel() {
  const panel = $('panel');
  panel.hidden = true;
  delete panel.dataset.cell;
  delete panel.dataset.sourceUrl;
}

const isScalar = (v) => v === null || ['string', 'number', 'boolean'].includes(typeof v);

function fmt(value) {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(1);
  if (Array.isArray(value)) return value.map(fmt).join(', ');
  if (typeof value === 'object') return Object.entries(value).map(([k, v]) => `${human(k)}: ${fmt(v)}`).join('; ');
  return code(value);
}

const slope = (v) => (typeof v === 'number' ? v.toPrecision(2) : '—');

// A definition list of [label, value, field] rows; rows whose value is absent are left out.
export function facts(rows) {
  const dl = el('dl', { class: 'facts' });
  for (const [label, value, field] of rows) {
    if (value === undefined) continue;
    dl.append(el('dt', { text: label }), el('dd', { text: fmt(value), dataset: field ? { field } : undefined }));
  }
  return dl;
}

// Every property as text, for records whose shape the page does not know in detail.
export function propertyFacts(obj, skip = []) {
  return facts(Object.entries(obj || {})
    .filter(([k]) => !skip.includes(k) && !k.startsWith('_'))
    .map(([k, v]) => [human(k), v, k]));
}

// [{category, incidents}] | {name: n} | ["name"] -> [[name, n|null]]
export function namedCounts(value) {
  if (!value) return [];
  if (Array.isArray(value)) {
    return value.map((item) => {
      if (isScalar(item)) return [String(item), null];
      if (Array.isArray(item)) return [String(item[0]), item[1] ?? null];
      const name = item.name ?? item.category ?? item.perpetrator ?? item.key ?? item.label ?? '?';
      const n = item.incidents ?? item.count ?? item.n ?? item.value ?? null;
      return [String(name), n];
    });
  }
  if (typeof value === 'object') return Object.entries(value).map(([k, v]) => [k, isScalar(v) ? v : null]);
  return [];
}

function countList(title, pairs, field) {
  if (!pairs.length) return null;
  const ul = el('ul', { class: 'counts', dataset: { field } });
  for (const [name, n] of pairs) {
    ul.append(el('li', {}, el('span', { class: 'name', text: human(name) }), n === null ? null : el('span', { class: 'n', text: String(n) })));
  }
  return el('section', {}, el('h3', { text: title }), ul);
}

// [{week, incidents}] | [[week, n]] -> [{period, value}]; a suppressed (null) count draws as 0.
export function weeklySeries(detail) {
  const raw = detail.weekly ?? detail.series ?? [];
  if (!Array.isArray(raw)) return [];
  return raw.map((p) => {
    if (Array.isArray(p)) return { period: String(p[0]), value: Number(p[1]) || 0 };
    const period = p.week ?? p.week_start ?? p.start ?? p.period ?? '';
    const value = p.incidents ?? p.count ?? p.value ?? 0;
    return { period: String(period).slice(0, 10), value: Number(value) || 0 };
  });
}

// Empty weeks are absent from the API's series: fill them (same weekday as its weeks) over
// [from, to], so the chart's time axis is the whole window.
export function fillWeeks(points, from, to) {
  if (!points.length || !from || !to) return points;
  const day = 86400000;
  const t = (iso) => Date.parse(`${iso.slice(0, 10)}T00:00:00Z`);
  const known = new Map(points.map((p) => [p.period, p.value]));
  const anchor = t(points[0].period);
  let first = anchor - Math.floor((anchor - t(from)) / (7 * day)) * 7 * day;
  if (first > t(from)) first -= 7 * day;
  const out = [];
  for (let w = first; w <= t(to); w += 7 * day) {
    const iso = new Date(w).toISOString().slice(0, 10);
    out.push({ period: iso, value: known.get(iso) ?? 0 });
  }
  const covered = out.filter((p) => known.has(p.period)).length === points.length;
  return covered ? out : points;
}

function contributing(incidents) {
  if (!Array.isArray(incidents) || !incidents.length) return null;
  const ol = el('ol', { class: 'incidents', dataset: { field: 'incidents' } });
  for (const i of incidents.slice(0, 10)) {
    const when = String(i.occurred_start ?? '').slice(0, 10);
    ol.append(el('li', {}, [when, code(i.category ?? ''), i.place_name].filter(Boolean).join(' · '),
      i.id ? ' ' : '', i.id ? incidentButton(i.id) : ''));
  }
  const more = incidents.length > 10 ? tr('panel.ten_of', { n: incidents.length }) : '';
  return el('section', {}, el('h3', { text: `${tr('panel.contributing')}${more}` }), ol);
}

// The layer's properties of a cell, completed by GET /api/v1/hotspots/{cell} (weekly series,
// breakdowns, contributing incidents: whatever the caller's role is given).
export function renderCell(cell, featureProps, detail, sourceUrl, span = {}) {
  const d = { ...featureProps, ...((detail && detail.properties) || {}) };
  const scored = d.threat_score !== undefined;
  const trend = d.trend && typeof d.trend === 'object' ? d.trend : null;
  const series = detail ? fillWeeks(weeklySeries(detail), span.from, span.to) : [];
  const categories = detail && Array.isArray(detail.categories) ? detail.categories : d.top_categories;
  const perpetrators = detail && Array.isArray(detail.perpetrators) ? detail.perpetrators : d.top_perpetrators;
  const content = [
    scored ? null : el('p', { class: 'help', text: tr('panel.no_score') }),
    facts([
      [tr('panel.threat_score'), d.threat_score, 'threat_score'],
      [tr('panel.threat_level'), d.threat_level, 'threat_level'],
      [tr('panel.tier'), d.protection_tier, 'protection_tier'],
      [tr('panel.pattern'), scored ? d.pattern : undefined, 'pattern'],
      [tr('panel.trend'), trend ? tr('panel.trend_value', { dir: code(trend.direction ?? ''), slope: slope(trend.slope), per: trend.per ? tr('panel.per', { per: trend.per }) : '' }) : undefined, 'trend'],
      [tr('panel.incidents'), typeof d.incidents === 'number' ? d.incidents : undefined, 'incidents'],
      [tr('panel.fatalities'), d.fatalities, 'fatalities'],
      [tr('panel.crsv'), d.crsv, 'crsv'],
      [tr('panel.res'), detail?.resolution ?? d.resolution, 'resolution'],
    ]),
    series.length ? weeklyChart(series) : el('p', { class: 'help', text: tr(detail ? 'panel.no_series' : 'panel.no_detail') }),
    countList(tr('panel.categories'), namedCounts(categories), 'categories'),
    countList(tr('panel.perpetrators'), namedCounts(perpetrators), 'perpetrators'),
    contributing(detail?.incidents),
  ];
  const panel = openPanel(tr('panel.cell', { cell }), ...content);
  panel.dataset.cell = cell;
  panel.dataset.sourceUrl = sourceUrl;
}

function timeline(entries) {
  const ol = el('ol', { class: 'timeline', dataset: { field: 'lifecycle' } });
  for (const e of entries) {
    ol.append(el('li', {}, el('strong', { text: code(e.state) }), ' ', el('span', { text: e.at ? String(e.at) : '' }),
      e.by ? el('span', { class: 'help', text: ` ${tr('panel.by', { who: e.by })}` }) : null));
  }
  return ol;
}

function lifecycleOf(w) {
  const list = w.lifecycle ?? w.history ?? w.transitions ?? w.events;
  if (Array.isArray(list) && list.length) {
    return list.map((e) => ({ state: e.status ?? e.state ?? e.to ?? e.action ?? '?', at: e.at ?? e.changed_at ?? e.created_at ?? e.timestamp, by: e.actor ?? e.by }));
  }
  const steps = [['created', 'raised'], ['acknowledged', 'acknowledged'], ['responded', 'responded'],
    ['closed', w.status === 'cancelled' ? 'cancelled' : 'closed'], ['expires', w.status === 'expired' ? 'expired' : 'expires']];
  return steps.filter(([key]) => w[`${key}_at`]).map(([key, state]) => ({ state, at: w[`${key}_at`] }));
}

export function renderWarning(w, responses) {
  const lifecycle = lifecycleOf(w);
  const list = el('ul', { class: 'responses', dataset: { field: 'responses' } });
  for (const r of responses) list.append(el('li', {}, propertyFacts(r, ['id', 'warning_id', 'created_by'])));
  const panel = openPanel(tr('panel.warning', { what: w.headline ?? code(w.rule ?? '') }),
    facts([[tr('panel.status'), w.status, 'status'], [tr('panel.severity'), w.severity, 'severity'], [tr('panel.urgency'), w.urgency, 'urgency'],
      [tr('panel.certainty'), w.certainty, 'certainty'], [tr('panel.rule'), w.rule, 'rule'], [tr('panel.category'), w.category, 'category']]),
    w.description ? el('p', { text: w.description }) : null,
    el('h3', { text: tr('panel.lifecycle') }), lifecycle.length ? timeline(lifecycle) : el('p', { class: 'help', text: `${tr('panel.status')}: ${fmt(w.status)}` }),
    el('h3', { text: tr('panel.responses') }), responses.length ? list : el('p', { class: 'help', text: tr('panel.no_response') }));
  panel.dataset.warning = w.id ?? '';
}

export function renderRecord(title, props, skip = []) {
  openPanel(title, propertyFacts(props, skip));
}
