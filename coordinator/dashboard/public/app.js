// Entry point: loads the data (inlined in a static report, else /api/data), renders every view, and
// re-renders when the server announces a change (server-sent events).

import { resetCharts } from './charts.js';
import { el, setVariantOrder } from './dom.js';
import { fleetView, jobsView, matrixView, outliersView, verdictsView } from './views-fleet.js';
import { mapsView } from './views-maps.js';
import { monitoringView } from './views-monitoring.js';
import { rolloutsView } from './views-rollouts.js';
import { attentionView, divergenceView, genericProbeView, inductionView, propertiesView } from './views-probes.js';

// probes with a view of their own; every other registered probe gets its report cells as a table
const PROBE_VIEWS = {
  attention: { label: 'Attention', draw: (data) => attentionView(data, state, render) },
  divergence: { label: 'Layer drift', draw: (data) => divergenceView(data, state, render) },
  properties: { label: 'Properties', draw: (data) => propertiesView(data) },
  induction: { label: 'Induction heads', draw: (data) => inductionView(data, state, render) },
};

/** Fleet views, then one section per registered probe (the attention maps after attention), then outliers and jobs. */
function sections(data) {
  const probes = (data.probes ?? []).flatMap((p) => {
    const own = PROBE_VIEWS[p.kind];
    const probe = [[p.kind, own?.label ?? p.kind, () => (own ? own.draw(data) : genericProbeView(data, p))]];
    return p.kind === 'attention' ? [...probe, ['maps', 'Attention maps', () => mapsView(data, state, render, api)]] : probe;
  });
  return [['verdicts', 'Verdicts', () => verdictsView(data)], ['fleet', 'Fleet', () => fleetView(data, isReport ? null : goToPage)], ['monitoring', 'Monitoring', () => monitoringView(data, state, render, isReport ? bakedMonitoring(data) : api)],
    ['matrix', 'Variants × devices', () => matrixView(data)],
    ...probes, ['outliers', 'Outliers', () => outliersView(data)], ['jobs', 'Jobs', () => jobsView(data)],
    ['rollouts', 'Rollouts', () => rolloutsView(isReport ? (data.rollouts ? async () => data.rollouts : null) : api.rollouts)]];
}

const embedded = document.getElementById('embedded-data');
const isReport = Boolean(embedded && embedded.textContent.trim());
// page: the device table's page, sort and filter; every view below it draws that page's devices
const state = { device: {}, maps: {}, sentences: [], data: null, updates: 0, page: { offset: 0, limit: 50, sort: 'deviceId', order: 'asc', q: '', online: '' } };

async function json(path) {
  const r = await fetch(path, { cache: 'no-store' });
  if (!r.ok) throw new Error(`${path.split('?')[0]}: HTTP ${r.status}`);
  return r.json();
}

const api = {
  /** the page's document and the fleet summary, two calls in parallel */
  async data() {
    const q = Object.entries(state.page).filter(([, v]) => v !== '' && v !== undefined).map(([k, v]) => [k, String(v)]);
    const [page, fleet] = await Promise.all([json(`api/data?${new URLSearchParams(q)}`), json('api/summary')]);
    return { ...page, fleet };
  },
  summary: () => json('api/summary'),
  jobs: () => json('api/jobs'),
  async alerts() {
    const r = await fetch('api/alerts?state=open&limit=50', { cache: 'no-store' });
    if (!r.ok) throw new Error(`api/alerts: HTTP ${r.status}`);
    return r.json();
  },
  async timeline(s) {
    const r = await fetch(`api/timeline?${new URLSearchParams({ device: s.deviceId, model: s.model, variant: s.variant, limit: '200' })}`, { cache: 'no-store' });
    if (!r.ok) throw new Error(`api/timeline: HTTP ${r.status}`);
    return r.json();
  },
  async rollouts() {
    const r = await fetch('api/rollouts', { cache: 'no-store' });
    if (!r.ok) throw new Error(`api/rollouts: HTTP ${r.status}`);
    return (await r.json()).rollouts;
  },
  async maps(m) {
    const q = new URLSearchParams({ model: m.model, variant: m.variant, layer: String(m.layer), sentence: m.sentence });
    const r = await fetch(`api/attention-maps?${q}`);
    const body = await r.json();
    if (!r.ok) throw new Error(`${body.code ? `[${body.code}] ` : ''}${body.error}${body.fix ? ` (fix: ${body.fix})` : ''}`);
    return body;
  },
};

/** A static report answers the monitoring calls from what `report --html` baked in (open alerts, their series' timelines). */
function bakedMonitoring(data) {
  const m = data.monitoring;
  if (!m) return null;
  const key = (s) => `${s.deviceId}|${s.model}|${s.variant}`;
  const byKey = new Map(m.timelines.map((t) => [key(t.series), t]));
  return {
    baked: m.timelines.map((t) => t.series),
    alerts: async () => m.alerts,
    timeline: async (s) => byKey.get(key(s)) ?? { series: s, runs: [], regressions: [], alerts: [] },
  };
}

/** The device table's controls: a new page, sort or filter refetches the page (the server sorts and filters). */
function goToPage(patch) {
  state.page = { ...state.page, ...patch };
  api.data().then((data) => { state.data = data; render(); }, (err) => { document.getElementById('status').textContent = `page failed: ${err.message ?? err}`; });
}

function render() {
  const data = state.data;
  resetCharts();
  const status = document.getElementById('status');
  status.textContent = isReport ? `static report, generated ${data.generatedAt}` : `live · updated ${new Date().toLocaleTimeString()} · ${state.updates} live update(s)`;
  status.className = isReport ? 'status report' : 'status live';
  const main = document.getElementById('main');
  const scrollY = window.scrollY;
  // one view failing on a record it cannot read must not take the others down
  const safe = (id, view) => {
    try {
      return view();
    } catch (err) {
      console.error(err);
      return el('section', { id }, el('p', { class: 'error' }, `${id}: this view failed to render (${err.message ?? err})`));
    }
  };
  setVariantOrder(data.variantOrder);
  const all = sections(data);
  document.getElementById('nav').replaceChildren(...all.map(([id, label]) => el('a', { href: `#${id}` }, label)));
  main.replaceChildren(...all.map(([id, , view]) => safe(id, view)));
  window.scrollTo(0, scrollY);
  document.body.dataset.rendered = String(Number(document.body.dataset.rendered ?? 0) + 1);
}

async function start() {
  if (isReport) {
    state.data = JSON.parse(embedded.textContent);
    render();
    return;
  }
  const [data, sentences] = await Promise.all([api.data(), fetch('api/sentences').then((r) => r.json())]);
  state.data = data;
  state.sentences = sentences.sentences;
  render();
  // a change event names the devices that changed (null: too many): the page is refetched only when one
  // of its devices did; otherwise only the fleet summary and the jobs table are
  const events = new EventSource('api/events');
  let inFlight = Promise.resolve();
  events.addEventListener('change', (e) => {
    const change = JSON.parse(e.data);
    inFlight = inFlight.then(async () => {
      const shown = new Set(state.data.devices.map((d) => d.deviceId));
      const unfiltered = !state.page.q && state.page.online === '';
      if (!Array.isArray(change.devices) || change.devices.some((d) => shown.has(d)) || (unfiltered && shown.size < state.page.limit)) {
        state.data = await api.data();
      } else {
        const [fleet, jobs] = await Promise.all([api.summary(), api.jobs()]);
        state.data = { ...state.data, fleet, jobs: jobs.jobs };
        if (unfiltered && fleet.devices !== state.data.page?.total) state.data = await api.data(); // a device joined or left
      }
      state.updates++;
      document.body.dataset.lastChange = Array.isArray(change.devices) ? change.devices.join(',') : 'all';
      render();
    }).catch((err) => { document.getElementById('status').textContent = `update failed: ${err.message ?? err}`; });
  });
  events.onerror = () => { document.getElementById('status').textContent = 'connection lost, retrying…'; };
}

start().catch((err) => {
  document.getElementById('main').replaceChildren(el('p', { class: 'error' }, `dashboard failed to load: ${err.message ?? err}`));
});
