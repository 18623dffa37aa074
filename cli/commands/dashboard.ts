import type { EventEmitter } from 'node:events';
import { writeFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { createDaemonLog, type DaemonLog } from '../../core/daemon-log.ts';
import { epError } from '../../core/errors.ts';
import type { FleetStore } from '../../coordinator/store/store.ts';
import type { AttentionView } from '../../probes/attention/schema.ts';
import type { UserVariantSpec } from '../../agent/compress/user-variants.ts';

/** Options shared by `coordinator --http` and `dashboard`. */
export function httpOptions<T>(y: Argv<T>) {
  return y
    .option('http-host', { type: 'string', default: '127.0.0.1', describe: 'dashboard bind address; anything but loopback requires a token' })
    .option('http-token', { type: 'string', describe: 'dashboard token (else EDGEPROBE_DASHBOARD_TOKEN; generated and printed when binding beyond loopback)' })
    .option('model', { type: 'string', array: true, describe: 'NAME=DIR: a local copy of a model, for attention heat maps (repeatable)' })
    .option('map-variant', { type: 'string', array: true, describe: '[MODEL:]NAME=PATH: a local copy of a user-supplied variant file, so its heat maps can be shown (repeatable; MODEL may be left out with one --model)' });
}

/**
 * `--map-variant [MODEL:]NAME=PATH` -> model -> user variant files. The name is the one the records carry;
 * the model prefix may be left out when one --model is given.
 */
export async function parseMapVariants(list: readonly string[] | undefined, dirs: Record<string, string>): Promise<Record<string, UserVariantSpec[]>> {
  if (!list?.length) return {};
  const { parseUserVariantFlags } = await import('../../agent/compress/user-variants.ts');
  const models = Object.keys(dirs);
  const out: Record<string, UserVariantSpec[]> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    const colon = item.indexOf(':');
    const prefixed = colon > 0 && (eq < 0 || colon < eq);
    const model = prefixed ? item.slice(0, colon) : models.length === 1 ? models[0] : undefined;
    if (model === undefined || !models.includes(model)) throw epError('EP_MAP_VARIANT_MODEL', { item: JSON.stringify(item), models: models.join(', ') || 'none' });
    const [spec] = parseUserVariantFlags(prefixed ? item.slice(colon + 1) : item, '--map-variant');
    if ((out[model] ??= []).some((s) => s.name === spec.name)) throw epError('EP_USER_VARIANT_DUPLICATE', { name: spec.name, source: '--map-variant' });
    out[model].push(spec);
  }
  return out;
}

/** `--model name=dir` pairs; the name is what the agents' configs and the records call the model. */
export function parseModelDirs(list: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const i = item.indexOf('=');
    if (i <= 0 || i === item.length - 1) throw epError('EP_MODEL_DIR_FLAG_INVALID', { item: JSON.stringify(item) });
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

function checkPort(port: unknown): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) throw epError('EP_FLAG_OUT_OF_RANGE', { flag: 'http', range: 'a TCP port, 0..65535', value: String(port), example: '0 (0 picks a free port)' });
  return port;
}

export interface DashboardArgs { http: number; 'http-host': string; 'http-token'?: string; model?: string[]; 'map-variant'?: string[] }

/** Starts the dashboard server; prints its URL (and the login link with a generated token). Returns a stopper. */
export async function startDashboard(store: FleetStore, args: DashboardArgs, log: DaemonLog, changes?: EventEmitter<{ change: [string] }>): Promise<() => Promise<void>> {
  const { startDashboardServer } = await import('../../coordinator/dashboard/server.ts');
  const dirs = parseModelDirs(args.model);
  const userFiles = await parseMapVariants(args['map-variant'], dirs);
  const maps = Object.keys(dirs).length ? new (await import('../../probes/attention/attention-maps.ts')).AttentionMapService(dirs, undefined, userFiles) : undefined;
  const server = await startDashboardServer({ store, host: args['http-host'], port: checkPort(args.http), token: args['http-token'] || process.env.EDGEPROBE_DASHBOARD_TOKEN || undefined, changes, maps });
  const login = server.policy.token ? `${server.url}login?token=${encodeURIComponent(server.policy.token)}` : server.url;
  log.info('dashboard listening', { url: server.url, access: server.policy.token ? 'token required' : 'loopback, no token' });
  // the generated token goes to stdout once, like a Jupyter login link; it is never logged elsewhere
  if (server.policy.generated) process.stdout.write(`dashboard token (generated; set --http-token or EDGEPROBE_DASHBOARD_TOKEN to keep one): ${server.policy.token}\nopen: ${login}\n`);
  return async () => {
    await server.close();
    await maps?.close();
  };
}

export interface HtmlReportArgs { html: string; model?: string[]; 'map-variant'?: string[]; sentence?: string; tolerance: number }

/** `report --html`: the dashboard's views in one file, with heat maps of one sentence when a model copy is given. */
export async function writeHtmlReport(store: FleetStore, args: HtmlReportArgs): Promise<{ path: string; bytes: number; results: number }> {
  const { dashboardDataFromStore } = await import('../../coordinator/dashboard/dashboard-data.ts');
  const { bakeMonitoring } = await import('../../coordinator/monitoring/monitoring-summary.ts');
  const { renderHtmlReport, bakeAttentionMaps } = await import('../../coordinator/dashboard/html-report.ts');
  let data = await dashboardDataFromStore(store, { tolerance: args.tolerance });
  data = { ...data, monitoring: await bakeMonitoring(store, data.report.rows) };
  const dirs = parseModelDirs(args.model);
  const [model] = Object.keys(dirs);
  if (model) {
    const { AttentionMapService } = await import('../../probes/attention/attention-maps.ts');
    const { builtInCorpus } = await import('../../core/corpus/sentence-corpus.ts');
    const userFiles = await parseMapVariants(args['map-variant'], { [model]: dirs[model] });
    const maps = new AttentionMapService({ [model]: dirs[model] }, undefined, userFiles);
    try {
      const attention = (data.views.attention ?? []) as AttentionView[];
      const rec = attention.find((a) => a.model === model);
      const variants = [...new Set(attention.filter((a) => a.model === model).map((a) => a.variant))];
      const baked = await bakeAttentionMaps(maps, model, variants.length > 1 ? variants : ['int8-dynamic'], rec?.layers ?? 1, args.sentence ?? builtInCorpus(1, 1).sentences[0]);
      data = { ...data, attentionMaps: { ...data.attentionMaps, baked } };
    } finally {
      await maps.close();
    }
  }
  // the rollout table rides beside the data document (its own view, like the live page's /api/rollouts)
  const { rolloutTable } = await import('../../coordinator/rollouts/rollout-view.ts');
  const html = renderHtmlReport({ ...data, rollouts: await rolloutTable(store.sql()) });
  writeFileSync(args.html, html);
  return { path: args.html, bytes: Buffer.byteLength(html), results: data.report.results };
}

export function dashboardCommand(y: Argv): Argv {
  return y.command('dashboard', 'read-only dashboard over a coordinator database, without MQTT (polls the database for changes)', (c) => httpOptions(c
    .option('db', { type: 'string', default: '.edgeprobe/fleet.sqlite', describe: 'the coordinator\'s store: a SQLite file, or a postgres://user:pass@host:port/db URL' })
    .option('http', { type: 'number', default: 8080, describe: 'dashboard port' })),
  async (args) => {
    const { openFleetStore } = await import('../../coordinator/store/open-store.ts');
    const store = await openFleetStore(args.db as string);
    const log = createDaemonLog('dashboard', args.json as boolean);
    const stop = await startDashboard(store, args as unknown as DashboardArgs, log);
    await new Promise<void>((resolve) => {
      const onSignal = (): void => { void stop().finally(async () => { await store.close(); resolve(); }); };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    });
  });
}
