import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { IS_BUILD, workerScript } from '../core/build-layout.ts';
import { EXTERNAL, WORKERS } from '../scripts/build.ts';
import { PROJECT_ROOT } from '../harness/shared-data.ts';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('every script forked through workerScript() is an entry point of the build', () => {
  const forked = ['cli', 'core', 'probes', 'agent', 'coordinator', 'models', 'sim'].flatMap((d) => sources(join(PROJECT_ROOT, d))).flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    return [...text.matchAll(/workerScript\(new URL\('([^']+)', import\.meta\.url\)\)/g)].map((m) => relative(PROJECT_ROOT, join(file, '..', m[1])));
  });
  assert.ok(forked.includes('probes/benchmark/measure-worker.ts'), 'the benchmark worker is forked this way');
  assert.ok(forked.includes('probes/properties/layer-worker.ts'), 'and the properties layer worker thread starts from it in the build');
  for (const f of forked) assert.ok(WORKERS.includes(f), `${f} is forked but not in scripts/build.ts WORKERS`);
});

test('from the sources a worker runs through tsx; the shipped dependencies are exactly the build\'s externals', () => {
  assert.equal(IS_BUILD, false);
  const w = workerScript(new URL('../probes/benchmark/measure-worker.ts', import.meta.url));
  assert.equal(w.path, join(PROJECT_ROOT, 'probes', 'benchmark', 'measure-worker.ts'));
  assert.match(w.execArgv.join(' '), /--import .*tsx/);
  // a bundled package needs no install; an external one must be a dependency, or the package breaks
  const deps = Object.keys((JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies).sort();
  assert.deepEqual(deps, EXTERNAL.filter((e) => e !== 'pg-native').sort());
});
