import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { boardKind, deviceProfile, dotProductFlags, readBoardModel } from '../agent/device-profile.ts';
import { jsonResult, runCli } from './helpers/run-cli.ts';

test('board model from a device-tree file (NUL-terminated) and its kind', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeprobe-dt-'));
  try {
    const path = join(dir, 'model');
    writeFileSync(path, 'Raspberry Pi 4 Model B Rev 1.4\0');
    assert.equal(readBoardModel(path), 'Raspberry Pi 4 Model B Rev 1.4');
    assert.equal(boardKind(readBoardModel(path)), 'raspberry-pi');
    assert.equal(boardKind('NVIDIA Jetson Orin Nano Developer Kit'), 'jetson');
    assert.equal(boardKind(null), null);
    assert.equal(readBoardModel(join(dir, 'absent')), null);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('dot-product instruction flags are picked out of a CPU flag list', () => {
  assert.deepEqual(dotProductFlags(['fp', 'asimd', 'asimddp', 'aes']), ['asimddp']);
  assert.deepEqual(dotProductFlags(['sse4_2', 'avx2', 'AVX512_VNNI']), ['avx512_vnni']);
  assert.deepEqual(dotProductFlags(['sse2']), []);
});

test('device profile of this machine, and the device command', async () => {
  const p = await deviceProfile();
  assert.ok(p.cpu.cores >= 1 && p.memory.totalMB > 0);
  assert.ok(p.cpu.flags.length > 0);
  assert.ok(p.onnxruntime.executionProviders.some((e) => e.name === 'cpu' && e.bundled));
  assert.match(p.onnxruntime.version, /^\d+\.\d+/);
  const run = runCli(['--json', 'device']);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(jsonResult<typeof p>(run).os.arch, p.os.arch);
});
