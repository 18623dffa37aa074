import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { IS_BUILD, workerScript } from '../core/build-layout.ts';
import { EXTERNAL, lazyMqttTransportTable, WORKERS } from '../scripts/build.ts';
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

test('the build\'s mqtt connect() requires only the transport of the URL it connects to', () => {
  // mqtt's real connect/index.js as the build rewrites it, run with a require() that records what is loaded
  // and stands in for the client and the transports (the installed mqtt version is the one checked)
  const file = createRequire(import.meta.url).resolve('mqtt/lib/connect/index');
  const source = lazyMqttTransportTable(readFileSync(file, 'utf8'), file);
  const loaded: string[] = [];
  const transport = (name: string) => ({ default: (_c: unknown, o: { protocol: string }) => `${name}:${o.protocol}`, streamBuilder: (_c: unknown, o: { protocol: string }) => `${name}:${o.protocol}` });
  class FakeClient {
    stream: string;
    constructor(wrapper: (c: unknown) => string) { this.stream = wrapper(this); }
    on(): void {}
  }
  const fakeRequire = (id: string): unknown => {
    loaded.push(id);
    if (id === 'debug') return () => () => {};
    if (id === 'url') return createRequire(import.meta.url)('node:url');
    if (id === '../client') return { __esModule: true, default: FakeClient };
    if (id === '../is-browser') return { __esModule: true, default: false };
    if (['./tcp', './tls', './ws'].includes(id)) return transport(id.slice(2));
    throw new Error(`unexpected require(${id})`);
  };
  const module = { exports: {} as { default: (url: string, opts: object) => FakeClient } };
  new Function('require', 'module', 'exports', source)(fakeRequire, module, module.exports);
  const transports = () => loaded.filter((id) => id.startsWith('./'));
  assert.deepEqual(transports(), [], 'nothing is required before a connection');
  assert.equal(module.exports.default('mqtt://127.0.0.1:1883', {}).stream, 'tcp:mqtt');
  assert.deepEqual(transports(), ['./tcp']);
  assert.equal(module.exports.default('mqtts://broker.example:8883', {}).stream, 'tls:mqtts');
  assert.equal(module.exports.default('wss://broker.example/mqtt', {}).stream, 'ws:wss');
  assert.deepEqual(transports(), ['./tcp', './tls', './ws']);
  assert.throws(() => lazyMqttTransportTable('module.exports = {}', 'x.js'), /update lazyMqttTransportTable/);
});
