// Per-layer attention curves, the layer x variant divergence heat map, property inference vs controls.

import { barChart, heatLegend, heatTable, lineChart } from './charts.js';
import { badge, byVariant, el, fmt, section, select, uniq } from './dom.js';

const STATUS_COLOURS = { survives: '#16a34a', degrades: '#f59e0b', fails: '#dc2626' };
const layerLabels = (n, from = 0) => Array.from({ length: n - from + 1 }, (_, i) => (i + from === 0 ? 'emb' : `L${i + from}`));

/** Devices with records for the model; `state.device[model]` remembers the operator's choice. */
function devicePicker(state, model, devices, rerender) {
  const current = devices.includes(state.device[model]) ? state.device[model] : devices[0];
  state.device[model] = current;
  return { current, control: devices.length > 1 ? select('device', devices, current, (v) => { state.device[model] = v; rerender(); }, `device-${model}`) : el('span', { class: 'muted' }, `device ${current}`) };
}

export function attentionView(data, state, rerender) {
  const attention = data.views.attention ?? [];
  const models = uniq(attention.map((a) => a.model));
  const blocks = models.map((model) => {
    const { current, control } = devicePicker(state, model, uniq(attention.filter((a) => a.model === model).map((a) => a.deviceId)).sort(), rerender);
    const recs = attention.filter((a) => a.model === model && a.deviceId === current).sort((a, b) => byVariant(a.variant, b.variant));
    const L = recs[0].layers;
    const variants = recs.filter((r) => r.survival);
    const maxJs = Math.max(1e-9, ...variants.flatMap((v) => v.survival.flatMap((l) => l.jsPerHead)));
    return el('div', { class: 'model-block', 'data-model': model }, el('h3', {}, `model ${model} `, control),
      el('div', { class: 'verdict-line' }, recs.map((r) => el('span', { class: 'verdict-chip', title: r.summary }, `${r.variant}: `, r.variant === 'fp32' ? el('span', { class: 'badge ref' }, `token relation up to layer ${r.supportedUpToLayer}`) : badge(r.status)))),
      el('p', { class: 'muted' }, 'Grey band: fp32. A variant line on the band matches fp32.'),
      el('div', { class: 'charts' },
        lineChart({ name: `identifiability-${model}`, title: 'Token identifiability per layer (higher = attention still points at input tokens)', xLabel: 'layer (emb = embeddings)', yLabel: 'fraction of tokens identifiable', labels: layerLabels(L), yMin: 0, yMax: 1,
          series: recs.map((r) => ({ label: r.variant, data: r.nearest, reference: r.variant === 'fp32' })) }),
        lineChart({ name: `rollout-${model}`, title: 'Rollout self-contribution per layer (share of a position that is still its own token)', xLabel: 'layer (emb = embeddings)', yLabel: 'self-contribution (0-1)', labels: layerLabels(L), yMin: 0, yMax: 1,
          series: recs.map((r) => ({ label: r.variant, data: r.selfContribution, reference: r.variant === 'fp32' })) }),
        variants.length ? lineChart({ name: `survival-${model}`, title: 'Attention survival: JS divergence from fp32, worst head per layer (lower = kept; dot colour = layer verdict)', xLabel: 'layer', yLabel: 'JS divergence (nats, log scale)', labels: layerLabels(L, 1), logY: true,
          series: variants.map((r) => ({ label: r.variant, data: r.survival.map((l) => l.maxJs), pointColours: r.survival.map((l) => STATUS_COLOURS[l.status] ?? '#6b7280') })) }) : null),
      variants.length ? el('div', { class: 'heads' }, el('h4', {}, 'JS divergence from fp32 per head (rows: layers; red outline: layer judged "fails")'),
        heatLegend('JS (nats)', 0, maxJs, 12, 'sqrt colour scale'),
        el('div', { class: 'heat-row' }, variants.map((v) => el('div', {}, el('div', { class: 'heat-title' }, v.variant, ' ', badge(v.status)),
          heatTable({ name: `heads-${model}-${v.variant}`, cornerLabel: 'layer \\ head', rowLabels: v.survival.map((l) => `L${l.layer}`), colLabels: v.survival[0].jsPerHead.map((_, h) => `h${h}`),
            values: v.survival.map((l) => l.jsPerHead), scale: (x) => Math.sqrt(x / maxJs), hue: 12, mark: (i) => v.survival[i].status === 'fails' }))))) : null);
  });
  return section('attention', 'Attention explanations per layer', 'Identifiability and rollout show up to which layer attention can be read as a relation between input tokens at all (fp32 and every variant); survival shows how far each compressed variant\'s attention moved from fp32.',
    blocks.length ? blocks : el('p', { class: 'empty' }, 'No attention probe records yet.'));
}

export function divergenceView(data, state, rerender) {
  const divergence = data.views.divergence ?? [];
  const models = uniq(divergence.map((c) => c.model));
  const blocks = models.map((model) => {
    const { current, control } = devicePicker(state, model, uniq(divergence.filter((c) => c.model === model).map((c) => c.deviceId)).sort(), rerender);
    const recs = divergence.filter((c) => c.model === model && c.deviceId === current).sort((a, b) => byVariant(a.variant, b.variant));
    const layers = recs[0].layers.map((l) => l.layer);
    const values = layers.map((_, i) => recs.map((r) => r.layers[i]?.relativeL2 ?? null));
    const max = Math.max(1e-9, ...values.flat().filter((x) => x !== null));
    return el('div', { class: 'model-block', 'data-model': model }, el('h3', {}, `model ${model} `, control),
      heatLegend('relative L2 error of hidden states vs fp32', 0, max, 12, 'sqrt colour scale'),
      heatTable({ name: `drift-${model}`, cornerLabel: 'layer \\ variant', rowLabels: layers.map((l) => (l === 0 ? 'embeddings' : `layer ${l}`)), colLabels: recs.map((r) => r.variant),
        values, scale: (x) => Math.sqrt(x / max), hue: 12, mark: (i, j) => recs[j].jumpLayer === layers[i] }),
      el('ul', { class: 'notes' }, recs.map((r) => el('li', {}, `${r.variant}: `, r.jumpLayer === null ? `error grows evenly (largest increase at layer ${r.worstLayer})` : el('strong', {}, `error jumps at layer ${r.jumpLayer} (outlined)`), r.gateOk ? '' : el('span', { class: 'badge broken' }, 'numeric gate failed')))));
  });
  return section('divergence', 'Where does compression error appear? (layer × variant)', 'Relative L2 distance of each layer\'s hidden states from fp32 on the same sentences (compare probe). An outlined cell is the layer where the error jumps.',
    blocks.length ? blocks : el('p', { class: 'empty' }, 'No compare probe records yet.'));
}

export function propertiesView(data) {
  const p = data.views.properties ?? [];
  if (p.length === 0) {
    return section('properties', 'Property inference vs controls', null, el('p', { class: 'empty' }, 'No property-inference records yet (probe "properties": embeddings mapped to McRae / Buchanan / Binder norms with Sys, Prior, Upper, Shuffle, Shuf-Upper, both Rand forms and the category controls).'));
  }
  const columns = p[0].controls.map((c) => c.label);
  const sets = uniq(p.map((r) => r.normSet));
  const charts = sets.map((set) => {
    const rows = p.filter((r) => r.normSet === set).sort((a, b) => byVariant(a.variant, b.variant) || a.deviceId.localeCompare(b.deviceId));
    const series = rows.map((r) => ({ label: `${r.variant}${uniq(rows.map((x) => x.deviceId)).length > 1 ? ` @ ${r.deviceId}` : ''}`, data: r.controls.map((c) => c.estimate) }));
    if (rows[0].paper) series.push({ label: 'paper', data: rows[0].paper, colour: '#9ca3af' });
    return barChart({ name: `properties-${set}`, title: `${set}: ${rows[0].metric} per control (expected: Rand << Shuffle < Sys <= Upper)`, xLabel: 'control', yLabel: rows[0].metric, labels: columns, series });
  });
  const table = el('table', { class: 'grid paper-table' },
    el('thead', {}, el('tr', {}, ['norm set', 'variant', 'device', 'layer', 'metric', ...columns, 'verdict'].map((h) => el('th', {}, h)))),
    el('tbody', {}, p.map((r) => el('tr', { 'data-norms': r.normSet, 'data-variant': r.variant },
      el('td', {}, r.normSet), el('td', {}, r.variant), el('td', {}, r.deviceId), el('td', {}, r.layer), el('td', {}, r.metric),
      r.controls.map((c) => el('td', { class: `num${c.key === 'sys' ? ' strong' : ''}`, title: c.low !== null ? `95% CI ${fmt(c.low)}..${fmt(c.high)}` : '' }, fmt(c.estimate))),
      el('td', {}, badge(r.status), r.passes ? '' : ` explained by ${r.explanation ?? 'a control'} (${r.explainedBy.join(', ')})`, r.rankingChanged ? el('div', { class: 'muted' }, 'layer ranking changed vs fp32') : null)))));
  return section('properties', 'Property inference vs controls', 'Rows: norm sets (best layer by Sys, an exploratory choice), columns: the paper\'s controls and the ones edgeprobe adds. Sys must beat Prior, Shuffle, both Rand forms and Cat-shuffle by a stated margin with Holm-corrected significance to pass; grey bars are the paper\'s values.',
    el('div', { class: 'charts' }, charts), table);
}

/**
 * A probe without a view of its own (one added by a deployment, say): its report cells per device x
 * variant, from the fleet report, so every registered probe shows up without front-end code.
 */
export function genericProbeView(data, probe) {
  const columns = data.report.columns.filter((c) => c.probe === probe.kind);
  const rows = data.report.rows.filter((r) => r.cells[probe.kind] || r.verdicts[probe.kind]).sort((a, b) => a.model.localeCompare(b.model) || a.deviceId.localeCompare(b.deviceId) || byVariant(a.variant, b.variant));
  return section(probe.kind, probe.title, null,
    rows.length === 0 ? el('p', { class: 'empty' }, `No ${probe.kind} results yet.`) :
      el('table', { class: 'grid', 'data-probe': probe.kind },
        el('thead', {}, el('tr', {}, ['device', 'model', 'variant', 'verdict', ...columns.map((c) => c.header)].map((h) => el('th', {}, h)))),
        el('tbody', {}, rows.map((r) => el('tr', { 'data-device': r.deviceId, 'data-variant': r.variant },
          el('td', {}, r.deviceId), el('td', {}, r.model), el('th', { scope: 'row', class: 'variant-name' }, r.variant),
          el('td', {}, r.verdicts[probe.kind] ? badge(r.verdicts[probe.kind].status) : '–'),
          columns.map((c) => el('td', { class: 'num' }, r.cells[probe.kind]?.[c.key]?.text ?? '–')))))));
}

/**
 * Induction heads (decoder-only LMs), per model and device: fp32's per-head induction scores (layer x head,
 * induction heads outlined), then each variant's verdict with the fp32 induction heads it keeps and destroys
 * (score under the threshold), both scores per head, and the in-context copying accuracy.
 */
export function inductionView(data, state, rerender) {
  const induction = data.views.induction ?? [];
  const models = uniq(induction.map((r) => r.model));
  const blocks = models.map((model) => {
    const { current, control } = devicePicker(state, `induction:${model}`, uniq(induction.filter((r) => r.model === model).map((r) => r.deviceId)).sort(), rerender);
    const recs = induction.filter((r) => r.model === model && r.deviceId === current).sort((a, b) => byVariant(a.variant, b.variant));
    const fp32 = recs.find((r) => r.variant === 'fp32');
    const variants = recs.filter((r) => r.variant !== 'fp32');
    // the heads fp32 found, from its record or (when only variants arrived) from the variants' survival lists
    const names = uniq([...(fp32?.heads ?? []), ...variants.flatMap((v) => v.heads)].map((h) => h.name));
    const threshold = recs[0].threshold;
    const headCell = (v, name) => {
      const h = v.heads.find((x) => x.name === name);
      if (!h) return el('td', { class: 'num muted' }, '–');
      const cls = h.survives === false ? 'bad' : h.survives === true ? 'good' : '';
      return el('td', { class: `num ${cls}`.trim(), 'data-head': name, 'data-survives': h.survives === null ? undefined : String(h.survives), title: h.fp32Score === null ? `score ${fmt(h.score, 4)}` : `fp32 ${fmt(h.fp32Score, 4)} -> ${fmt(h.score, 4)}` },
        fmt(h.score), h.survives === false ? ' destroyed' : h.survives === true ? ' kept' : '');
    };
    const fate = (v) => (v.heads.length === 0 ? 'none to survive (fp32 has no induction head)' : v.destroyed.length === 0 ? `all ${v.kept.length} kept` : `destroyed: ${v.destroyed.join(', ')}${v.kept.length ? `; kept: ${v.kept.join(', ')}` : ''}`);
    const reference = fp32 ?? recs[0];
    return el('div', { class: 'model-block', 'data-model': model }, el('h3', {}, `model ${model} `, control),
      el('div', { class: 'verdict-line' }, recs.map((r) => el('span', { class: 'verdict-chip', title: r.summary }, `${r.variant}: `, r.variant === 'fp32' ? el('span', { class: 'badge ref' }, `${r.heads.length} induction head${r.heads.length === 1 ? '' : 's'}`) : badge(r.status)))),
      el('p', { class: 'muted' }, `A head is an induction head at score >= ${fmt(threshold, 2)} (uniform causal attention scores ${fmt(reference.uniformScore)}); a variant destroys a head when its score falls under the threshold.`),
      el('div', { class: 'heads' }, el('h4', {}, `Induction score per head, ${reference.variant} (rows: layers; outlined: induction heads)`),
        heatLegend('induction score', 0, 1, 140),
        heatTable({ name: `induction-${model}`, cornerLabel: 'layer \\ head', rowLabels: reference.scores.map((_, l) => `L${l + 1}`), colLabels: reference.scores[0].map((_, h) => `h${h}`),
          values: reference.scores, scale: (x) => Math.min(1, Math.max(0, x)), hue: 140, mark: (l, h) => reference.scores[l][h] >= threshold })),
      el('table', { class: 'grid', 'data-induction': model },
        el('thead', {}, el('tr', {}, ['variant', 'verdict', ...names, 'copying accuracy', 'heads'].map((h) => el('th', {}, h)))),
        el('tbody', {}, recs.map((v) => el('tr', { 'data-variant': v.variant },
          el('th', { scope: 'row', class: 'variant-name' }, v.variant), el('td', {}, badge(v.status)),
          names.map((n) => headCell(v, n)),
          el('td', { class: 'num', title: v.copyingAccuracyFp32 === null ? '' : `fp32 ${fmt(v.copyingAccuracyFp32)}` }, fmt(v.copyingAccuracy)),
          el('td', {}, v.variant === 'fp32' ? (v.heads.length ? `found: ${v.heads.map((h) => h.name).join(', ')}` : 'none found') : fate(v)))))));
  });
  return section('induction', 'Induction heads: which survive each variant', 'Induction score: mean attention from the second occurrence of a token to the position after its first occurrence, on repeated random token sequences (decoder-only LMs). Copying accuracy: share of the repeated half predicted from the first half.',
    blocks.length ? blocks : el('p', { class: 'empty' }, 'No induction probe records yet (probe "induction", decoder-only models).'));
}
