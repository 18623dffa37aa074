import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CpuLoad, cpuTemperature, memoryUse } from '../agent/telemetry/light-readings.ts';

const times = (user: number, sys: number, idle: number) => ({ user, nice: 0, sys, irq: 0, idle });

test('CPU load is busy / total time since the previous sample, over all cores', () => {
  const samples = [
    [times(100, 50, 850), times(0, 0, 1000)], // since boot: 150 busy of 2000 = 7.5 %
    [times(400, 50, 1050), times(100, 0, 1400)], // deltas: core 0 300 busy + 200 idle, core 1 100 busy + 400 idle -> 400/1000
  ];
  let i = 0;
  const load = new CpuLoad(() => samples[i++]);
  assert.equal(load.sample(), 7.5);
  assert.equal(load.sample(), 40);
});

test('memory in use is MemTotal - MemAvailable from /proc/meminfo', () => {
  const meminfo = 'MemTotal:        8000000 kB\nMemFree:          500000 kB\nMemAvailable:    6000000 kB\nBuffers: 1 kB\n';
  assert.deepEqual(memoryUse(meminfo), { used: 2_000_000 * 1024, total: 8_000_000 * 1024 });
  const fallback = memoryUse('');
  assert.ok(fallback.total > 0 && fallback.used > 0 && fallback.used <= fallback.total, 'node:os where /proc/meminfo is missing');
});

test('CPU temperature from the CPU thermal zone (millidegrees), null without one', () => {
  const root = mkdtempSync(join(tmpdir(), 'edgeprobe-thermal-'));
  try {
    assert.equal(cpuTemperature(join(root, 'missing')), null);
    assert.equal(cpuTemperature(root), null, 'no zones');
    for (const [zone, type, milli] of [['thermal_zone0', 'acpitz', '27800'], ['thermal_zone1', 'x86_pkg_temp', '51250']]) {
      mkdirSync(join(root, zone));
      writeFileSync(join(root, zone, 'type'), `${type}\n`);
      writeFileSync(join(root, zone, 'temp'), `${milli}\n`);
    }
    assert.equal(cpuTemperature(root), 51.25, 'the CPU package zone, not the first zone');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
