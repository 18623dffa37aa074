import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SeededRandom } from '../core/numeric/seeded-random.ts';
import type { ProbeRecord, SoftwareFingerprint } from '../core/results/probe-record.ts';
import type { BenchmarkData } from '../probes/benchmark/schema.ts';
import { syntheticBenchmarkRecord } from '../sim/synthetic-record.ts';
import { buildSeries, fingerprintChanges, type RunPoint, type Series } from '../coordinator/monitoring/series.ts';
import { consistencyExits, detectRegressions, latencyChanges, taskAgreementDrops, verdictFlips } from '../coordinator/monitoring/regressions.ts';

const SW: SoftwareFingerprint = { edgeprobe: '0.1.0', onnxruntime: '1.30.0', node: 'v20.19.0', os: 'Debian GNU/Linux 13 (trixie)', kernel: '6.12.0', arch: 'arm64' };
const at = (i: number): string => new Date(Date.UTC(2026, 10, 1) + i * 3_600_000).toISOString();
const point = (i: number, over: Partial<RunPoint> = {}): RunPoint =>
  ({ jobId: `job-${i}`, at: at(i), software: SW, modelSha256: 'a'.repeat(64), variantSha256: 'b'.repeat(64), verdicts: {}, figures: {}, ...over });
const series = (runs: RunPoint[], deviceId = 'pi-1'): Series => ({ deviceId, model: 'bert', variant: 'int8-dynamic', runs });
const latency = (p50: number, throttled = false): RunPoint['latency'] => ({ p50, p90: p50, p99: p50, throttled, throttleReasons: [] });

// ln-noise of a steady device: within +-2% of its level
const NOISE = [0.01, -0.01, 0.02, -0.015, 0.005, -0.02, 0.015, 0, -0.005, 0.01];

describe('latency against the device\'s own run-to-run spread', () => {
  test('an unchanged series over 10 runs raises none, even with no minimum effect', () => {
    const s = series(NOISE.map((e, i) => point(i, { latency: latency(20 * Math.exp(e)) })));
    assert.deepEqual(latencyChanges(s), []);
    // By hand for run 4 (first test, baseline runs 1-3: ln-noise 0.01, -0.01, 0.02): mean 0.006667, sd
    // 0.015275, t = (-0.015 - 0.006667) / (0.015275 sqrt(4/3)) = -1.2284; Student t with 2 df has the closed
    // form F(t) = 1/2 + t / (2 sqrt(2 + t^2)), so p = 0.3442, far above 0.001 (critical |t| 31.6 at df 2;
    // the largest |t| this +-2% series can reach with k >= 3 stays far below df 3-9's 12.9..4.78).
    assert.deepEqual(latencyChanges(s, { alpha: 0.001, minHistory: 3, maxHistory: 10, minLatencyChange: 0, minLogSpread: 0.005, minBandDevices: 3, consistencyTolerance: 1e-3 }), []);
  });

  test('a planted +30% step at run 6 is found once, naming runs 5 and 6, with its p-value', () => {
    const runs = NOISE.map((e, i) => point(i, { latency: latency(20 * Math.exp(e) * (i >= 5 ? 1.3 : 1)) }));
    runs[5].software = { ...SW, onnxruntime: '1.31.0' };
    for (const r of runs.slice(6)) r.software = runs[5].software;
    const found = latencyChanges(series(runs));
    assert.equal(found.length, 1, JSON.stringify(found));
    const [r] = found;
    assert.equal(r.before.jobId, 'job-4');
    assert.equal(r.after.jobId, 'job-5');
    assert.deepEqual(r.changed, ['onnxruntime 1.30.0 -> 1.31.0']);
    // By hand: baseline ln-noise 0.01, -0.01, 0.02, -0.015, 0.005 -> mean 0.002, sd 0.0144049 (df 4); run 6
    // y = ln 1.3 - 0.02 = 0.2423643; t = (y - 0.002) / (0.0144049 sqrt(1 + 1/5)) = 15.2325. Student t with
    // 4 df: F(t) = 1/2 + (3/8) u (1 - t^2 / (12 (1 + t^2/4))), u = t / sqrt(1 + t^2/4) -> p = 2 (1 - F) = 1.0832e-4.
    assert.ok(Math.abs(r.pValue! - 1.0832e-4) < 1e-7, String(r.pValue));
    // exp(0.2423643 - 0.002) - 1 = +27.2%
    assert.match(r.statistic, /\+27\.2%, prediction-interval t = 15\.23 \(df 4\)/);
  });

  test('a throttled run is neither tested nor part of the baseline', () => {
    const runs = NOISE.map((e, i) => point(i, { latency: latency(20 * Math.exp(e)) }));
    runs[6].latency = latency(60, true);
    assert.deepEqual(latencyChanges(series(runs)), []);
  });

  test('a small but consistent change below the 5% floor raises none; a spread-free device still needs a real change', () => {
    // a device with no noise at all: spread floored at 0.5% in ln, so 3% is t = 0.0296 / (0.005 sqrt(1.25)) = 5.3 (p < 0.05) but under the floor
    const flat = [20, 20, 20, 20, 20.6, 20.6].map((p, i) => point(i, { latency: latency(p) }));
    assert.deepEqual(latencyChanges(series(flat)), []);
  });
});

describe('verdicts, task agreement, the consistency band', () => {
  test('a verdict that flips is named with both runs and the weights that changed', () => {
    const v = (status: 'survives' | 'degrades') => ({ attention: status, benchmark: 'measured' as const });
    const runs = [point(0, { verdicts: v('survives') }), point(1, { verdicts: v('survives') }), point(2, { verdicts: v('degrades'), variantSha256: 'c'.repeat(64) }), point(3, { verdicts: v('degrades'), variantSha256: 'c'.repeat(64) })];
    const flips = verdictFlips(series(runs));
    assert.equal(flips.length, 1);
    assert.deepEqual([flips[0].before.jobId, flips[0].after.jobId, flips[0].from, flips[0].to], ['job-1', 'job-2', 'survives', 'degrades']);
    assert.deepEqual(flips[0].changed, ['variant weights sha256 bbbbbbbbbbbb -> cccccccccccc']);
  });

  test('task agreement: a drop beyond sampling is found, one within it is not', () => {
    // 0.95 -> 0.85 at n = 200 each: pooled p = 0.9, se = sqrt(0.9 * 0.1 * (2/200)) = 0.03, z = 0.10 / 0.03 =
    // 3.3333; one-sided p = Q(3.3333) = 4.29e-4 (normal table: Q(3.33) = 4.34e-4, Q(3.34) = 4.19e-4)
    const drop = taskAgreementDrops(series([point(0, { taskAgreement: { top1Agreement: 0.95, items: 200 } }), point(1, { taskAgreement: { top1Agreement: 0.85, items: 200 } })]));
    assert.equal(drop.length, 1);
    assert.ok(Math.abs(drop[0].pValue! - 4.29e-4) < 0.02e-4, String(drop[0].pValue));
    // 0.95 -> 0.93: pooled 0.94, se = sqrt(0.94 * 0.06 * 0.01) = 0.023749, z = 0.842, p = 0.20
    assert.deepEqual(taskAgreementDrops(series([point(0, { taskAgreement: { top1Agreement: 0.95, items: 200 } }), point(1, { taskAgreement: { top1Agreement: 0.93, items: 200 } })])), []);
  });

  test('a device that leaves the fleet\'s consistency band: one regression, for that device only', () => {
    const rng = new SeededRandom(7);
    const v = Array.from({ length: 4 }, () => Array.from({ length: 8 }, () => rng.normal()));
    const fp = (scale: number) => ({ method: 't', inputsSha256: 'e'.repeat(64), dims: 8, exactSha256: 'f'.repeat(64), vectors: v.map((row) => row.map((x) => x * (1 + scale * rng.normal()))) });
    const fleet = ['a', 'b', 'c', 'd'].map((d) => series([0, 1, 2].map((i) => point(i, { fingerprint: fp(d === 'd' && i === 2 ? 0.1 : 1e-6) })), d));
    const exits = consistencyExits(fleet);
    assert.equal(exits.length, 1, JSON.stringify(exits));
    assert.deepEqual([exits[0].deviceId, exits[0].before.jobId, exits[0].after.jobId], ['d', 'job-1', 'job-2']);
    // two devices cannot place a band: no verdict from what cannot be tested
    assert.deepEqual(consistencyExits(fleet.slice(2)), []);
  });
});

describe('series from stored records', () => {
  test('one point per run, the smallest batch shown, software and records failing their contract left out', () => {
    const rng = new SeededRandom(3);
    const rec = (job: number, batch: number, p50: number, software = SW): { deviceId: string; jobId: string; record: ProbeRecord } => {
      const r = syntheticBenchmarkRecord(rng, 'bert', 'int8-dynamic', batch);
      (r.data as BenchmarkData).latencyMs.p50 = p50;
      return { deviceId: 'pi-1', jobId: `job-${job}`, record: { ...r, createdAt: at(job), software } };
    };
    const broken = rec(9, 1, 1);
    (broken.record.data as { latencyMs: unknown }).latencyMs = 'fast';
    const newer = { ...SW, kernel: '6.13.1' };
    const [s] = buildSeries([rec(1, 8, 9, newer), rec(0, 1, 10), rec(0, 8, 99), rec(1, 1, 11, newer), broken]);
    assert.deepEqual(s.runs.map((r) => [r.jobId, r.latency?.p50]), [['job-0', 10], ['job-1', 11]]);
    assert.deepEqual(fingerprintChanges(s.runs[0], s.runs[1]), ['kernel 6.12.0 -> 6.13.1']);
    assert.equal(s.runs[0].verdicts.benchmark, 'measured');
    assert.deepEqual(detectRegressions([s]), []);
  });
});
