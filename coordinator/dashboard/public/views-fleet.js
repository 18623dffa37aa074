// Headline verdicts, fleet, variants x devices matrix, cross-device outliers, jobs.

import { ago, badge, byVariant, el, fmt, mb, ms, section, uniq, VERDICTS } from './dom.js';

function median(xs) {
  const v = xs.filter((x) => x !== null && x !== undefined).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** A headline summary flattened for the views: the attention and properties verdicts, the divergence facts. */
function flat(s) {
  const a = s.verdicts.attention;
  return {
    ...s, attention: a?.status ?? null, attentionLayers: a?.layers ?? [], attentionSummary: a?.summary ?? null,
    tokenRelationUpTo: s.facts.attention?.tokenRelationUpTo ?? null, layerCount: s.facts.attention?.layerCount ?? null,
    properties: s.verdicts.properties?.status ?? null,
    jumpLayer: s.facts.divergence?.jumpLayer ?? null, lastLayerRelL2: s.facts.divergence?.lastLayerRelL2 ?? null,
  };
}

/** A report cell's value: `cv(row, 'benchmark', 'p50Ms')`. */
const cv = (r, probe, key) => r.cells[probe]?.[key]?.value ?? null;

const layerList = (ls) => (ls.length === 0 ? '' : ls.length === 1 ? `layer ${ls[0]}` : `layers ${ls.join(', ')}`);

/** One sentence an operator can act on. */
function advice(s) {
  if (s.variant === 'fp32') {
    if (s.tokenRelationUpTo === null) return 'reference model (attention probe not run)';
    return s.tokenRelationUpTo >= s.layerCount
      ? `reference: attention reads as a relation between input tokens in all ${s.layerCount} layers`
      : `reference: even in fp32, attention reads as a relation between input tokens only up to layer ${s.tokenRelationUpTo} of ${s.layerCount}; deeper maps mix positions, in every variant`;
  }
  const where = s.attentionLayers.length ? ` (${layerList(s.attentionLayers)})` : '';
  switch (s.attention) {
    case 'survives': return 'attention explanations match fp32: safe to explain with this variant';
    case 'survives-invalid-reference': return 'attention matches fp32, but the fp32 explanation itself fails its sanity checks: do not explain with attention on any variant';
    case 'degrades': return `attention explanations drift from fp32${where}: check before relying on them`;
    case 'fails': return `attention explanations differ from fp32${where}: do not explain with this variant`;
    case 'invalid': return 'numbers broke (NaN/Inf/overflow): do not deploy';
    default: return 'attention probe not run on this variant';
  }
}

/** "Keeps its explanations: fp16 · Drifts: … · Loses them: …" for one model. */
function headline(rows) {
  const group = (statuses) => rows.filter((s) => s.variant !== 'fp32' && statuses.includes(s.attention));
  const item = (s) => el('span', { class: 'variant-name' }, s.variant, s.attentionLayers.length && s.attention !== 'survives' ? el('span', { class: 'muted' }, ` (${layerList(s.attentionLayers)})`) : '');
  const part = (cls, label, list) => (list.length ? el('div', { class: `headline ${cls}`, 'data-headline': cls }, el('strong', {}, label), ' ', list.map((s, i) => [i ? ', ' : '', item(s)])) : null);
  return el('div', { class: 'headlines' },
    part('good', 'Keeps its explanations:', group(['survives'])),
    part('bad', 'Matches fp32, but the fp32 explanation is invalid:', group(['survives-invalid-reference'])),
    part('warn', 'Explanations drift:', group(['degrades'])),
    part('bad', 'Loses its explanations:', group(['fails'])),
    part('broken', 'Broken numbers:', group(['invalid'])));
}

export function verdictsView(data) {
  const models = uniq(data.explanations.map((s) => s.model));
  const legend = el('div', { class: 'legend' }, 'Legend: ', ['survives', 'survives-invalid-reference', 'degrades', 'fails', 'invalid', 'passes-controls', 'fails-controls'].map((k) => el('span', {}, badge(k), ` ${VERDICTS[k].text}`)));
  const body = models.map((model) => {
    const rows = data.explanations.filter((s) => s.model === model).map(flat).sort((a, b) => byVariant(a.variant, b.variant));
    const bench = data.report.rows.filter((r) => r.model === model);
    return el('div', { class: 'model-block' },
      el('h3', {}, `model ${model}`),
      headline(rows),
      el('table', { class: 'grid verdicts', 'data-model': model },
        el('thead', {}, el('tr', {}, ['variant', 'attention explanation vs fp32', 'what it means', 'hidden-state error at last layer (rel. L2)', 'error jumps at layer', 'property inference', 'p50 latency (median of devices)', 'size', 'devices'].map((h) => el('th', {}, h)))),
        el('tbody', {}, rows.map((s) => {
          const b = bench.filter((r) => r.variant === s.variant);
          const fp32Baseline = s.variant === 'fp32' && s.attention;
          return el('tr', { 'data-variant': s.variant, class: s.variant === 'fp32' ? 'row-ref' : `row-${VERDICTS[s.attention]?.cls ?? 'none'}` },
            el('th', { scope: 'row', class: 'variant-name' }, s.variant),
            el('td', {}, fp32Baseline ? el('span', { class: 'badge ref', 'data-verdict': s.attention }, 'reference') : badge(s.attention)),
            el('td', { class: 'advice', title: s.attentionSummary ?? '' }, advice(s)),
            el('td', { class: 'num' }, s.variant === 'fp32' ? '0 (reference)' : fmt(s.lastLayerRelL2)),
            el('td', { class: 'num' }, s.variant === 'fp32' ? '–' : s.lastLayerRelL2 === null ? 'not run' : s.jumpLayer === null ? 'none (even growth)' : String(s.jumpLayer)),
            el('td', {}, badge(s.properties)),
            el('td', { class: 'num' }, ms(median(b.map((r) => cv(r, 'benchmark', 'p50Ms'))))),
            el('td', { class: 'num' }, mb(median(b.map((r) => cv(r, 'benchmark', 'sizeBytes'))))),
            el('td', {}, s.devices.join(', ')));
        }))));
  });
  return section('verdicts', 'Which variant keeps its explanations?',
    'Per model and compressed variant: does the attention explanation survive against fp32 (worst device shown), where the hidden-state error jumps, and whether property inference beats its controls. Hover a row for the probe\'s own summary.',
    data.demo ? el('p', { class: 'demo' }, 'DEMO data: generated random-weight model. These numbers show the tool, not a real model.') : null,
    models.length ? body : el('p', { class: 'empty' }, 'No probe results yet. Submit a job: edgeprobe jobs submit --devices ... --plan ...'),
    legend);
}

/** The live page's device-table controls: page, sort, filter (the server sorts and filters; dashboard-views.ts). */
function pagerControls(page, go) {
  const last = Math.max(0, Math.ceil(page.total / page.limit) - 1);
  const at = Math.floor(page.offset / page.limit);
  const select = (name, value, options) => el('select', { name, onchange: (e) => go({ [name]: e.target.value, offset: 0 }) },
    options.map(([v, label]) => el('option', { value: v, ...(String(value) === v ? { selected: true } : {}) }, label)));
  return el('div', { class: 'pager', 'data-pager': '' },
    el('button', { type: 'button', 'data-page': 'prev', disabled: at <= 0, onclick: () => go({ offset: Math.max(0, page.offset - page.limit) }) }, '‹ previous'),
    el('span', { class: 'muted', 'data-page-info': '' }, page.total === 0 ? ' no devices match ' : ` devices ${page.offset + 1}–${Math.min(page.total, page.offset + page.limit)} of ${page.total} (page ${at + 1} of ${last + 1}) `),
    el('button', { type: 'button', 'data-page': 'next', disabled: at >= last, onclick: () => go({ offset: page.offset + page.limit }) }, 'next ›'),
    ' sort ', select('sort', page.sort, [['deviceId', 'device'], ['lastSeen', 'last seen'], ['firstSeen', 'first seen'], ['online', 'state']]),
    select('order', page.desc ? 'desc' : 'asc', [['asc', 'ascending'], ['desc', 'descending']]),
    ' state ', select('online', page.online === undefined ? '' : String(page.online), [['', 'all'], ['true', 'online'], ['false', 'offline']]),
    ' device id contains ', el('input', { type: 'search', name: 'q', value: page.q, placeholder: 'filter', onchange: (e) => go({ q: e.target.value, offset: 0 }) }));
}

export function fleetView(data, go) {
  const rows = data.devices.map((d) => el('tr', { 'data-device': d.deviceId },
    el('th', { scope: 'row' }, d.deviceId),
    el('td', {}, el('span', { class: `dot ${d.online ? 'on' : 'off'}` }), d.online ? 'online' : 'offline'),
    el('td', { title: d.lastSeen }, ago(d.lastSeen)),
    el('td', {}, `${d.profile.arch}, ${d.profile.cores} cores`),
    el('td', {}, d.profile.cpuModel),
    el('td', { class: 'num' }, `${(d.profile.memoryBytes / 2 ** 30).toFixed(1)} GiB`),
    el('td', {}, `node ${d.profile.nodeVersion}, agent ${d.profile.agentVersion}`),
    el('td', { class: 'num' }, d.heartbeat ? `${d.heartbeat.loadPercent.toFixed(0)} %` : '–'),
    el('td', { class: 'num' }, d.heartbeat?.temperatureC != null ? `${d.heartbeat.temperatureC.toFixed(1)} °C` : '–'),
    el('td', {}, d.heartbeat?.activeJobId ?? '–')));
  // live: the fleet's counts come from the summary, the rows are one page; a static report holds every device
  const f = data.fleet;
  const counts = f ? `${f.devices} registered device(s); ${f.online} online. The views below show this page's devices.` : `${data.devices.length} registered device(s); ${data.devices.filter((d) => d.online).length} online.`;
  return section('fleet', 'Fleet', counts,
    data.page && go ? pagerControls(data.page, go) : null,
    data.devices.length === 0 ? el('p', { class: 'empty' }, data.page?.total === 0 && f?.devices ? 'No device on this page matches.' : 'No devices registered yet.') :
      el('table', { class: 'grid' },
        el('thead', {}, el('tr', {}, ['device', 'state', 'last seen', 'hardware', 'CPU', 'memory', 'software', 'load', 'temperature', 'running job'].map((h) => el('th', {}, h)))),
        el('tbody', {}, rows)));
}

const WORST = ['invalid', 'fails', 'fails-controls', 'survives-invalid-reference', 'degrades', 'survives', 'passes-controls', 'measured'];

export function matrixView(data) {
  const models = uniq(data.report.rows.map((r) => r.model));
  const blocks = models.map((model) => {
    const rows = data.report.rows.filter((r) => r.model === model);
    const devices = uniq(rows.map((r) => r.deviceId)).sort();
    const variants = uniq(rows.map((r) => r.variant)).sort(byVariant);
    return el('div', { class: 'model-block' }, el('h3', {}, `model ${model}`),
      el('table', { class: 'grid matrix', 'data-model': model },
        el('thead', {}, el('tr', {}, el('th', {}, 'variant \\ device'), devices.map((d) => el('th', {}, d)))),
        el('tbody', {}, variants.map((v) => el('tr', { 'data-variant': v }, el('th', { scope: 'row', class: 'variant-name' }, v), devices.map((d) => {
          const r = rows.find((x) => x.deviceId === d && x.variant === v);
          if (!r) return el('td', { class: 'empty' }, '–');
          // fp32's attention verdict judges the model itself (token relation), not compression: no cell colour
          const statuses = Object.entries(r.verdicts).filter(([p]) => !(v === 'fp32' && p === 'attention')).map(([, x]) => x.status);
          const worst = WORST.find((w) => statuses.includes(w));
          return el('td', { class: `cell-${VERDICTS[worst]?.cls ?? 'none'}`, 'data-device': d },
            el('div', { class: 'big' }, ms(cv(r, 'benchmark', 'p50Ms'))),
            el('div', {}, `p90 ${ms(cv(r, 'benchmark', 'p90Ms'))} · ${mb(cv(r, 'benchmark', 'sizeBytes'))}`),
            el('div', {}, `output drift vs fp32: ${v === 'fp32' ? '0 (ref.)' : fmt(cv(r, 'benchmark', 'driftVsFp32'))}`),
            r.crossDeviceOutlier ? el('div', { class: 'badge bad' }, `cross-device outlier (${fmt(r.driftVsFleet)})`) : null,
            el('div', { class: 'badges' }, Object.entries(r.verdicts).map(([p, s]) => el('span', {}, `${p} `, v === 'fp32' && p === 'attention' ? el('span', { class: 'badge ref' }, 'reference') : badge(s.status)))));
        }))))));
  });
  return section('matrix', 'Variants × devices', 'Latency (batch 1, p50 and p90), file size, output drift against fp32 on the same device (relative L2 of the pooled outputs) and each probe\'s verdict. Cell colour: the worst verdict in the cell.',
    blocks.length ? blocks : el('p', { class: 'empty' }, 'No benchmark or probe results yet.'));
}

export function outliersView(data) {
  const c = data.report.consistency;
  return section('outliers', 'Cross-device outliers', `Same model, variant and inputs should give the same outputs on every device. Relative L2 of each device's output fingerprint to the fleet median; tolerance ${data.report.tolerance}.`,
    c.length === 0 ? el('p', { class: 'empty' }, 'Needs the same model and variant benchmarked on at least two devices.') :
      el('table', { class: 'grid' },
        el('thead', {}, el('tr', {}, ['model', 'variant', 'devices', 'result', 'drift per device'].map((h) => el('th', {}, h)))),
        el('tbody', {}, c.map((g) => el('tr', {},
          el('td', {}, g.model), el('td', {}, g.variant), el('td', { class: 'num' }, g.devices),
          el('td', {}, g.identical ? el('span', { class: 'badge good' }, 'bit-identical') : g.outliers.length === 0 ? el('span', { class: 'badge good' }, 'consistent') : el('span', { class: 'badge bad' }, `outliers: ${g.outliers.join(', ')}`), g.note ? el('div', { class: 'muted' }, g.note) : null),
          el('td', {}, g.drift.map((d) => el('div', { class: d.outlier ? 'bad-text' : '' }, `${d.deviceId}: ${fmt(d.relL2)}`))))))));
}

export function jobsView(data) {
  const jobs = [...data.jobs].reverse();
  return section('jobs', 'Jobs', 'Every job on every device, newest first; progress updates live while devices work.',
    jobs.length === 0 ? el('p', { class: 'empty' }, 'No jobs yet.') :
      el('table', { class: 'grid' },
        el('thead', {}, el('tr', {}, ['job', 'device', 'state', 'progress', 'attempt', 'created', 'detail'].map((h) => el('th', {}, h)))),
        el('tbody', {}, jobs.map((t) => el('tr', { 'data-job': t.jobId, 'data-device': t.deviceId },
          el('td', {}, t.jobId), el('td', {}, t.deviceId),
          el('td', {}, el('span', { class: `badge ${t.state === 'completed' ? 'good' : ['failed', 'timed-out', 'rejected'].includes(t.state) ? 'bad' : t.state === 'cancelled' ? 'neutral' : 'warn'}` }, t.state)),
          el('td', {}, el('progress', { max: Math.max(1, t.total), value: t.done }), ` ${t.done}/${t.total}`),
          el('td', { class: 'num' }, t.attempt), el('td', { title: t.createdAt }, ago(t.createdAt)), el('td', { class: 'detail' }, t.detail ?? ''))))));
}
