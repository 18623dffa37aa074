import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { describeThrottled, detectSensors, parseThrottled, sampleSensors, THROTTLED_NOW, THROTTLED_SINCE_BOOT } from '../agent/telemetry/board-sensors.ts';
import { ConditionRecorder, summarizeConditions } from '../probes/benchmark/run-conditions.ts';
import { RunConditions, type BenchmarkData, type ConditionSample } from '../probes/benchmark/schema.ts';
import { runBenchmark } from '../probes/benchmark/run-benchmark.ts';
import { benchmarkContract } from '../probes/benchmark/contract.ts';
import { loadModelDir } from '../core/model/model-dir.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'sysfs');
const tmp = mkdtempSync(join(tmpdir(), 'edgeprobe-sensors-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const never = (): string | null => { throw new Error('vcgencmd must not run for a fixture root'); };
const sample = (phase: ConditionSample['phase'], over: Partial<ConditionSample> = {}): ConditionSample =>
  ({ phase, tMs: 0, throttledBits: null, tempC: [], curMHz: [], maxMHz: [], powerMW: [], ...over });

describe('board sensor files', () => {
  test('Pi firmware throttled bits: vcgencmd text and the sysfs hex both parse; bits named', () => {
    assert.equal(parseThrottled('throttled=0x50005\n'), 0x50005);
    assert.equal(parseThrottled('50005'), 0x50005);
    assert.equal(parseThrottled('0'), 0);
    assert.equal(parseThrottled('error=1'), null);
    // 0x50005 = bits 0, 2, 16, 18
    assert.deepEqual(describeThrottled(0x50005, THROTTLED_NOW), ['under-voltage', 'throttled']);
    assert.deepEqual(describeThrottled(0x50005, THROTTLED_SINCE_BOOT), ['under-voltage', 'throttled']);
    assert.deepEqual(describeThrottled(0x80008, THROTTLED_NOW), ['soft temperature limit']);
  });

  test('Raspberry Pi: throttled bits, one zone with only a critical trip, four cpus; no power rails', () => {
    const l = detectSensors(join(FIX, 'pi'), never);
    assert.deepEqual(l.throttled, { source: '/sys/devices/platform/soc/soc:firmware/get_throttled' });
    assert.deepEqual(l.zones, [{ zone: 'thermal_zone0', type: 'cpu-thermal', passiveTripC: null }]);
    assert.deepEqual(l.cpus, ['cpu0', 'cpu1', 'cpu2', 'cpu3'].map((cpu) => ({ cpu, hwMaxMHz: 1500 })));
    assert.match((l.rails as { unavailable: string }).unavailable, /no INA3221/);
    const s = sampleSensors(l, 5, never);
    assert.deepEqual(s, { tMs: 5, throttledBits: 0, tempC: [54.53], curMHz: [1500, 1500, 1500, 1500], maxMHz: [1500, 1500, 1500, 1500], powerMW: [] });
  });

  test('Jetson (hwmon INA3221): rails from mV x mA, passive trips, no firmware bits', () => {
    const l = detectSensors(join(FIX, 'jetson'), never);
    assert.match((l.throttled as { unavailable: string }).unavailable, /get_throttled missing/);
    assert.deepEqual(l.rails, ['VDD_IN', 'VDD_CPU_GPU_CV', 'VDD_SOC']);
    assert.deepEqual((l.zones as Array<{ passiveTripC: number | null }>).map((z) => z.passiveTripC), [99, 99]);
    assert.equal((l.cpus as unknown[]).length, 6);
    const s = sampleSensors(l, 0, never);
    // 5080 mV x 1210 mA = 6146.8 mW; 5072 x 320 = 1623.04; 5064 x 560 = 2835.84
    assert.deepEqual(s.powerMW.map((p) => Number(p?.toFixed(2))), [6146.8, 1623.04, 2835.84]);
    assert.deepEqual(s.tempC, [47.5, 45.9]);
  });

  test('Jetson Nano (IIO ina3221x): rails in mW; no cpufreq', () => {
    const l = detectSensors(join(FIX, 'jetson-nano'), never);
    assert.deepEqual(l.rails, ['POM_5V_IN', 'POM_5V_GPU', 'POM_5V_CPU']);
    assert.deepEqual(sampleSensors(l, 0, never).powerMW, [3824, 0, 1033]);
    assert.match((l.cpus as { unavailable: string }).unavailable, /cpufreq/);
  });

  test('generic Linux: unreadable zone skipped, disabled (0) passive trips ignored, user cap read', () => {
    const l = detectSensors(join(FIX, 'linux'), never);
    assert.deepEqual(l.zones, [{ zone: 'thermal_zone0', type: 'acpitz', passiveTripC: null }, { zone: 'thermal_zone2', type: 'x86_pkg_temp', passiveTripC: null }]);
    const s = sampleSensors(l, 0, never);
    assert.deepEqual(s.tempC, [45, 62]);
    assert.deepEqual(s.maxMHz, [3000, 3000, 3000, 3000]);
    assert.deepEqual((l.cpus as Array<{ hwMaxMHz: number }>).map((c) => c.hwMaxMHz), [3900, 3900, 3900, 3900]);
  });

  test('a root without any source: each one unavailable, with why; the summary says so and flags nothing', () => {
    const l = detectSensors(join(tmp, 'nothing-here'), never);
    for (const k of ['throttled', 'zones', 'cpus', 'rails'] as const) assert.ok('unavailable' in l[k], k);
    const c = summarizeConditions(l, [sample('before'), sample('latency'), sample('after')], 10);
    assert.ok(Value.Check(RunConditions, c));
    assert.equal(c.throttled, false);
    assert.match(c.sources.throttled, /^unavailable: /);
    assert.match(c.sources.power, /^unavailable: /);
    assert.equal(c.energyPerInferenceMJ, null);
    assert.equal(c.maxTempC, null);
  });
});

describe('throttling and energy from the samples', () => {
  const pi = detectSensors(join(FIX, 'pi'), never);
  const jetson = detectSensors(join(FIX, 'jetson'), never);
  const linux = detectSensors(join(FIX, 'linux'), never);

  test('Pi: a now-bit during the run flags it; since-boot bits set before the run do not', () => {
    const hot = summarizeConditions(pi, [sample('before', { throttledBits: 0 }), sample('latency', { throttledBits: 0x4 }), sample('after', { throttledBits: 0x40000 })], 10);
    assert.equal(hot.throttled, true);
    assert.deepEqual(hot.reasons, ['Pi firmware: throttled (latency)', 'Pi firmware: throttled occurred during the run (since-boot bits set between the before and after samples)']);
    // 0x50000: under-voltage and throttling happened earlier since boot, nothing now and nothing new
    const old = summarizeConditions(pi, [sample('before', { throttledBits: 0x50000 }), sample('latency', { throttledBits: 0x50000 }), sample('after', { throttledBits: 0x50000 })], 10);
    assert.equal(old.throttled, false);
    assert.deepEqual(old.reasons, []);
    // a brief throttle between samples shows only in the sticky bits
    const between = summarizeConditions(pi, [sample('before', { throttledBits: 0 }), sample('after', { throttledBits: 0x80000 })], 10);
    assert.deepEqual(between.reasons, ['Pi firmware: soft temperature limit occurred during the run (since-boot bits set between the before and after samples)']);
  });

  test('Jetson: a zone at its passive trip flags the run; energy = mean input-rail power x mean latency', () => {
    const c = summarizeConditions(jetson, [
      sample('before', { tempC: [47.5, 45.9], powerMW: [5000, 1, 1] }),
      sample('latency', { tempC: [98.9, 50], powerMW: [6146.8, 1, 1] }),
      sample('latency', { tempC: [99.5, 50], powerMW: [7000, 1, 1] }),
      sample('throughput', { tempC: [90, 50], powerMW: [9000, 1, 1] }),
    ], 20);
    assert.equal(c.throttled, true);
    assert.deepEqual(c.reasons, ['cpu-thermal at 99.5 °C reached its passive trip point 99.0 °C, where the kernel throttles (latency)']);
    assert.equal(c.maxTempC, 99.5);
    // only latency samples: (6146.8 + 7000) / 2 = 6573.4 mW; x 20 ms = 131468 µJ = 131.468 mJ
    assert.ok(Math.abs(c.energyPerInferenceMJ! - 131.468) < 1e-9, String(c.energyPerInferenceMJ));
    assert.match(c.energyNote, /board input rail VDD_IN/);
  });

  test('without a board input rail the energy is the sum of rails, said to be a lower bound', () => {
    const l = { ...jetson, rails: ['VDD_CPU', 'VDD_GPU'] };
    // (100 + 300) mW x 5 ms / 1000 = 2 mJ
    const c = summarizeConditions(l, [sample('latency', { powerMW: [100, 300] })], 5);
    assert.equal(c.energyPerInferenceMJ, 2);
    assert.match(c.energyNote, /lower bound/);
  });

  test('Linux: a user cap held all run is configuration; a cap lowered during the run is throttling', () => {
    const capped = [3000, 3000, 3000, 3000];
    const steady = summarizeConditions(linux, [sample('before', { maxMHz: capped }), sample('latency', { maxMHz: capped }), sample('after', { maxMHz: capped })], 10);
    assert.equal(steady.throttled, false);
    const cooled = summarizeConditions(linux, [sample('before', { maxMHz: capped }), sample('throughput', { maxMHz: [3000, 2000, 3000, 3000] })], 10);
    assert.deepEqual(cooled.reasons, ['cpu1 frequency cap lowered from 3000 to 2000 MHz (throughput)']);
  });

  test('the recorder reads the files as they change between samples', () => {
    const root = join(tmp, 'pi-live');
    cpSync(join(FIX, 'pi'), root, { recursive: true });
    const bits = join(root, 'sys/devices/platform/soc/soc:firmware/get_throttled');
    const rec = new ConditionRecorder(root, 0);
    rec.mark('before');
    rec.enter('latency');
    writeFileSync(bits, '4\n');
    rec.tick();
    writeFileSync(bits, '40000\n');
    rec.mark('after');
    const c = rec.finish(10);
    assert.deepEqual(c.samples.map((s) => [s.phase, s.throttledBits]), [['before', 0], ['latency', 4], ['after', 0x40000]]);
    assert.equal(c.throttled, true);
    assert.ok(Value.Check(RunConditions, c));
  });
});

test('a benchmark on a throttling Pi and on a Jetson: flagged in the summary and the report; energy per inference', async () => {
  const md = loadModelDir(ensureGeneratedModel('demo'));
  const piRoot = join(tmp, 'pi-hot');
  cpSync(join(FIX, 'pi'), piRoot, { recursive: true });
  writeFileSync(join(piRoot, 'sys/devices/platform/soc/soc:firmware/get_throttled'), '50005\n');
  const opts = { seqLen: 16, minQueries: 4, minDurationS: 0, batch: 2, warmup: 1, outDir: join(tmp, 'v') };
  const saved = process.env.EDGEPROBE_SENSOR_ROOT;
  try {
    process.env.EDGEPROBE_SENSOR_ROOT = piRoot;
    const [hot] = await runBenchmark(md, [], opts);
    process.env.EDGEPROBE_SENSOR_ROOT = join(FIX, 'jetson');
    const [cool] = await runBenchmark(md, [], opts);
    const h = hot.data as BenchmarkData, c = cool.data as BenchmarkData;
    assert.match(hot.verdict.summary, /^THROTTLED during the measurement \(Pi firmware: under-voltage, throttled \(before\)/);
    assert.ok(h.conditions!.samples.some((s) => s.phase === 'latency') && h.conditions!.samples.at(-1)!.phase === 'after');
    assert.equal(h.latencyQuantilesMs!.length, 33);
    assert.ok(h.latencyQuantilesMs![0] <= h.latencyMs.p50 && h.latencyMs.p50 <= h.latencyQuantilesMs![32]);
    assert.equal(c.conditions!.throttled, false);
    // the fixture's VDD_IN is a constant 6146.8 mW: energy = 6146.8 x mean latency / 1000
    assert.ok(Math.abs(c.conditions!.energyPerInferenceMJ! - (6146.8 * c.latencyMs.mean) / 1000) < 1e-6);
    const row = (deviceId: string) => ({ deviceId, model: 'demo', variant: 'fp32', sibling: () => [] });
    assert.equal(benchmarkContract.report.cells([{ deviceId: 'pi', record: hot as never }], row('pi')).throttled?.text, 'YES');
    assert.equal(benchmarkContract.report.cells([{ deviceId: 'jet', record: cool as never }], row('jet')).throttled?.text, 'no');
  } finally {
    if (saved === undefined) delete process.env.EDGEPROBE_SENSOR_ROOT; else process.env.EDGEPROBE_SENSOR_ROOT = saved;
  }
});

test('the software fingerprint: the distribution from os-release, else the platform; the onnxruntime version installed', async () => {
  const { osName, softwareFingerprint } = await import('../agent/telemetry/software.ts');
  assert.equal(osName(join(FIX, 'pi', 'etc', 'os-release')), 'Debian GNU/Linux 12 (bookworm)');
  assert.equal(osName(join(tmp, 'missing')), process.platform);
  const sw = softwareFingerprint();
  assert.match(sw.onnxruntime, /^\d+\.\d+\.\d+/);
  assert.equal(sw.node, process.version);
});
