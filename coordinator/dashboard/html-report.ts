import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AttentionMapSource } from '../../probes/attention/schema.ts';
import type { BakedAttentionMaps, DashboardData } from './dashboard-data.ts';
import type { RolloutRow } from '../rollouts/rollout-view.ts';
import { chartJsPath, PUBLIC_DIR } from './server.ts';

const IMPORT_RE = /^import\s*\{([^}]*)\}\s*from\s*'\.\/([\w-]+)\.js';\s*$/gm;
const EXPORT_RE = /^export\s+(?:async\s+)?(?:function|const|let|class)\s+([A-Za-z_$][\w$]*)/gm;

/**
 * Joins the dashboard's ES modules into one inline script, because a page opened from file:// cannot
 * load sibling modules (Chromium blocks file:// module imports as cross-origin). Each module becomes a
 * function scope returning its exports, and its imports become destructuring of earlier modules. This
 * handles exactly the front end's own style (single-line named imports of relative files, `export`
 * before top-level declarations), which the test of the report checks; no bundler needed for six files.
 */
export function bundleModules(dir: string, entry: string): string {
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (name: string): void => {
    if (order.includes(name)) return;
    if (visiting.has(name)) throw new Error(`import cycle through ${name}.js`);
    visiting.add(name);
    for (const m of readFileSync(join(dir, `${name}.js`), 'utf8').matchAll(IMPORT_RE)) visit(m[2]);
    order.push(name);
  };
  visit(entry.replace(/\.js$/, ''));
  const id = (name: string): string => `__module_${name.replace(/\W/g, '_')}`;
  const parts = order.map((name) => {
    const src = readFileSync(join(dir, `${name}.js`), 'utf8');
    if (/^\s*import\s/m.test(src.replace(IMPORT_RE, ''))) throw new Error(`${name}.js: only single-line named imports of ./x.js files can be bundled`);
    const exports = [...src.matchAll(EXPORT_RE)].map((m) => m[1]);
    const body = src.replace(IMPORT_RE, (_all, names: string, from: string) => `const {${names}} = ${id(from)};`).replace(/^export\s+/gm, '');
    return `const ${id(name)} = (() => {\n${body}\nreturn { ${exports.join(', ')} };\n})();`;
  });
  return parts.join('\n');
}

/** Text inside <script>: a literal "</script" would end the element early. */
const scriptSafe = (s: string): string => s.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');

/** The dashboard as one self-contained HTML file: styles, Chart.js, the views and the data inlined (with the rollout table the live page asks /api/rollouts for). */
export function renderHtmlReport(data: DashboardData & { rollouts?: RolloutRow[] }): string {
  const html = readFileSync(join(PUBLIC_DIR, 'index.html'), 'utf8');
  const css = readFileSync(join(PUBLIC_DIR, 'style.css'), 'utf8');
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  const replaceOnce = (s: string, what: string, by: string): string => {
    if (!s.includes(what)) throw new Error(`index.html lost its "${what}" line; the report builder needs it`);
    return s.replace(what, () => by);
  };
  let out = replaceOnce(html, '<link rel="stylesheet" href="style.css">', `<style>\n${css}</style>`);
  out = replaceOnce(out, '<script src="vendor/chart.umd.min.js"></script>', `<script>${scriptSafe(readFileSync(chartJsPath(), 'utf8'))}</script>`);
  out = replaceOnce(out, '<script id="embedded-data" type="application/json"></script>', `<script id="embedded-data" type="application/json">${json}</script>`);
  out = replaceOnce(out, '<script type="module" src="app.js"></script>', `<script type="module">\n${scriptSafe(bundleModules(PUBLIC_DIR, 'app.js'))}\n</script>`);
  return out;
}

/** Maps of one sentence for every layer and variant, so the report shows heat maps without a server. */
export async function bakeAttentionMaps(maps: AttentionMapSource, model: string, variants: readonly string[], layers: number, sentence: string): Promise<BakedAttentionMaps> {
  const out: BakedAttentionMaps = { model, sentence, maps: [] };
  for (const variant of variants) {
    if (variant === 'fp32') continue;
    for (let layer = 1; layer <= layers; layer++) out.maps.push(await maps.maps(model, variant, sentence, layer));
  }
  return out;
}
