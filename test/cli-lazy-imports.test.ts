import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../harness/shared-data.ts';

// Every command module is imported when the CLI builds its parser; heavy modules belong in the handlers,
// so `edgeprobe agent` (idle on a small device) never maps onnxruntime or the tokenizers addon.
test('registering every CLI command loads no native inference addon (onnxruntime, tokenizers)', () => {
  const script = `
    await import(${JSON.stringify(join(PROJECT_ROOT, 'cli', 'commands', 'index.ts'))});
    const maps = (await import('node:fs')).readFileSync('/proc/self/maps', 'utf8');
    console.log(JSON.stringify({ onnxruntime: /onnxruntime/.test(maps), tokenizers: /tokenizers/.test(maps), sqlite: /better_sqlite3/.test(maps) }));
    if (process.argv[1] === 'control') { await import('onnxruntime-node'); console.log(/onnxruntime/.test((await import('node:fs')).readFileSync('/proc/self/maps', 'utf8'))); }
  `;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, 'control'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const [first, control] = run.stdout.trim().split('\n');
  assert.deepEqual(JSON.parse(first), { onnxruntime: false, tokenizers: false, sqlite: false });
  assert.equal(control, 'true', 'the check can fail: importing onnxruntime-node does map it');
});
