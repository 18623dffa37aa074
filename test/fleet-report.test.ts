import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { resolveAllowedModel } from '../agent/config/model-source.ts';
import type { BenchmarkData } from '../probes/benchmark/schema.ts';
import type { DivergenceData } from '../probes/divergence/schema.ts';
import type { AttentionProbeData } from '../probes/attention/schema.ts';
import type { PropertiesData } from '../probes/properties/schema.ts';
import { coded } from './helpers/coded-errors.ts';
import { sha256Hex } from '../core/onnx/model-io.ts';
import type { ProbeRecord, VerdictStatus } from '../core/results/probe-record.ts';
import { buildFleetReport, cellValue } from '../coordinator/report/fleet-report.ts';
import { renderFleetReport, renderFleetReportCsv } from '../coordinator/report/render.ts';
import type { DeviceRow, StoredResult } from '../coordinator/store/store.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';

const SHA = 'd'.repeat(64);
const BASE = [[3, 4, 0, 0], [0, 0, 6, 8]]; // |BASE| = sqrt(9+16+36+64) = sqrt(125)
const scaled = (k: number): number[][] => BASE.map((v) => v.map((x) => x * k));

function bench(batch: number, p50: number, vectors: number[][], speedupVsFp32 = 1): BenchmarkData {
  return {
    settings: { seqLen: 64, batch, warmup: 1, minQueries: 10, minDurationS: 0, executionProvider: 'cpu' }, variant: 'x', compute: 'x', loadMs: 1,
    latencyMs: { p50, p90: p50 * 1.5, p99: p50 * 2, mean: p50, queries: 10, durationS: 1 }, throughput: { batch, batches: 3, sequencesPerS: 1000 / p50 },
    peakRssMB: 100, baselineRssMB: 50, sizeBytes: 4_000_000, sizeRatio: 1, speedupVsFp32,
    drift: speedupVsFp32 === 1 ? null : { sentences: 2, pooledCosineMean: 0.99, pooledCosineMin: 0.98, maxAbsDiffLastHidden: 0.1 },
    fingerprint: { method: 'test', inputsSha256: 'inputs-1', dims: 4, vectors, exactSha256: JSON.stringify(vectors) }, demoModel: false,
  };
}
const compareData = (jumpLayer: number | null, worstLayer: number, task?: DivergenceData['task']): DivergenceData => ({
  reference: SHA, sentences: 4, truncatedSentences: 0, layers: [], numericGate: { ok: true, points: [], skippedLengths: [] },
  jump: { rule: 'test', jumpLayer, worstLayer, increments: [] }, ...(task ? { task } : {}),
});
// the smallest records their contracts accept: the report reads only what passes the probe's schema
const attentionData = (supportedUpToLayer = 4): AttentionProbeData => ({
  corpus: { source: 'built-in', sentences: 2, tokens: 10, seed: 1 }, layers: 6, heads: 4,
  identifiability: { nearest: [], learned: [], trainSentences: 0, heldOutSentences: 0 }, mixing: { selfContribution: [], effectiveSources: [] },
  structure: [], tokenRelation: { supportedUpToLayer, structuredButUnidentifiable: [], unsupportedLayers: [], sanityPassed: null }, thresholdsFile: 't.json',
});
const propertiesData = (name = 'mcrae'): PropertiesData => ({
  normSet: { name, path: 'x', concepts: 10, features: 5, metric: 'f1', categories: 'none', notes: [] },
  coverage: { words: 10, covered: 10, multiPiece: 0, missing: [], conceptsDropped: 0 }, mapper: 'plsr', settings: {},
  layers: [], ranking: [], bestLayer: 'static', timings: { embeddingsS: 0, controlsS: 0, embeddingsCached: false },
});
let n = 0;
function result(deviceId: string, variant: string, probe: string, status: VerdictStatus, data: unknown, layers?: number[]): StoredResult {
  const record: ProbeRecord = {
    recordVersion: 2, probe, model: { name: 'm', sha256: SHA }, variant: { name: variant, sha256: SHA },
    verdict: { status, summary: '', ...(layers ? { layers } : {}) }, durationS: 1, createdAt: '2026-01-01T00:00:00Z', data,
    ...(status === 'invalid' ? { numericGate: { ok: false, reasons: ['NaN'] } } : {}),
  };
  n++;
  return { messageId: `id-${n}`, deviceId, seq: n, sentAt: '', jobId: 'j', recordKey: `k${n}`, record, receivedAt: '' };
}
const device = (deviceId: string, online = true): DeviceRow => ({
  deviceId, online, firstSeen: '', lastSeen: '', heartbeat: null, allowed: { models: [], probes: [] },
  profile: { hostname: deviceId, platform: 'linux', arch: 'arm64', cpuModel: 'x', cores: 4, memoryBytes: 1, nodeVersion: 'v20', agentVersion: '0.1.0' },
});

describe('comparison report', () => {
  const results = [
    result('a', 'fp32', 'benchmark', 'measured', bench(4, 9, BASE)),
    result('a', 'fp32', 'benchmark', 'measured', bench(1, 2, BASE)),
    result('b', 'fp32', 'benchmark', 'measured', bench(1, 3, BASE)),
    result('c', 'fp32', 'benchmark', 'measured', bench(1, 4, scaled(1.02))),
    result('a', 'int8-dynamic', 'benchmark', 'measured', bench(1, 1, scaled(1.1), 2)),
    result('a', 'int8-dynamic', 'attention', 'degrades', attentionData(), [3, 4]),
    result('a', 'int8-dynamic', 'properties', 'fails-controls', propertiesData()),
    result('a', 'int8-dynamic', 'compare', 'measured', compareData(3, 3, { task: 'fill-mask', variant: 'int8-dynamic', items: 10, top1Accuracy: 0.4, top1Agreement: 0.9, top5Agreement: 0.8 })),
    result('b', 'int8-dynamic', 'compare', 'invalid', compareData(null, 2)),
    result('b', 'int8-dynamic', 'attention', 'invalid', attentionData()),
  ];
  const rep = buildFleetReport(results, [device('a'), device('b'), device('c', false)], 1e-3);
  const row = (d: string, v: string) => rep.rows.find((r) => r.deviceId === d && r.variant === v)!;

  test('latency comes from the smallest batch size; size and verdicts per device x variant', () => {
    assert.equal(rep.rows.length, 5);
    const v = (d: string, variant: string, key: string) => cellValue(row(d, variant), 'benchmark', key);
    assert.equal(v('a', 'fp32', 'batchSize'), 1);
    assert.equal(v('a', 'fp32', 'p50Ms'), 2);
    assert.equal(v('a', 'fp32', 'p99Ms'), 4);
    assert.equal(v('a', 'fp32', 'sizeBytes'), 4_000_000);
    // the 'compare' records (an agent before 0.2) are read as the divergence probe they now are
    const statuses = Object.fromEntries(Object.entries(row('a', 'int8-dynamic').verdicts).map(([k, x]) => [k, x.status]));
    assert.deepEqual(statuses, { benchmark: 'measured', attention: 'degrades', properties: 'fails-controls', divergence: 'measured' });
    assert.equal(row('c', 'fp32').online, false);
  });

  test('attention and properties verdicts with their layers, compare jump, task quality, speed and pooled cosine', () => {
    const r = row('a', 'int8-dynamic');
    assert.deepEqual(r.verdicts.attention, { status: 'degrades', layers: [3, 4], summary: '' });
    assert.deepEqual(r.verdicts.properties, { status: 'fails-controls', layers: [], summary: '' });
    assert.equal(cellValue(r, 'divergence', 'jumpLayer'), 3);
    assert.equal(cellValue(r, 'divergence', 'worstLayer'), 3);
    assert.deepEqual(['task', 'top1Accuracy', 'top1Agreement', 'top5Agreement'].map((k) => cellValue(r, 'divergence', k)), ['fill-mask', 0.4, 0.9, 0.8]);
    assert.equal(cellValue(r, 'benchmark', 'speedupVsFp32'), 2);
    assert.equal(cellValue(r, 'benchmark', 'pooledCosineVsFp32'), 0.98);
    assert.equal(cellValue(row('a', 'fp32'), 'benchmark', 'pooledCosineVsFp32'), 1, 'fp32 against itself');
    assert.equal(row('a', 'fp32').verdicts.attention, undefined);
    assert.equal(cellValue(r, 'properties', 'normSets'), 'mcrae:fails-controls');
    const text = renderFleetReport(rep);
    assert.match(text, /a\s+m\s+int8-dynamic\s.*2\.00x faster\s+0\.9800\s+(-\s+)+degrades \(L3,4\)\s+acc 0\.4000 agree 0\.9000\s+jump L3\s+fails-controls\s+0$/m);
  });

  test('a benchmark record of another shape (an older agent) is counted but never read as latency', () => {
    const old = buildFleetReport([result('d', 'fp32', 'benchmark', 'measured', { batchSize: 1, latencyMs: { p50: 1, p90: 2, p99: 3 }, fingerprint: { vectors: [[1]] } })], [device('d')]);
    assert.equal(old.rows.length, 1);
    assert.equal(cellValue(old.rows[0], 'benchmark', 'p50Ms'), null);
    assert.equal(old.rows[0].records, 1);
    assert.equal(old.rows[0].unreadable, 1);
    assert.deepEqual(old.rows[0].verdicts, {}, 'a record its contract refuses gives no verdict either');
    assert.match(renderFleetReport(old), /1 unreadable/);
  });

  test('invalid results (numeric gate failed) are counted per row and in total, not hidden', () => {
    const b = row('b', 'int8-dynamic');
    assert.equal(b.invalid, 2);
    assert.equal(b.records, 2);
    assert.equal(b.verdicts.attention.status, 'invalid');
    assert.equal(row('a', 'int8-dynamic').invalid, 0);
    assert.equal(rep.invalid, 2);
    assert.match(renderFleetReport(rep), /b\s+m\s+int8-dynamic\s.*invalid\s.*2 of 2$/m);
    assert.match(renderFleetReport(rep), /2 in total/);
  });

  test('drift vs fp32 on the same device: ||1.1x - x|| / ||x|| = 0.1', () => {
    assert.ok(Math.abs((cellValue(row('a', 'int8-dynamic'), 'benchmark', 'driftVsFp32') as number) - 0.1) < 1e-12);
    assert.equal(cellValue(row('a', 'fp32'), 'benchmark', 'driftVsFp32'), 0);
  });

  test('cross-device: the device 2% off the median is the outlier, with the tolerance used', () => {
    assert.equal(rep.consistency.length, 1, 'int8 ran on one device only: nothing to compare');
    const c = rep.consistency[0];
    assert.equal(c.variant, 'fp32');
    assert.equal(c.devices, 3);
    assert.deepEqual(c.outliers, ['c']);
    assert.ok(Math.abs(row('c', 'fp32').driftVsFleet! - 0.02) < 1e-12);
    assert.equal(row('c', 'fp32').crossDeviceOutlier, true);
    assert.equal(row('a', 'fp32').crossDeviceOutlier, false);
    const text = renderFleetReport(rep);
    assert.match(text, /tolerance 0\.001/);
    assert.match(text, /m\/fp32 on 3 devices: OUTLIERS: c/);
    assert.match(text, /c \(offline\)/);
    const csv = renderFleetReportCsv(rep).split('\n');
    assert.equal(csv.length, 6);
    const header = csv[0].split(',');
    const a = Object.fromEntries(csv.find((l) => l.startsWith('a,m,int8-dynamic'))!.split(',').map((v, i) => [header[i], v]));
    assert.equal(a.attention, 'degrades');
    assert.equal(a.attentionLayers, '3;4');
    assert.equal(a.properties, 'fails-controls');
    assert.equal(a.jumpLayer, '3');
    assert.equal(a.top1Accuracy, '0.4');
    assert.equal(a.invalid, '0');
  });
});

describe('models allowed by URL', () => {
  const cache = mkdtempSync(join(tmpdir(), 'edgeprobe-url-cache-'));
  const prevCache = process.env.EDGEPROBE_CACHE;
  process.env.EDGEPROBE_CACHE = cache;
  let server: Server | undefined;
  after(() => {
    server?.close();
    if (prevCache === undefined) delete process.env.EDGEPROBE_CACHE; else process.env.EDGEPROBE_CACHE = prevCache;
    rmSync(cache, { recursive: true, force: true });
  });

  test('downloaded files are verified against their sha256 pins; a mismatch writes nothing', async () => {
    const dir = ensureGeneratedModel('tiny');
    const files = ['model.onnx', 'tokenizer.json', 'config.json'];
    server = createServer((req, res) => {
      const name = (req.url ?? '').slice(1);
      if (!files.includes(name)) { res.statusCode = 404; res.end(); return; }
      res.end(readFileSync(join(dir, name)));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const sha = (f: string): string => sha256Hex(readFileSync(join(dir, f)));
    const ok = await resolveAllowedModel({
      name: 'tiny-url', url: `${base}/model.onnx`, sha256: sha('model.onnx'),
      files: [{ name: 'tokenizer.json', url: `${base}/tokenizer.json`, sha256: sha('tokenizer.json') }, { name: 'config.json', url: `${base}/config.json`, sha256: sha('config.json') }],
    });
    assert.equal(ok.sha256, sha('model.onnx'));
    assert.equal(sha256Hex(readFileSync(ok.onnxPath)), sha('model.onnx'));
    assert.ok(existsSync(join(ok.dir, 'tokenizer.json')));

    const wrong = 'e'.repeat(64);
    await assert.rejects(resolveAllowedModel({ name: 'tiny-bad', url: `${base}/model.onnx`, sha256: wrong, files: [{ name: 'config.json', url: `${base}/config.json`, sha256: sha('config.json') }] }),
      coded('EP_MODEL_URL_SHA256_MISMATCH', { url: `${base}/model.onnx`, expected: wrong, actual: sha('model.onnx') }));
    assert.ok(!existsSync(join(cache, 'models', wrong, 'model.onnx')), 'nothing written under the wrong pin');
    await assert.rejects(resolveAllowedModel({ name: 'tiny-404', url: `${base}/missing.onnx`, sha256: wrong, files: [{ name: 'config.json', url: `${base}/config.json`, sha256: wrong }] }),
      coded('EP_MODEL_DOWNLOAD_HTTP', { status: 404 }));
  });
});
