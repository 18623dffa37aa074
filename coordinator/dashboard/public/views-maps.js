// Attention heat maps for a chosen sentence, layer and head: fp32 beside a variant. The live server
// computes them on demand from the coordinator's local copy of the model; a report carries baked maps.

import { heatLegend, heatTable } from './charts.js';
import { el, fmt, section, select, uniq } from './dom.js';

/** Big cells for short sentences, small ones for long: the pair should fit side by side. */
const cellPx = (n) => Math.max(10, Math.min(28, Math.floor(380 / n)));

function mapTable(name, tokens, matrix, hue = 220) {
  return heatTable({ name, cornerLabel: 'query \\ key', rowLabels: tokens, colLabels: tokens, values: matrix, scale: (x) => Math.sqrt(x), hue, showValues: false, cellPx: cellPx(tokens.length) });
}

/** The coordinator rebuilt the variant itself: say whether it is byte-identical to what the devices ran. */
function shaCheck(pair, recorded) {
  const shas = uniq(recorded.filter((a) => a.model === pair.model && a.variant === pair.variant).map((a) => a.variantSha256));
  if (shas.length === 0) return el('p', { class: 'sha-check muted' }, `no device has recorded ${pair.variant} yet; maps from the coordinator's build (sha256 ${pair.variantSha256.slice(0, 12)}…)`);
  return shas.every((s) => s === pair.variantSha256)
    ? el('p', { class: 'sha-check muted' }, `same variant file as the devices ran (sha256 ${pair.variantSha256.slice(0, 12)}…)`)
    : el('p', { class: 'sha-check error' }, `the coordinator's ${pair.variant} (sha256 ${pair.variantSha256.slice(0, 12)}…) differs from the devices' (${shas.map((s) => `${s.slice(0, 12)}…`).join(', ')}): maps may not match their records`);
}

function pairView(pair, head, recorded) {
  const h = Math.min(head, pair.heads - 1);
  return el('div', { class: 'map-pair', 'data-map': `${pair.variant}-L${pair.layer}-h${h}` },
    shaCheck(pair, recorded),
    el('div', { class: 'heat-row' }, heatLegend('attention weight', 0, 1, 220, 'sqrt colour scale'), heatLegend('|variant - fp32|', 0, 1, 12, 'sqrt colour scale')),
    el('div', { class: 'heat-row' },
      el('div', {}, el('div', { class: 'heat-title' }, `fp32 · layer ${pair.layer} · head ${h}`), mapTable('map-fp32', pair.tokens, pair.fp32[h])),
      el('div', {}, el('div', { class: 'heat-title' }, `${pair.variant} · layer ${pair.layer} · head ${h}`), mapTable('map-variant', pair.tokens, pair.compressed[h])),
      el('div', {}, el('div', { class: 'heat-title' }, `difference (where ${pair.variant} moved attention)`),
        mapTable('map-diff', pair.tokens, pair.fp32[h].map((row, q) => row.map((x, k) => Math.abs(pair.compressed[h][q][k] - x))), 12))),
    el('p', { class: 'muted' }, `JS divergence fp32 vs ${pair.variant} per head (nats, mean over query tokens): `, pair.jsPerHead.map((x, i) => `h${i} ${fmt(x)}`).join(' · ')));
}

export function mapsView(data, state, rerender, api) {
  const attention = data.views.attention ?? [];
  const baked = data.attentionMaps.baked;
  const models = baked ? [baked.model] : data.attentionMaps.models;
  if (models.length === 0) {
    return section('maps', 'Attention heat maps', null, el('p', { class: 'empty' }, 'Attention maps are computed on the coordinator from its own copy of the model: start the dashboard with --model NAME=DIR to enable them.'));
  }
  const m = state.maps;
  m.model = models.includes(m.model) ? m.model : models[0];
  const recorded = uniq(attention.filter((a) => a.model === m.model && a.variant !== 'fp32').map((a) => a.variant));
  const variants = baked ? uniq(baked.maps.map((p) => p.variant)) : (recorded.length ? recorded : data.variantOrder.filter((v) => v !== 'fp32'));
  m.variant = variants.includes(m.variant) ? m.variant : variants[variants.length - 1];
  const layers = baked ? uniq(baked.maps.map((p) => p.layer)) : Array.from({ length: attention.find((a) => a.model === m.model)?.layers ?? 1 }, (_, i) => i + 1);
  m.layer = layers.includes(Number(m.layer)) ? Number(m.layer) : layers[layers.length - 1];
  m.head = Number(m.head ?? 0);
  const sentences = baked ? [baked.sentence] : state.sentences;
  // the shortest sample keeps the default map readable
  m.sentence = m.sentence ?? [...sentences].sort((a, b) => a.length - b.length)[0] ?? '';
  const heads = attention.find((a) => a.model === m.model)?.heads ?? baked?.maps[0]?.heads ?? 1;
  const target = el('div', { class: 'map-target' });
  const controls = el('div', { class: 'controls' },
    select('model', models, m.model, (v) => { m.model = v; rerender(); }, 'map-model'),
    select('variant', variants, m.variant, (v) => { m.variant = v; rerender(); }, 'map-variant'),
    select('layer', layers.map(String), String(m.layer), (v) => { m.layer = Number(v); rerender(); }, 'map-layer'),
    select('head', Array.from({ length: heads }, (_, i) => String(i)), String(m.head), (v) => { m.head = Number(v); rerender(); }, 'map-head'),
    baked ? el('span', { class: 'muted' }, `sentence: "${baked.sentence}"`) :
      el('label', { class: 'control wide' }, 'sentence ', el('input', { name: 'map-sentence', list: 'sample-sentences', value: m.sentence, onchange: (e) => { m.sentence = e.target.value; rerender(); } }),
        el('datalist', { id: 'sample-sentences' }, sentences.map((s) => el('option', { value: s })))));
  if (baked) {
    const pair = baked.maps.find((p) => p.variant === m.variant && p.layer === m.layer);
    target.append(pair ? pairView(pair, m.head, attention) : el('p', { class: 'empty' }, 'not in this report'));
  } else {
    target.append(el('p', { class: 'muted' }, 'computing…'));
    api.maps(m).then((pair) => target.replaceChildren(pairView(pair, m.head, attention))).catch((err) => target.replaceChildren(el('p', { class: 'error' }, String(err.message ?? err))));
  }
  return section('maps', 'Attention heat maps', 'Attention weights of one head for one sentence (rows: the token attending, columns: the token attended to), fp32 beside the chosen variant. Computed from the model, not from device records: they depend on model and variant bytes only.', controls, target);
}
