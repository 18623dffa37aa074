import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { resolveAllowedModel } from '../agent/config/model-source.ts';
import type { BenchmarkData } from '../agent/jobs/benchmark-runner.ts';
import { isUserError } from '../core/errors.ts';
import { sha256Hex } from '../core/onnx/model-io.ts';
import type { ProbeKind, ProbeRecord, VerdictStatus } from '../core/results/probe-record.ts';
import { buildComparison } from '../coordinator/report/comparison.ts';
import { renderComparison, renderComparisonCsv } from '../coordinator/report/render.ts';
import type { DeviceRow, StoredResult } from '../coordinator/store/store.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';

const SHA = 'd'.repeat(64);
const BASE = [[3, 4, 0, 0], [0, 0, 6, 8]]; // |BASE| = sqrt(9+16+36+64) = sqrt(125)
const scaled = (k: number): number[][] => BASE.map((v) => v.map((x) => x * k));

function bench(batchSize: number, p50: number, vectors: number[][]): BenchmarkData {
  return {
    batchSize, runs: 10, warmup: 1, sentences: 2, latencyMs: { p50, p90: p50 * 1.5, p99: p50 * 2, mean: p50, min: p50 / 2, max: p50 * 3 },
    sentencesPerS: 1000 / p50, sizeBytes: 4_000_000, output: 'last_hidden_state', onnxruntime: '1.30.0', demoModel: false,
    fingerprint: { method: 'test', inputsSha256: 'inputs-1', dims: 4, vectors, exactSha256: JSON.stringify(vectors) },
  };
}
let n = 0;
function result(deviceId: string, variant: string, probe: ProbeKind, status: VerdictStatus, data: unknown): StoredResult {
  const record: ProbeRecord = {
    recordVersion: 1, probe, model: { name: 'm', sha256: SHA }, variant: { name: variant, sha256: SHA },
    verdict: { status, summary: '' }, durationS: 1, createdAt: '2026-01-01T00:00:00Z', data,
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
    result('a', 'int8-dynamic', 'benchmark', 'measured', bench(1, 1, scaled(1.1))),
    result('a', 'int8-dynamic', 'attention', 'degrades', {}),
    result('a', 'int8-dynamic', 'properties', 'fails-controls', {}),
  ];
  const rep = buildComparison(results, [device('a'), device('b'), device('c', false)], 1e-3);
  const row = (d: string, v: string) => rep.rows.find((r) => r.deviceId === d && r.variant === v)!;

  test('latency comes from the smallest batch size; size and verdicts per device x variant', () => {
    assert.equal(rep.rows.length, 4);
    assert.equal(row('a', 'fp32').batchSize, 1);
    assert.equal(row('a', 'fp32').p50Ms, 2);
    assert.equal(row('a', 'fp32').p99Ms, 4);
    assert.equal(row('a', 'fp32').sizeBytes, 4_000_000);
    assert.deepEqual(row('a', 'int8-dynamic').verdicts, { attention: 'degrades', properties: 'fails-controls' });
    assert.equal(row('c', 'fp32').online, false);
  });

  test('drift vs fp32 on the same device: ||1.1x - x|| / ||x|| = 0.1', () => {
    assert.ok(Math.abs(row('a', 'int8-dynamic').driftVsFp32! - 0.1) < 1e-12);
    assert.equal(row('a', 'fp32').driftVsFp32, 0);
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
    const text = renderComparison(rep);
    assert.match(text, /tolerance 0\.001/);
    assert.match(text, /m\/fp32 on 3 devices: OUTLIERS: c/);
    assert.match(text, /c \(offline\)/);
    const csv = renderComparisonCsv(rep).split('\n');
    assert.equal(csv.length, 5);
    assert.match(csv.find((l) => l.startsWith('a,m,int8-dynamic'))!, /attention:degrades properties:fails-controls$/);
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
      (e) => isUserError(e) && /has sha256 [0-9a-f]{64}, the agent config pins e+/.test(e.message));
    assert.ok(!existsSync(join(cache, 'models', wrong, 'model.onnx')), 'nothing written under the wrong pin');
    await assert.rejects(resolveAllowedModel({ name: 'tiny-404', url: `${base}/missing.onnx`, sha256: wrong, files: [{ name: 'config.json', url: `${base}/config.json`, sha256: wrong }] }),
      (e) => isUserError(e) && /HTTP 404/.test(e.message));
  });
});
