// Entry point: loads the data (inlined in a static report, else /api/data), renders every view, and
// re-renders when the server announces a change (server-sent events).

import { resetCharts } from './charts.js';
import { el } from './dom.js';
import { fleetView, jobsView, matrixView, outliersView, verdictsView } from './views-fleet.js';
import { mapsView } from './views-maps.js';
import { attentionView, compareView, propertiesView } from './views-probes.js';

const NAV = [['verdicts', 'Verdicts'], ['fleet', 'Fleet'], ['matrix', 'Variants × devices'], ['attention', 'Attention'], ['drift', 'Layer drift'], ['maps', 'Attention maps'], ['properties', 'Properties'], ['outliers', 'Outliers'], ['jobs', 'Jobs']];

const embedded = document.getElementById('embedded-data');
const isReport = Boolean(embedded && embedded.textContent.trim());
const state = { device: {}, maps: {}, sentences: [], data: null, updates: 0 };

const api = {
  async data() {
    const r = await fetch('api/data', { cache: 'no-store' });
    if (!r.ok) throw new Error(`api/data: HTTP ${r.status}`);
    return r.json();
  },
  async maps(m) {
    const q = new URLSearchParams({ model: m.model, variant: m.variant, layer: String(m.layer), sentence: m.sentence });
    const r = await fetch(`api/attention-maps?${q}`);
    const body = await r.json();
    if (!r.ok) throw new Error(`${body.code ? `[${body.code}] ` : ''}${body.error}${body.fix ? ` (fix: ${body.fix})` : ''}`);
    return body;
  },
};

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
  main.replaceChildren(
    safe('verdicts', () => verdictsView(data)), safe('fleet', () => fleetView(data)), safe('matrix', () => matrixView(data)),
    safe('attention', () => attentionView(data, state, render)), safe('drift', () => compareView(data, state, render)),
    safe('maps', () => mapsView(data, state, render, api)), safe('properties', () => propertiesView(data)),
    safe('outliers', () => outliersView(data)), safe('jobs', () => jobsView(data)));
  window.scrollTo(0, scrollY);
  document.body.dataset.rendered = String(Number(document.body.dataset.rendered ?? 0) + 1);
}

async function start() {
  document.getElementById('nav').replaceChildren(...NAV.map(([id, label]) => el('a', { href: `#${id}` }, label)));
  if (isReport) {
    state.data = JSON.parse(embedded.textContent);
    render();
    return;
  }
  const [data, sentences] = await Promise.all([api.data(), fetch('api/sentences').then((r) => r.json())]);
  state.data = data;
  state.sentences = sentences.sentences;
  render();
  const events = new EventSource('api/events');
  events.addEventListener('change', async () => {
    state.data = await api.data();
    state.updates++;
    render();
  });
  events.onerror = () => { document.getElementById('status').textContent = 'connection lost, retrying…'; };
}

start().catch((err) => {
  document.getElementById('main').replaceChildren(el('p', { class: 'error' }, `dashboard failed to load: ${err.message ?? err}`));
});
