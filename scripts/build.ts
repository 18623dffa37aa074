/**
 * `npm run build`: the shipped JavaScript in dist/, so a device runs plain Node (no TypeScript loader,
 * whose worker thread alone costs ~30 MB of an agent's idle memory).
 *
 * - esbuild bundles cli/main.ts and each worker script into dist/ (flat), ESM with code splitting: every
 *   dynamic import() (commands, probe runners) becomes a chunk loaded on first use.
 * - Native modules stay external, and so do packages the code resolves at run time by name (yaml through
 *   createRequire, chart.js whose file the dashboard serves): they are dependencies installed beside the package.
 * - Assets keep their source paths: every module's import.meta.url is rewritten to its source file's URL
 *   under the package root (the same relative position as dist/../<path>), so the code's own
 *   `new URL('x', import.meta.url)` / dirname() lookups of the corpus, configs/, the dashboard's public/
 *   files and package.json find what the package's `files` list ships.
 */
import { rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'dist');

/** Scripts forked as their own process (core/build-layout.ts workerScript): each is its own entry point. */
export const WORKERS = ['probes/benchmark/measure-worker.ts', 'probes/properties/layer-worker.ts'];

/** Loaded at run time by name or are native: installed as dependencies, never bundled. */
export const EXTERNAL = ['onnxruntime-node', 'better-sqlite3', '@huggingface/tokenizers', 'yaml', 'chart.js', 'pg-native'];

/** Rewrites import.meta.url in the project's own modules to `<package root>/<source path>` (see above). */
const sourceUrls: Plugin = {
  name: 'edgeprobe-source-urls',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes('/node_modules/')) return undefined;
      const { readFile } = await import('node:fs/promises');
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return { contents: text, loader: 'ts' };
      const rel = relative(ROOT, args.path).split('\\').join('/');
      // every output file sits in dist/, so '../' from the running chunk is the package root
      const url = `new URL(${JSON.stringify(`../${rel}`)}, import.meta.url).href`;
      return { contents: text.replaceAll('import.meta.url', url), loader: 'ts' };
    });
  },
};

const MQTT_CONNECT = /[\\/]node_modules[\\/]mqtt[\\/]build[\\/]lib[\\/]connect[\\/]index\.js$/;

/**
 * mqtt.js's connect() fills its transport table on the first connection by requiring every transport: the
 * WebSocket one runs the ws package with http, https and zlib, the TLS one node:tls. An idle agent on plain
 * mqtt:// paid 3.2 MB RSS for them (Node 24). Each entry becomes a function that requires its transport when a
 * connection of that protocol is made. Throws if mqtt's source no longer has the pattern (the build fails
 * rather than silently shipping the eager table).
 */
export function lazyMqttTransportTable(text: string, path: string): string {
  let n = 0;
  const out = text.replace(/(protocols\.\w+ = )(require\('\.\/\w+'\)\.\w+);/g, (_, lhs: string, rhs: string) => {
    n++;
    return `${lhs}(...args) => ${rhs}(...args);`;
  });
  if (n < 7) throw new Error(`${path}: expected mqtt's transport table (protocols.mqtt = require('./tcp').default; ...), found ${n} entries; update lazyMqttTransportTable in scripts/build.ts for this mqtt version`);
  return out;
}

const lazyMqttTransports: Plugin = {
  name: 'edgeprobe-lazy-mqtt-transports',
  setup(b) {
    b.onLoad({ filter: MQTT_CONNECT }, async (args) => {
      const { readFile } = await import('node:fs/promises');
      return { contents: lazyMqttTransportTable(await readFile(args.path, 'utf8'), args.path), loader: 'js' };
    });
  },
};

export async function buildDist(outDir = OUT): Promise<{ outDir: string; files: string[]; seconds: number }> {
  const t0 = performance.now();
  rmSync(outDir, { recursive: true, force: true });
  const entryPoints: Record<string, string> = { main: join(ROOT, 'cli', 'main.ts') };
  for (const w of WORKERS) entryPoints[w.replace(/^.*\//, '').replace(/\.ts$/, '')] = join(ROOT, w);
  const result = await build({
    entryPoints, outdir: outDir, entryNames: '[name]', chunkNames: '[name]-[hash]',
    bundle: true, splitting: true, format: 'esm', platform: 'node', target: 'node22', minify: true,
    external: EXTERNAL, define: { __EDGEPROBE_BUILD__: 'true' }, plugins: [sourceUrls, lazyMqttTransports], metafile: true, logLevel: 'warning',
    // bundled CommonJS packages call require(); ESM output has none, so give each chunk one
    banner: { js: "import { createRequire as __epRequire } from 'node:module'; const require = __epRequire(import.meta.url);" },
  });
  return { outDir, files: Object.keys(result.metafile.outputs).map((f) => relative(ROOT, join(ROOT, f))), seconds: (performance.now() - t0) / 1000 };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = await buildDist();
  console.log(`built ${r.files.filter((f) => f.endsWith('.js')).length} files in ${relative(ROOT, r.outDir)}/ in ${r.seconds.toFixed(1)} s`);
}
