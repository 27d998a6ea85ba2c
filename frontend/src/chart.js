// A small inline SVG bar chart of a weekly series (no chart library, no network).

import { el, svg } from './dom.js';

const W = 300;
const H = 90;
const PAD = { top: 8, right: 6, bottom: 18, left: 26 };

export function weeklyChart(points, { label = 'incidents per week' } = {}) {
  const values = points.map((p) => p.value);
  const max = Math.max(1, ...values);
  const total = values.reduce((s, v) => s + v, 0);
  const first = points[0]?.period ?? '';
  const last = points[points.length - 1]?.period ?? '';
  const summary = `${label}: ${points.length} weeks from ${first} to ${last}, ${total} in all, at most ${max} in one week`;
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', class: 'chart' });
  const title = svg('title');
  title.textContent = summary;
  root.append(title);
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const step = points.length ? innerW / points.length : innerW;
  root.append(svg('line', { x1: PAD.left, y1: PAD.top + innerH, x2: W - PAD.right, y2: PAD.top + innerH, class: 'axis' }));
  points.forEach((p, i) => {
    const h = (p.value / max) * innerH;
    const bar = svg('rect', {
      x: (PAD.left + i * step + step * 0.1).toFixed(2), y: (PAD.top + innerH - h).toFixed(2),
      width: Math.max(0.8, step * 0.8).toFixed(2), height: h.toFixed(2), class: 'bar',
      'data-period': p.period, 'data-value': p.value,
    });
    const tip = svg('title');
    tip.textContent = `${p.period}: ${p.value}`;
    bar.append(tip);
    root.append(bar);
  });
  const yMax = svg('text', { x: PAD.left - 4, y: PAD.top + 8, 'text-anchor': 'end', class: 'tick' });
  yMax.textContent = String(max);
  const x0 = svg('text', { x: PAD.left, y: H - 4, class: 'tick' });
  x0.textContent = String(first);
  const x1 = svg('text', { x: W - PAD.right, y: H - 4, 'text-anchor': 'end', class: 'tick' });
  x1.textContent = String(last);
  root.append(yMax, x0, x1);
  return el('figure', { class: 'chart-wrap' }, root, el('figcaption', { text: summary }));
}
