// Staged rollouts: one row per rollout (plan, state, waves done of all, the wave rate and limits, failures,
// why it stopped), from their own API call (/api/rollouts), or baked in by `edgeprobe report --html`.

import { ago, el } from './dom.js';

const STATE_CLASS = { running: 'neutral', completed: 'good', aborted: 'bad', cancelled: 'warn' };

/** The section; `load` returns the rows (a promise), or is null in a static report made before rollouts were baked. */
export function rolloutsView(load) {
  const section = el('section', { id: 'rollouts' }, el('h2', {}, 'Rollouts'));
  if (!load) {
    section.append(el('p', { class: 'muted' }, 'rollouts are served by the live dashboard (or baked in by `edgeprobe report --html`)'));
    return section;
  }
  const box = el('div', { 'data-view': 'rollouts' }, el('p', { class: 'muted' }, 'loading rollouts…'));
  section.append(box);
  load().then((rows) => {
    box.replaceChildren(rows.length === 0 ? el('p', {}, 'no staged rollouts (jobs submitted with --rollout-first)') : el('table', { class: 'rollouts' },
      el('tr', {}, ['job', 'plan', 'state', 'waves done', 'rate', 'failures', 'abort reason / end', 'updated'].map((h) => el('th', {}, h))),
      rows.map((r) => el('tr', { 'data-rollout': r.jobId, 'data-state': r.state },
        el('td', {}, r.jobId), el('td', {}, r.plan), el('td', {}, el('span', { class: `badge ${STATE_CLASS[r.state] ?? 'neutral'}` }, r.state)),
        el('td', {}, `${r.wavesDone}/${r.waves}`), el('td', {}, r.rate), el('td', {}, `${r.failures} of ${r.devices} devices`),
        el('td', {}, r.state === 'running' ? '–' : r.detail ?? '–'), el('td', { title: r.updatedAt }, ago(r.updatedAt))))));
  }, (err) => box.replaceChildren(el('p', { class: 'error' }, `rollouts: ${err.message ?? err}`)));
  return section;
}
