import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { BenchmarkData } from '../probes/benchmark/schema.ts';
import { runBenchmark, speedPhrase } from '../probes/benchmark/run-benchmark.ts';
import { loadModelDir } from '../core/model/model-dir.ts';
import { ProbeRecord } from '../core/results/probe-record.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';
import { jsonResult, runCli } from './helpers/run-cli.ts';
import { int8CpuFeatures } from '../bench/bench-result.ts';

const tmp = mkdtempSync(join(tmpdir(), 'edgeprobe-bench-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('speed phrase says faster or slower and by how much', () => {
  assert.equal(speedPhrase(2), '2.00x faster than fp32');
  assert.equal(speedPhrase(0.5), '2.00x slower than fp32');
  assert.equal(speedPhrase(1.01), 'about as fast as fp32');
});

test('runBenchmark on the demo model: one valid record per variant, fp32 first', async () => {
  const md = loadModelDir(ensureGeneratedModel('demo'));
  const records = await runBenchmark(md, ['int8-dynamic', 'fp16'], { seqLen: 64, minQueries: 8, minDurationS: 0, batch: 4, warmup: 1, outDir: join(tmp, 'v') });
  assert.deepEqual(records.map((r) => r.variant.name), ['fp32', 'int8-dynamic', 'fp16']);
  for (const r of records) {
    assert.ok(Value.Check(ProbeRecord, r), JSON.stringify([...Value.Errors(ProbeRecord, r)].slice(0, 3)));
    assert.ok(Value.Check(BenchmarkData, r.data), JSON.stringify([...Value.Errors(BenchmarkData, r.data)].slice(0, 3)));
    const d = r.data as BenchmarkData;
    assert.equal(r.probe, 'benchmark');
    assert.equal(d.settings.seqLen, 64);
    assert.ok(d.latencyMs.queries >= 8);
    assert.ok(d.latencyMs.p50 > 0 && d.latencyMs.p50 <= d.latencyMs.p90 && d.latencyMs.p90 <= d.latencyMs.p99);
    assert.ok(d.throughput.sequencesPerS > 0 && d.throughput.batches >= 3);
    assert.ok(d.peakRssMB > d.baselineRssMB * 0.5 && d.loadMs > 0);
    assert.match(r.verdict.summary, new RegExp(`^${r.variant.name}: p50`));
  }
  const [fp32, int8, fp16] = records.map((r) => r.data as BenchmarkData);
  assert.equal(fp32.drift, null);
  assert.equal(fp32.pairedWithFp32, undefined);
  for (const d of [int8, fp16]) assert.ok(Math.abs(d.speedupVsFp32 - d.pairedWithFp32!.fp32P50Ms / d.pairedWithFp32!.p50Ms) < 1e-12);
  assert.equal(fp32.sizeRatio, 1);
  assert.ok(fp32.instrumented && fp32.instrumented.ratioToPlain > 0);
  // the demo model's random weights still give fp16 near-identical and int8 close pooled embeddings
  assert.ok(fp16.drift!.pooledCosineMin > 0.999, `fp16 ${fp16.drift!.pooledCosineMin}`);
  assert.ok(int8.drift!.pooledCosineMin > 0.95, `int8 ${int8.drift!.pooledCosineMin}`);
  assert.ok(int8.drift!.maxAbsDiffLastHidden > fp16.drift!.maxAbsDiffLastHidden, 'int8 drifts more than fp16');
  assert.match(records[1].verdict.summary, /(faster|slower) than fp32|about as fast/);
});

test('edgeprobe bench --json on the tiny model', () => {
  const run = runCli(['--json', 'bench', ensureGeneratedModel('tiny'), '--variants', 'int8-weight', '--min-queries', '5', '--min-duration-s', '0', '--batch', '2', '--out', join(tmp, 'cli')]);
  assert.equal(run.status, 0, run.stderr);
  const records = jsonResult<ProbeRecord[]>(run);
  assert.deepEqual(records.map((r) => r.variant.name), ['fp32', 'int8-weight']);
  // tiny has 32 positions, so the default --seq-len 128 is capped with a warning
  assert.equal((records[0].data as BenchmarkData).settings.seqLen, 32);
  assert.match(run.stdout, /"type":"warning".*longer than tiny's 32 positions/);
});

test('benchmarks record the CPU features that choose the int8 kernels (x86 and ARM cpuinfo)', () => {
  assert.deepEqual(int8CpuFeatures('processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n'), ['avx2'], 'AVX2 without VNNI');
  assert.deepEqual(int8CpuFeatures('flags\t: avx2 avx512f avx512_vnni\nflags\t: x\n'), ['avx2', 'avx512f', 'avx512_vnni']);
  assert.deepEqual(int8CpuFeatures('processor\t: 0\nFeatures\t: fp asimd evtstrm aes crc32 asimddp\n'), ['asimd', 'asimddp'], 'ARM with dot product');
  assert.deepEqual(int8CpuFeatures(''), []);
});
