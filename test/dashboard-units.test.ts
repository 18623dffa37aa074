import assert from 'node:assert/strict';
import { resolveCoordinatorSettings } from '../coordinator/config/coordinator-config.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { coded } from './helpers/coded-errors.ts';
import type { ProbeRecord } from '../core/results/probe-record.ts';
import { accessPolicy, isLoopbackHost, presentedToken, TOKEN_COOKIE, tokenMatches } from '../coordinator/dashboard/access.ts';
import { bundleModules } from '../coordinator/dashboard/html-report.ts';
import { CONTROL_COLUMNS, type PropertiesView } from '../probes/properties/schema.ts';
import { buildDashboardData } from '../coordinator/dashboard/dashboard-data.ts';
import type { StoredResult } from '../coordinator/store/store.ts';
import type { JobPlan } from '../core/protocol/plan.ts';
import { syntheticBenchmarkRecord } from '../sim/synthetic-record.ts';
import { SeededRandom } from '../core/numeric/seeded-random.ts';
import { parseMapVariants, parseModelDirs } from '../cli/commands/dashboard.ts';
import { createDaemonLog } from '../core/daemon-log.ts';
import { encodeMessage, makeMessage } from '../core/protocol/codec.ts';
import { deviceTopic } from '../core/protocol/topics.ts';
import { Ingest, type IngestChange } from '../coordinator/ingest.ts';
import { SqliteStore } from '../coordinator/store/sqlite-store.ts';

describe('dashboard access', () => {
  test('loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) assert.equal(isLoopbackHost(h), true, h);
    for (const h of ['0.0.0.0', '::', '192.168.1.5', 'pi-01.local', '10.0.0.1']) assert.equal(isLoopbackHost(h), false, h);
  });

  test('loopback needs no token; any other bind gets the configured or a generated one', () => {
    assert.deepEqual(accessPolicy('127.0.0.1', undefined), { token: null, generated: false });
    const gen = accessPolicy('0.0.0.0', undefined);
    assert.equal(gen.generated, true);
    assert.match(gen.token!, /^[A-Za-z0-9_-]{32}$/, '24 random bytes, base64url');
    assert.notEqual(accessPolicy('0.0.0.0', undefined).token, gen.token);
    assert.deepEqual(accessPolicy('0.0.0.0', 'a-configured-token-123'), { token: 'a-configured-token-123', generated: false });
    assert.equal(accessPolicy('127.0.0.1', 'a-configured-token-123').token, 'a-configured-token-123', 'a configured token applies on loopback too');
    assert.throws(() => accessPolicy('0.0.0.0', 'short'), coded('EP_DASHBOARD_TOKEN_SHORT', { length: 5, min: 16 }));
  });

  test('token from bearer header, login cookie or query; compared exactly', () => {
    assert.equal(presentedToken({ authorization: 'Bearer abc' }, {}), 'abc');
    assert.equal(presentedToken({ cookie: `x=1; ${TOKEN_COOKIE}=t%2Fk` }, {}), 't/k');
    assert.equal(presentedToken({}, { token: 'q' }), 'q');
    assert.equal(presentedToken({}, {}), null);
    assert.equal(tokenMatches('secret-token', 'secret-token'), true);
    assert.equal(tokenMatches('secret-token', 'secret-tokeX'), false);
    assert.equal(tokenMatches('secret-token', 'secret'), false);
    assert.equal(tokenMatches('secret-token', null), false);
  });

  test('--model NAME=DIR pairs; anything else is a user error', () => {
    assert.deepEqual(parseModelDirs(['m=/a/b', 'x=y=z']), { m: '/a/b', x: 'y=z' });
    assert.deepEqual(parseModelDirs(undefined), {});
    for (const bad of ['noequals', '=dir', 'name=']) assert.throws(() => parseModelDirs([bad]), coded('EP_MODEL_DIR_FLAG_INVALID', { item: JSON.stringify(bad) }));
  });
});

describe('report bundler', () => {
  const dir = (files: Record<string, string>): string => {
    const d = mkdtempSync(join(tmpdir(), 'ep-bundle-'));
    for (const [n, src] of Object.entries(files)) writeFileSync(join(d, n), src);
    return d;
  };

  test('modules become scopes in dependency order; imports resolve to the exporting module', () => {
    const d = dir({
      'a.js': "export const base = 40;\nconst hidden = 1;\nexport function plus(x) { return x + hidden; }\n",
      'b.js': "import { base, plus } from './a.js';\nexport function answer() { return plus(base) + 1; }\n",
      'main.js': "import { answer } from './b.js';\nimport { base } from './a.js';\nconst hidden = 'main';\nglobalThis.__out = [answer(), base, hidden];\n",
    });
    const bundle = bundleModules(d, 'main.js');
    assert.ok(bundle.indexOf('__module_a') < bundle.indexOf('__module_b = '), 'a before b');
    const g = globalThis as { __out?: unknown };
    new Function(bundle)();
    assert.deepEqual(g.__out, [42, 40, 'main'], 'same-named private consts do not collide');
    delete g.__out;
  });

  test('cycles and import forms it cannot handle are errors, not a broken report', () => {
    assert.throws(() => bundleModules(dir({ 'a.js': "import { b } from './b.js';\nexport const a = 1;\n", 'b.js': "import { a } from './a.js';\nexport const b = 1;\n" }), 'a.js'), /cycle/);
    assert.throws(() => bundleModules(dir({ 'a.js': "import x from './b.js';\n", 'b.js': 'export const y = 1;\n' }), 'a.js'), /single-line named imports/);
  });

  test('the real front end bundles and parses', () => {
    const bundle = bundleModules(join(import.meta.dirname, '..', 'coordinator', 'dashboard', 'public'), 'app.js');
    assert.doesNotThrow(() => new Function(`return () => {${bundle}}`));
    assert.doesNotMatch(bundle, /^\s*(import|export)\s/m);
  });
});

describe('properties view (the properties contract, probes/properties/contract.ts)', () => {
  const ci = (estimate: number) => ({ estimate, low: estimate - 0.02, high: estimate + 0.02, level: 0.95 });
  const score = (x: number) => ({ headline: ci(x), neighbourhood: ci(x / 2) });
  const layer = (name: string, sys: number) => ({
    layer: name, passes: false, explainedBy: ['shuffle'], explanation: 'the frequency prior', summary: '',
    controls: {
      sys: score(sys), prior: score(0.09), upper: score(0.3), shuffle: score(0.1), 'shuffle-upper': score(0.13), rand: score(0.01),
      'rand-marginal': score(0.08), 'category-shuffle': score(0.06), 'category-destroyed': score(0.05),
    },
    pValues: { shuffle: 0.2, rand: 0.001, 'category-destroyed': 0.01 }, tests: {},
  });
  const data = (name: string, metric: 'f1' | 'spearman', layers: unknown[], bestLayer: string, extra: object = {}) => ({
    normSet: { name, path: 'x', concepts: 10, features: 5, metric, categories: 'none', notes: [] },
    coverage: { words: 10, covered: 10, multiPiece: 0, missing: [], conceptsDropped: 0 }, mapper: 'plsr', settings: {},
    layers, ranking: [], bestLayer, timings: { embeddingsS: 0, controlsS: 0, embeddingsCached: false }, ...extra,
  });
  let n = 0;
  const stored = (d: unknown): StoredResult => ({
    messageId: `m${++n}`, deviceId: 'pi-01', seq: n, sentAt: '', jobId: 'j', recordKey: `k${n}`, receivedAt: '',
    record: { recordVersion: 2, probe: 'properties', model: { name: 'm', sha256: 'a'.repeat(64) }, variant: { name: 'int8-dynamic', sha256: 'b'.repeat(64) }, verdict: { status: 'fails-controls', summary: '' }, durationS: 1, createdAt: '2026-01-01T00:00:00Z', data: d },
  });
  const views = (results: StoredResult[]) => buildDashboardData(results, [], []).views.properties as PropertiesView[];

  test('best layer, the paper\'s column order and the paper\'s values beside', () => {
    const [v] = views([stored(data('McRae', 'f1', [layer('L1', 0.11), layer('L3', 0.22)], 'L3', { comparedToFp32: { against: 'fp32', verdictChangedLayers: [], rankingChanged: true, rankCorrelation: 0.5, fp32Ranking: [], sysDelta: {} } }))]);
    assert.deepEqual(v.controls.map((c) => c.label), CONTROL_COLUMNS.map(([, l]) => l));
    assert.deepEqual(v.controls.map((c) => c.label), ['Sys', 'Prior', 'Prior-freq', 'Upper', 'Shuffle', 'Shuf-Upper', 'Rand', 'Rand-marg', 'Cat-shuffle', 'Cat-destroyed']);
    assert.equal(v.layer, 'L3');
    assert.equal(v.controls[0].estimate, 0.22);
    assert.equal(v.metric, 'F1@10');
    // the paper's values sit under the paper's columns; the controls it did not have stay empty
    assert.deepEqual(v.paper, [0.25, null, null, 0.27, 0.1, 0.13, 0.01, null, null, null]);
    assert.equal(v.explanation, 'the frequency prior');
    assert.deepEqual(v.explainedBy, ['shuffle']);
    assert.equal(v.rankingChanged, true);
  });

  test('records their contract refuses are counted as unreadable, never drawn; one view per norm set', () => {
    const results = [stored(null), stored(data('x', 'f1', [{ layer: 'L0', controls: { sys: score(0.5) } }], 'L0')), stored(data('own-norms', 'spearman', [], 'static')), stored(data('mcrae', 'f1', [], 'static'))];
    const v = views(results);
    assert.deepEqual(v.map((x) => x.normSet).sort(), ['mcrae', 'own-norms']);
    assert.equal(v.find((x) => x.normSet === 'own-norms')!.metric, 'Spearman rho');
    assert.equal(v.find((x) => x.normSet === 'own-norms')!.paper, null);
    assert.deepEqual(v.find((x) => x.normSet === 'own-norms')!.controls.map((c) => c.estimate), Array(10).fill(null), 'no layers: every control missing');
    assert.equal(buildDashboardData(results, [], []).report.rows[0].unreadable, 2);
  });
});

describe('live-update hook', () => {
  test('ingest emits one change per committed batch with new rows; the store version moves', async () => {
    const store = new SqliteStore(':memory:');
    const ingest = new Ingest(store, createDaemonLog('t', false, () => {}), resolveCoordinatorSettings({ broker: 'mqtt://127.0.0.1:1883', db: ':memory:' }));
    const seen: IngestChange[] = [];
    ingest.changes.on('change', (c) => seen.push(c));
    const v0 = store.dataVersion();
    const send = async (seq: number, type: 'register' | 'results', payload: unknown): Promise<void> => {
      await ingest.handle(deviceTopic('pi-01', type), Buffer.from(encodeMessage(makeMessage('pi-01', seq, type, payload as never))));
    };
    await send(1, 'register', { profile: { hostname: 'h', platform: 'linux', arch: 'arm64', cpuModel: 'c', cores: 4, memoryBytes: 1, nodeVersion: 'v20', agentVersion: '0.1.0' }, allowed: { models: [], probes: [] } });
    assert.deepEqual(seen, ['device']);
    // a benchmark record of real shape: ingest checks `data` against the benchmark contract
    const record = syntheticBenchmarkRecord(new SeededRandom(1), 'm');
    // ingest stores results only for a job that targets their sender
    store.createJob({ jobId: 'j1', plan: { models: [{ name: 'm' }], variants: ['fp32'], probes: ['benchmark'] } as unknown as JobPlan, devices: ['pi-01'], timeoutS: 600, maxAttempts: 1 }, Date.now());
    const msg = makeMessage('pi-01', 2, 'results', { jobId: 'j1', recordKey: 'k', record: record as ProbeRecord });
    await ingest.handle(deviceTopic('pi-01', 'results'), Buffer.from(encodeMessage(msg)));
    await ingest.handle(deviceTopic('pi-01', 'results'), Buffer.from(encodeMessage(makeMessage('pi-01', 3, 'results', { jobId: 'j1', recordKey: 'k2', record: record as ProbeRecord }))));
    assert.deepEqual(seen, ['device'], 'nothing before the commit');
    await ingest.flush();
    assert.deepEqual(seen, ['device', 'results'], 'one event for the batch of two');
    await ingest.handle(deviceTopic('pi-01', 'results'), Buffer.from(encodeMessage(msg)));
    await ingest.flush();
    assert.deepEqual(seen, ['device', 'results'], 'a redelivered duplicate changes nothing');
    const v1 = store.dataVersion();
    assert.equal(v0.lastResultId, 0);
    assert.equal(v1.lastResultId, 2);
    assert.ok(v1.deviceSeenMs > 0);
    store.close();
  });
});

describe('dashboard API errors', () => {
  test('a bad attention-map request answers 400 with the code, the message and the fix', async () => {
    const { startDashboardServer } = await import('../coordinator/dashboard/server.ts');
    const { AttentionMapService } = await import('../probes/attention/attention-maps.ts');
    const { ensureGeneratedModel } = await import('../models/generated-models.ts');
    const store = new SqliteStore(join(mkdtempSync(join(tmpdir(), 'ep-dash-err-')), 'fleet.sqlite'));
    const maps = new AttentionMapService({ tiny: ensureGeneratedModel('tiny') });
    const server = await startDashboardServer({ store, host: '127.0.0.1', port: 0, maps });
    try {
      const ask = async (q: string) => {
        const r = await server.app.inject({ method: 'GET', url: `/api/attention-maps?${q}` });
        return { status: r.statusCode, body: r.json() as { code?: string; error?: string; fix?: string } };
      };
      const unknownModel = await ask('model=nope&variant=fp32&sentence=the%20cat&layer=1');
      assert.equal(unknownModel.status, 400);
      assert.equal(unknownModel.body.code, 'EP_MAPS_MODEL_UNKNOWN');
      assert.match(unknownModel.body.error ?? '', /model nope/);
      assert.match(unknownModel.body.fix ?? '', /--model nope=DIR \(known: tiny\)/);
      assert.equal((await ask('model=tiny&variant=fp8&sentence=the%20cat&layer=1')).body.code, 'EP_VARIANT_UNKNOWN');
      assert.equal((await ask('model=tiny&variant=fp32&sentence=the%20cat&layer=99')).body.code, 'EP_MAPS_LAYER_OUT_OF_RANGE');
      assert.equal((await ask('model=tiny&variant=fp32&sentence=%20&layer=1')).body.code, 'EP_MAPS_SENTENCE_EMPTY');
      // the paged views refuse a bad page with what to send instead
      for (const [q, msg] of [['limit=5000', /limit is 1\.\.200/], ['offset=-1', /offset is a whole number/], ['sort=hostname', /sort is one of deviceId, lastSeen/], ['online=yes', /online is true or false/]] as const) {
        for (const path of ['/api/data', '/api/devices']) {
          const r = await server.app.inject({ method: 'GET', url: `${path}?${q}` });
          assert.equal(r.statusCode, 400, `${path}?${q}`);
          assert.match((r.json() as { error: string }).error, msg);
        }
      }
      const empty = (await server.app.inject({ method: 'GET', url: '/api/data' })).json() as { page: { total: number; offset: number; limit: number }; devices: unknown[] };
      assert.deepEqual([empty.page.total, empty.page.offset, empty.page.limit, empty.devices.length], [0, 0, 50, 0]);
    } finally {
      await server.close();
      await maps.close();
      store.close();
    }
  });

  test('a user-supplied variant\'s maps come from the local copy given with --map-variant, with its sha256; bad flags are coded errors', async () => {
    const { AttentionMapService } = await import('../probes/attention/attention-maps.ts');
    const { ensureGeneratedModel } = await import('../models/generated-models.ts');
    const { loadModelDir } = await import('../core/model/model-dir.ts');
    const { loadOnnxFile } = await import('../core/onnx/model-io.ts');
    const { matMulIntegerModel, writeTemp } = await import('./helpers/quantized-models.ts');
    const dir = ensureGeneratedModel('tiny');
    const path = writeTemp(matMulIntegerModel(loadModelDir(dir)), 'tiny_quantized.onnx');
    assert.deepEqual(await parseMapVariants([`ort-int8=${path}`], { tiny: dir }), { tiny: [{ name: 'ort-int8', path }] });
    assert.deepEqual(await parseMapVariants([`tiny:ort-int8=${path}`], { tiny: dir, other: dir }), { tiny: [{ name: 'ort-int8', path }] });
    await assert.rejects(parseMapVariants([`ort-int8=${path}`], { tiny: dir, other: dir }), coded('EP_MAP_VARIANT_MODEL', { models: 'tiny, other' }));
    await assert.rejects(parseMapVariants([`tiny:fp16=${path}`], { tiny: dir }), coded('EP_USER_VARIANT_NAME'));
    const files = await parseMapVariants([`ort-int8=${path}`], { tiny: dir });
    const maps = new AttentionMapService({ tiny: dir }, undefined, files);
    try {
      assert.ok(maps.variantNames('tiny').includes('ort-int8'));
      const pair = await maps.maps('tiny', 'ort-int8', 'the cat sat on the mat', 1);
      assert.equal(pair.variant, 'ort-int8');
      assert.equal(pair.variantSha256, loadOnnxFile(path).sha256, 'the map names the file it was computed from');
      // int8 attention scores: the maps differ from fp32, but not by much (JS divergence per head, in nats)
      assert.ok(pair.jsPerHead.every((js) => js >= 0 && js < 0.05) && pair.jsPerHead.some((js) => js > 0), JSON.stringify(pair.jsPerHead));
    } finally {
      await maps.close();
    }
  });
});
