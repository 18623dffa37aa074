// Monitoring: the fleet's open alerts, and one device x model x variant timeline with its regressions
// marked. Both come from their own indexed API calls (/api/alerts, /api/timeline), not from /api/data.

import { lineChart } from './charts.js';
import { el, fmt } from './dom.js';

/** The section; `api` is null in a static report without baked monitoring (no server to ask). */
export function monitoringView(data, state, render, api) {
  const section = el('section', { id: 'monitoring' }, el('h2', {}, 'Monitoring'));
  if (!api) {
    section.append(el('p', { class: 'muted' }, 'alerts and timelines are served by the live dashboard (or baked in by `edgeprobe report --html`)'));
    return section;
  }
  const alertsBox = el('div', { 'data-view': 'alerts' }, el('p', { class: 'muted' }, 'loading alerts…'));
  // a static report has the timelines it baked (the series with open alerts first), the live page every row
  const series = api.baked ?? [...new Map((data.report?.rows ?? []).map((r) => [`${r.deviceId}|${r.model}|${r.variant}`, r])).values()];
  const pick = state.timeline ?? series[0];
  const select = el('select', { 'aria-label': 'series', onchange: (e) => { state.timeline = series[Number(e.target.value)]; render(); } },
    series.map((r, i) => el('option', { value: String(i), selected: pick && r.deviceId === pick.deviceId && r.model === pick.model && r.variant === pick.variant }, `${r.deviceId} · ${r.model} · ${r.variant}`)));
  const timelineBox = el('div', { 'data-view': 'timeline' });
  section.append(el('h3', {}, 'Open alerts'), alertsBox, el('h3', {}, 'Timeline'), el('p', {}, select), timelineBox);
  api.alerts().then((page) => {
    alertsBox.replaceChildren(page.alerts.length === 0 ? el('p', {}, 'no open alerts') : el('table', { class: 'alerts' },
      el('tr', {}, ['device', 'model', 'variant', 'what changed', 'runs', 'fingerprint'].map((h) => el('th', {}, h))),
      page.alerts.map((a) => el('tr', { 'data-alert': String(a.id) },
        [a.regression.deviceId, a.regression.model, a.regression.variant, a.regression.statistic, `${a.regression.before.jobId} → ${a.regression.after.jobId}`, a.regression.changed.join('; ') || '–'].map((c) => el('td', {}, c))))));
    document.getElementById('open-alerts')?.replaceChildren(`${page.open} open alert${page.open === 1 ? '' : 's'}`);
  }, (err) => alertsBox.replaceChildren(el('p', { class: 'error' }, `alerts: ${err.message ?? err}`)));
  if (pick) {
    api.timeline(pick).then((t) => {
      const changed = new Set(t.regressions.map((r) => r.after.jobId));
      const labels = t.runs.map((r) => r.at.slice(0, 16).replace('T', ' '));
      const chart = lineChart({
        title: `p50 latency per run, ${pick.deviceId} · ${pick.variant} (red: a regression starts here; hollow: throttled)`, xLabel: 'run', yLabel: 'ms', labels, name: 'timeline',
        series: [{ label: 'p50 ms', data: t.runs.map((r) => r.figures.p50Ms ?? null), colour: '#2563eb', pointColours: t.runs.map((r) => (changed.has(r.jobId) ? '#dc2626' : r.latency?.throttled ? '#ffffff' : '#2563eb')) }],
      });
      timelineBox.replaceChildren(chart, el('ul', { class: 'regressions' }, t.regressions.map((r) => el('li', { 'data-regression': r.after.jobId }, `${r.kind}: ${r.statistic}${r.changed.length ? ` — changed: ${r.changed.join('; ')}` : ''}`))),
        el('p', { class: 'muted' }, `${t.runs.length} runs; last ${fmt(t.runs.at(-1)?.figures.p50Ms ?? null, 2)} ms`));
      timelineBox.dataset.runs = String(t.runs.length);
    }, (err) => timelineBox.replaceChildren(el('p', { class: 'error' }, `timeline: ${err.message ?? err}`)));
  }
  return section;
}
