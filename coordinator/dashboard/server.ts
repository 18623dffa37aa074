import type { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance } from 'fastify';
import { builtInCorpus } from '../../core/corpus/sentence-corpus.ts';
import { isEdgeprobeError } from '../../core/errors.ts';
import type { FleetStore } from '../store/store.ts';
import { accessPolicy, isLoginRoute, presentedToken, TOKEN_COOKIE, tokenMatches, type AccessPolicy } from './access.ts';
import type { AttentionMapSource } from '../../probes/attention/schema.ts';
import { alertsPage, timeline } from '../monitoring/timeline.ts';
import { rolloutTable } from '../rollouts/rollout-view.ts';
import { recentJobTargets } from '../report/record-view.ts';
import { dashboardPage, devicePage, fleetSummary, PAGE_JOB_TARGETS, parsePageQuery } from './dashboard-views.ts';
import { changedSince } from './live-changes.ts';


/** how long a view may answer from its cached document while the store's version is unchanged */
const DATA_MAX_AGE_MS = 5000;
/** cached view documents (a few open pages and the summary share them) */
const CACHE_ENTRIES = 32;
export const PUBLIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'public');

/** Chart.js's self-contained UMD build, served from the installed package: no CDN, works offline. */
export function chartJsPath(): string {
  return join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');
}

export interface DashboardServerOptions {
  store: FleetStore;
  host: string;
  port: number;
  /** --http-token / EDGEPROBE_DASHBOARD_TOKEN */
  token?: string;
  /** the in-process coordinator's ingest events; without them the store is polled (`edgeprobe dashboard`) */
  changes?: EventEmitter<{ change: [string] }>;
  pollMs?: number;
  maps?: AttentionMapSource;
  tolerance?: number;
  /** how long a view answers from its cached document while the store's version is unchanged (0: build every call, as the bench measures) */
  cacheMs?: number;
}

export interface DashboardServer {
  url: string;
  policy: AccessPolicy;
  app: FastifyInstance;
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  // inline style attributes colour the heat-map cells; scripts only from this origin
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * Read-only dashboard and JSON API over the coordinator's store. Loopback binds are open; any other
 * bind requires the token on every request (there are no write endpoints at all).
 */
export async function startDashboardServer(opts: DashboardServerOptions): Promise<DashboardServer> {
  const policy = accessPolicy(opts.host, opts.token);
  const app = Fastify({ logger: false });
  const sample = builtInCorpus(1, 12).sentences;
  const chartJs = readFileSync(chartJsPath());

  app.addHook('onRequest', async (req, reply) => {
    void reply.headers(SECURITY_HEADERS);
    // only the login route itself is open (exactly: a prefix test let /login-anything and /login/../api through)
    if (!policy.token || isLoginRoute(req.method, req.routeOptions.url)) return;
    if (!tokenMatches(policy.token, presentedToken(req.headers, req.query as Record<string, unknown>))) {
      return reply.code(401).type('text/plain').send('edgeprobe dashboard: token required (open the login link printed at start, or send Authorization: Bearer TOKEN)\n');
    }
  });

  // the printed link: sets an HttpOnly cookie so the token leaves the address bar and the history
  app.get('/login', async (req, reply) => {
    const { token } = req.query as { token?: string };
    if (!policy.token) return reply.redirect('/');
    if (!tokenMatches(policy.token, token ?? null)) return reply.code(401).type('text/plain').send('wrong token\n');
    return reply.header('set-cookie', `${TOKEN_COOKIE}=${encodeURIComponent(policy.token)}; HttpOnly; SameSite=Strict; Path=/`).redirect('/');
  });

  await app.register(fastifyStatic, { root: PUBLIC_DIR, prefix: '/' });
  app.get('/vendor/chart.umd.min.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(chartJs));

  // one document per store version and query: browsers refetch a section on a change event that touches
  // it, and several open pages (or a page and a script) share one build; a version-blind change (a job
  // created, not yet claimed) shows within DATA_MAX_AGE_MS
  const cache = new Map<string, { version: string; atMs: number; data: Promise<unknown> }>();
  const cached = async (key: string, build: () => Promise<unknown>): Promise<unknown> => {
    const version = JSON.stringify(await opts.store.dataVersion());
    const hit = cache.get(key);
    if (hit && hit.version === version && Date.now() - hit.atMs <= (opts.cacheMs ?? DATA_MAX_AGE_MS)) return hit.data;
    const data = build();
    cache.delete(key);
    cache.set(key, { version, atMs: Date.now(), data });
    if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
    data.catch(() => { if (cache.get(key)?.data === data) cache.delete(key); });
    return data;
  };
  const pageOf = (req: { query: unknown }) => parsePageQuery(req.query as Record<string, string | undefined>);
  // views that scale (dashboard-views.ts): a page of devices with everything drawn for them, the fleet summary
  app.get('/api/data', async (req, reply) => {
    const p = pageOf(req);
    if (typeof p === 'string') return reply.code(400).send({ error: p });
    return cached(`data ${JSON.stringify(p)}`, () => dashboardPage(opts.store.sql(), p, { tolerance: opts.tolerance, mapModels: opts.maps?.modelNames() ?? [] }));
  });
  app.get('/api/summary', async () => cached('summary', () => fleetSummary(opts.store.sql())));
  app.get('/api/jobs', async () => cached('jobs', async () => ({ jobs: await recentJobTargets(opts.store.sql(), PAGE_JOB_TARGETS) })));
  app.get('/api/devices', async (req, reply) => {
    const p = pageOf(req);
    if (typeof p === 'string') return reply.code(400).send({ error: p });
    return cached(`devices ${JSON.stringify(p)}`, () => devicePage(opts.store.sql(), p));
  });
  app.get('/api/sentences', async () => ({ sentences: sample }));
  // monitoring (docs/monitoring.md): one series' timeline in a time window, and pages of alerts; both are
  // indexed queries on the store, not a read of every result
  app.get('/api/timeline', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    if (!q.device || !q.model || !q.variant) return reply.code(400).send({ error: 'pass device, model and variant (and optionally since, until as ISO times, limit)' });
    const ms = (t: string | undefined) => (t === undefined ? undefined : Date.parse(t));
    const since = ms(q.since), until = ms(q.until);
    if (Number.isNaN(since) || Number.isNaN(until)) return reply.code(400).send({ error: 'since and until are ISO times, e.g. 2026-12-01T00:00:00Z' });
    return timeline(opts.store, { deviceId: q.device, model: q.model, variant: q.variant }, { sinceMs: since, untilMs: until, limit: q.limit ? Number(q.limit) || undefined : undefined });
  });
  app.get('/api/alerts', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const state = q.state === 'open' || q.state === 'acknowledged' ? q.state : undefined;
    return alertsPage(opts.store, { state, deviceId: q.device, limit: q.limit ? Number(q.limit) || undefined : undefined, offset: q.offset ? Number(q.offset) || 0 : 0 });
  });
  // staged rollouts with their progress (the rollouts table and their jobs' targets only)
  app.get('/api/rollouts', async () => ({ rollouts: await rolloutTable(opts.store.sql()) }));
  app.get('/api/attention-maps', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    if (!opts.maps) return reply.code(404).send({ error: 'no local models: start the dashboard with --model NAME=DIR to compute attention maps' });
    try {
      return await opts.maps.maps(q.model ?? '', q.variant ?? '', q.sentence ?? '', Number(q.layer));
    } catch (err) {
      if (isEdgeprobeError(err)) return reply.code(400).send({ code: err.code, error: err.message, fix: err.fix });
      throw err;
    }
  });

  const clients = new Set<ServerResponse>();
  app.get('/api/events', (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    clients.add(res);
    req.raw.on('close', () => clients.delete(res));
  });

  // coalesce bursts (a job's results arrive in batches) into one event per 250 ms; the event names the
  // devices whose results or state changed (null: too many to list) so a page refetches only what it shows
  let pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let seen = await opts.store.dataVersion();
  const flush = async (): Promise<void> => {
    const kinds = [...pending];
    pending = new Set();
    // the store briefly unreachable: say "something changed" (null), the page refetches what it shows
    const changed = await Promise.resolve(opts.store.dataVersion()).then((now) => changedSince(opts.store.sql(), seen, now)).catch(() => ({ version: seen, devices: null }));
    seen = changed.version;
    const data = JSON.stringify({ kinds, version: changed.version, devices: changed.devices });
    for (const c of clients) c.write(`event: change\ndata: ${data}\n\n`);
  };
  const notify = (kind: string): void => {
    pending.add(kind);
    timer ??= setTimeout(() => {
      void flush().finally(() => {
        timer = undefined;
        const [next] = pending; // arrived while the event was built
        if (next !== undefined) { pending.delete(next); notify(next); }
      });
    }, 250);
  };
  opts.changes?.on('change', notify);
  let poll: NodeJS.Timeout | undefined;
  if (!opts.changes) {
    let last = JSON.stringify(await opts.store.dataVersion());
    let polling = false;
    poll = setInterval(() => {
      if (polling) return; // a slow store: never more than one poll in flight
      polling = true;
      Promise.resolve(opts.store.dataVersion()).then((v) => {
        const next = JSON.stringify(v);
        if (next !== last) { last = next; notify('store'); }
      }, () => undefined) // the store is briefly unreachable: the next poll tries again
        .finally(() => { polling = false; });
    }, opts.pollMs ?? 2000);
  }
  const keepAlive = setInterval(() => { for (const c of clients) c.write(': keep-alive\n\n'); }, 20_000);

  await app.listen({ host: opts.host, port: opts.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const hostForUrl = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${hostForUrl}:${port}/`,
    policy,
    app,
    async close() {
      opts.changes?.off('change', notify);
      clearInterval(poll);
      clearInterval(keepAlive);
      clearTimeout(timer);
      for (const c of clients) c.end();
      clients.clear();
      await app.close();
    },
  };
}
