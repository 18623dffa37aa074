// DOM and formatting helpers. Every text goes in through textContent: record summaries are free text.

export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'style') e.setAttribute('style', v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export function fmt(x, digits = 3) {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  if (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5)) return x.toExponential(1);
  return x.toFixed(digits);
}

export const mb = (bytes) => (bytes === null || bytes === undefined ? '–' : `${(bytes / 1e6).toFixed(2)} MB`);
export const ms = (x) => (x === null || x === undefined ? '–' : `${x < 10 ? x.toFixed(2) : x.toFixed(1)} ms`);

export function ago(iso, now = Date.now()) {
  const s = Math.max(0, (now - Date.parse(iso)) / 1000);
  if (s < 90) return `${Math.round(s)} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 129600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** Verdict -> colour class and the words an operator reads. */
export const VERDICTS = {
  survives: { cls: 'good', label: 'survives', text: 'explanation kept' },
  'survives-invalid-reference': { cls: 'bad', label: 'survives, fp32 invalid', text: 'matches fp32, but the fp32 explanation fails its sanity checks: nothing valid is kept' },
  'passes-controls': { cls: 'good', label: 'passes controls', text: 'beats its controls' },
  degrades: { cls: 'warn', label: 'degrades', text: 'explanation partly changed' },
  fails: { cls: 'bad', label: 'fails', text: 'explanation lost' },
  'fails-controls': { cls: 'bad', label: 'fails controls', text: 'score explained by a control' },
  invalid: { cls: 'broken', label: 'invalid', text: 'numbers broken (NaN/Inf/overflow)' },
  measured: { cls: 'neutral', label: 'measured', text: 'measurement, no verdict' },
};

export function badge(status, extra) {
  if (!status) return el('span', { class: 'badge none' }, 'not run');
  const v = VERDICTS[status] ?? { cls: 'neutral', label: status };
  return el('span', { class: `badge ${v.cls}`, 'data-verdict': status, title: v.text ?? '' }, v.label, extra ? ` ${extra}` : '');
}

/** Stable colours per variant across every chart. */
const VARIANT_COLOURS = { fp32: '#1f2937', fp16: '#2563eb', 'int8-dynamic': '#ea580c', 'int8-weight': '#9333ea' };
const SPARE = ['#0d9488', '#be123c', '#65a30d', '#a16207'];
export function variantColour(name, i = 0) {
  return VARIANT_COLOURS[name] ?? SPARE[i % SPARE.length];
}

// the server's variant order (core/variants: the one list of variant names), set when data arrives
let VARIANT_ORDER = [];
export function setVariantOrder(order) {
  VARIANT_ORDER = order ?? [];
}
export function byVariant(a, b) {
  const ia = VARIANT_ORDER.indexOf(a);
  const ib = VARIANT_ORDER.indexOf(b);
  return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
}

export function uniq(xs) {
  return [...new Set(xs)];
}

export function section(id, title, intro, ...body) {
  return el('section', { id }, el('h2', {}, title), intro ? el('p', { class: 'intro' }, intro) : null, ...body);
}

export function select(label, options, value, onchange, name) {
  const s = el('select', { name, onchange: (e) => onchange(e.target.value) }, options.map((o) => el('option', { value: o, selected: o === value }, o)));
  return el('label', { class: 'control' }, `${label} `, s);
}
