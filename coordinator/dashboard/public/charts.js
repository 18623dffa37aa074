// Chart.js (served from the installed package, global `Chart`) for line and bar charts; heat maps are
// coloured table cells, because Chart.js core has no matrix chart and a table keeps every value readable.

import { el, fmt, variantColour } from './dom.js';

const charts = new Set();

/** Destroys the previous charts before a re-render (live updates redraw the page). */
export function resetCharts() {
  for (const c of charts) c.destroy();
  charts.clear();
}

/** series: [{ label, data: number|null per x, colour?, dashed?, reference?, pointColours? }] */
export function lineChart({ title, xLabel, yLabel, labels, series, logY = false, yMin, yMax, name }) {
  const canvas = el('canvas', { role: 'img', 'aria-label': title });
  const box = el('figure', { class: 'chart', 'data-chart': name ?? title }, el('figcaption', {}, title), el('div', { class: 'canvas-box' }, canvas));
  const chart = new Chart(canvas, {
    type: 'line',
    data: {
      labels,
      // the reference (fp32) is a wide pale band underneath, so variants that match it stay visible on top
      datasets: series.map((s, i) => ({
        label: s.label, data: s.data.map((v) => (v === null || (logY && v <= 0) ? null : v)),
        borderColor: s.reference ? 'rgba(31,41,55,0.25)' : s.colour ?? variantColour(s.label, i),
        backgroundColor: s.reference ? 'rgba(31,41,55,0.35)' : s.colour ?? variantColour(s.label, i),
        pointBackgroundColor: s.pointColours, pointBorderColor: s.pointColours,
        borderDash: s.dashed ? [6, 4] : undefined, borderWidth: s.reference ? 9 : 2, pointRadius: s.pointColours ? 5 : 3, spanGaps: true, order: s.reference ? 1 : 0,
      })),
    },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false,
      plugins: { legend: { position: 'bottom' }, tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${fmt(c.parsed.y, 4)}` } } },
      scales: {
        x: { title: { display: true, text: xLabel } },
        y: { type: logY ? 'logarithmic' : 'linear', min: yMin, max: yMax, title: { display: true, text: yLabel }, ticks: logY ? { callback: (v) => (Math.log10(v) % 1 === 0 ? Number(v).toExponential(0) : '') } : {} },
      },
    },
  });
  charts.add(chart);
  return box;
}

/** groups: x labels; series: [{ label, data, colour }] */
export function barChart({ title, xLabel, yLabel, labels, series, name, yMax }) {
  const canvas = el('canvas', { role: 'img', 'aria-label': title });
  const box = el('figure', { class: 'chart', 'data-chart': name ?? title }, el('figcaption', {}, title), el('div', { class: 'canvas-box' }, canvas));
  charts.add(new Chart(canvas, {
    type: 'bar',
    data: { labels, datasets: series.map((s, i) => ({ label: s.label, data: s.data, backgroundColor: s.colour ?? variantColour(s.label, i), borderColor: s.border, borderWidth: s.border ? 2 : 0 })) },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false,
      plugins: { legend: { position: 'bottom' } },
      scales: { x: { title: { display: true, text: xLabel } }, y: { beginAtZero: true, max: yMax, title: { display: true, text: yLabel } } },
    },
  }));
  return box;
}

/** White (0) to a saturated colour (1); `t` is already scaled to 0..1. */
export function heatColour(t, hue = 12) {
  const x = Math.max(0, Math.min(1, t));
  return `hsl(${hue}, ${Math.round(20 + 70 * x)}%, ${Math.round(97 - 50 * x)}%)`;
}

/**
 * A heat map as a table: rows x cols with labels, each cell coloured by scale(value) and showing the
 * value unless `showValues` is false (attention maps: the tooltip has it).
 */
export function heatTable({ rowLabels, colLabels, values, scale, hue, showValues = true, cornerLabel = '', name, mark, cellClass, cellPx }) {
  return el('table', { class: `heat${showValues ? '' : ' compact'}`, 'data-heat': name, style: cellPx ? `--cell:${cellPx}px` : undefined },
    el('thead', {}, el('tr', {}, el('th', { class: 'corner' }, cornerLabel), colLabels.map((c) => el('th', { scope: 'col' }, c)))),
    el('tbody', {}, rowLabels.map((r, i) => el('tr', {}, el('th', { scope: 'row' }, r), colLabels.map((_, j) => {
      const v = values[i][j];
      const marked = mark?.(i, j);
      return el('td', {
        class: [marked ? 'marked' : '', cellClass?.(i, j) ?? ''].join(' ').trim() || undefined,
        style: v === null || v === undefined ? undefined : `background:${heatColour(scale(v), hue)}`,
        title: `${r} / ${colLabels[j]}: ${fmt(v, 4)}`,
      }, showValues ? fmt(v, 3) : '');
    })))));
}

/** A horizontal colour bar for a heat map: min..max with the unit. */
export function heatLegend(label, lo, hi, hue, scale) {
  const stops = Array.from({ length: 6 }, (_, i) => heatColour(i / 5, hue)).join(', ');
  return el('div', { class: 'heat-legend' }, el('span', {}, label), el('span', {}, fmt(lo)), el('span', { class: 'ramp', style: `background:linear-gradient(90deg, ${stops})` }), el('span', {}, fmt(hi)), scale ? el('span', { class: 'muted' }, `(${scale})`) : null);
}
