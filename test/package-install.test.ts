import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../coordinator/store/sqlite-store.ts';
import { Mosquitto, needsMosquitto } from '../harness/mosquitto.ts';
import { PROJECT_ROOT } from '../harness/shared-data.ts';

// What a user gets: `npm pack` (which builds dist/ first), the tarball installed in an empty directory,
// the installed `edgeprobe` launcher run with plain node.
const work = mkdtempSync(join(tmpdir(), 'edgeprobe-package-'));
const app = join(work, 'app');
const cache = join(work, 'cache');
const launcher = join(app, 'node_modules', '.bin', 'edgeprobe');
const pkgDir = join(app, 'node_modules', 'edgeprobe');
let tarball = '';
// better-sqlite3's install runs prebuild-install, which would download a prebuilt addon from GitHub (not
// reachable here) or else compile it (a minute or two of this file's time). The addon this checkout's own
// `npm ci` compiled for this Node is offered as a local prebuild under the name prebuild-install looks for, so
// the install takes the same path a user's does when the download works.
const prebuilds = join(work, 'prebuilds');
const sqlitePkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')) as { version: string };
const prebuildName = `better-sqlite3-v${sqlitePkg.version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
const env: NodeJS.ProcessEnv = { ...process.env, EDGEPROBE_CACHE: cache, ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_better_sqlite3_local_prebuilds: prebuilds };
delete env.npm_config_build_from_source;
const run = (args: string[], timeout = 600_000) => spawnSync(launcher, args, { cwd: app, env, encoding: 'utf8', timeout });
const children: ChildProcess[] = [];

// `npm pack` builds dist/ inside the checkout; a dist/ this file made is removed again, else every later test
// (and the launcher, which prefers dist/) would run the build instead of the sources, and `eslint .` would lint it.
const distDir = join(PROJECT_ROOT, 'dist');
const distExisted = existsSync(distDir);

before(() => {
  mkdirSync(prebuilds);
  const tar = spawnSync('tar', ['czf', join(prebuilds, prebuildName), '-C', join(PROJECT_ROOT, 'node_modules', 'better-sqlite3'), 'build/Release/better_sqlite3.node'], { encoding: 'utf8' });
  assert.equal(tar.status, 0, tar.stderr);
  const pack = spawnSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: PROJECT_ROOT, encoding: 'utf8', env });
  assert.equal(pack.status, 0, pack.stderr);
  // the prepack build prints its own line before npm's JSON
  tarball = join(work, /"filename": "([^"]+)"/.exec(pack.stdout)![1]);
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), '{ "name": "edgeprobe-user", "private": true }\n');
  // dependencies come from npm's cache when the project's own install put them there, else the registry
  const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: app, encoding: 'utf8', env, timeout: 1_200_000 });
  assert.equal(install.status, 0, `npm install of the tarball failed:\n${install.stderr.slice(-4000)}`);
});

after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
  if (!distExisted) rmSync(distDir, { recursive: true, force: true });
});

describe('the npm package', () => {
  test('ships the build, its assets and the launcher, not sources, tests, benchmarks or docs', () => {
    const files = spawnSync('tar', ['tzf', tarball], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    for (const f of ['bin/edgeprobe.js', 'dist/main.js', 'dist/measure-worker.js', 'configs/attention-thresholds.json', 'configs/properties.json',
      'core/corpus/corpus-sentences.txt', 'coordinator/dashboard/public/index.html', 'package.json']) assert.ok(files.includes(f), `${f} is shipped`);
    assert.deepEqual(files.filter((f) => f.endsWith('.ts') || /^(test|bench|docs|scripts|sim|models)\//.test(f)), [], 'no sources, tests, benchmarks or docs');
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; engines: { node: string } };
    for (const dev of ['tsx', 'playwright-core', 'esbuild', 'typescript']) assert.equal(pkg.dependencies[dev], undefined, `${dev} is a dev dependency`);
    assert.equal(pkg.engines.node, '>=22');
    assert.ok(!existsSync(join(app, 'node_modules', 'tsx')), 'no TypeScript loader is installed for the user');
  });

  test('the installed launcher runs --help with plain node', () => {
    const r = run(['--help']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /edgeprobe <command>/);
    assert.match(r.stdout, /demo/);
  });

  test('`edgeprobe demo` from the package completes on both devices, writing only under its cache', () => {
    const r = run(['demo']);
    assert.equal(r.status, 0, r.stderr.slice(-3000));
    assert.match(r.stdout, /demo-device-a completed, demo-device-b completed/);
    assert.match(r.stdout, /demo-device-a\s+demo\s+int8-dynamic\s/);
    assert.ok(existsSync(join(cache, 'generated-models', 'demo', 'model.onnx')), 'the generated model went to the cache');
    assert.ok(!existsSync(join(pkgDir, 'models')), 'nothing was written into the installed package');
  });

  test('an installed agent and coordinator complete a job through Mosquitto; the agent idles small', { skip: needsMosquitto }, async (t) => {
    const broker = await Mosquitto.start();
    try {
      const db = join(work, 'fleet.sqlite');
      const agentCfg = join(work, 'agent.json');
      writeFileSync(agentCfg, JSON.stringify({ configVersion: 1, models: [{ name: 'tiny', generated: 'tiny' }], probes: ['benchmark', 'attention'], heartbeatIntervalS: 1 }));
      const start = (args: string[]): { proc: ChildProcess; out: () => string } => {
        const proc = spawn(launcher, args, { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
        children.push(proc);
        let out = '';
        proc.stdout!.on('data', (d) => { out += d; });
        proc.stderr!.on('data', (d) => { out += d; });
        return { proc, out: () => out };
      };
      const until = async (cond: () => boolean, what: string, out: () => string): Promise<void> => {
        // a hang guard only: each wait here is for seconds of work
        for (const end = Date.now() + 300_000; !cond();) {
          if (Date.now() > end) throw new Error(`gave up waiting for ${what}:\n${out()}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      };
      const agent = start(['agent', '--broker', broker.url, '--device-id', 'pkg-1', '--config', agentCfg, '--state-dir', join(work, 'agent-state')]);
      await until(() => /connected/.test(agent.out()), 'the agent to connect', agent.out);
      const coordinator = start(['coordinator', '--broker', broker.url, '--db', db, '--dispatch-interval', '0.5']);
      await until(() => /coordinator listening/.test(coordinator.out()), 'the coordinator', coordinator.out);
      // idle: connected, several heartbeats (their telemetry loaded), no job yet
      await new Promise((r) => setTimeout(r, 5000));
      const rssMb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${agent.proc.pid}/status`, 'utf8'))![1]) / 1024;
      t.diagnostic(`installed agent idle RSS ${rssMb.toFixed(1)} MB on Node ${process.version}`);
      // onnxruntime and the probe code load only with a job: loading either at idle (or a TypeScript loader) costs 30+ MB
      assert.ok(rssMb < 110, `agent idle RSS ${rssMb.toFixed(1)} MB`);

      const plan = join(work, 'plan.json');
      writeFileSync(plan, JSON.stringify({ models: [{ name: 'tiny' }], variants: ['fp32', 'int8-dynamic'], probes: ['benchmark', 'attention'], seed: 1,
        benchmark: { seqLen: 16, warmup: 1, minQueries: 5, minDurationS: 0, batchSizes: [2] }, attention: { sentences: 6 } }));
      const submit = run(['jobs', 'submit', '--devices', 'pkg-1', '--plan', plan, '--db', db, '--broker', broker.url, '--json']);
      assert.equal(submit.status, 0, submit.stderr);
      const store = openStore(db);
      try {
        const state = (): string => store.jobTargets()[0]?.state ?? 'none';
        await until(() => ['completed', 'failed', 'timed-out', 'rejected'].includes(state()), 'the job', agent.out);
        assert.equal(state(), 'completed', `${store.jobTargets()[0]?.detail}\n${agent.out()}`);
        const kinds = store.results().map((r) => `${r.record.variant.name}/${r.record.probe}`).sort();
        assert.deepEqual(kinds, ['fp32/attention', 'fp32/benchmark', 'int8-dynamic/attention', 'int8-dynamic/benchmark'], 'the benchmark ran its built worker process');
      } finally {
        store.close();
      }
    } finally {
      for (const c of children) c.kill('SIGTERM');
      await broker.dispose();
    }
  });

  // last: it removes onnxruntime from the installed package, as the coordinator image does
  test('without onnxruntime (the coordinator image) the coordinator and its dashboard run; a model command says what is missing', { skip: needsMosquitto }, async () => {
    renameSync(join(app, 'node_modules', 'onnxruntime-node'), join(work, 'onnxruntime-node-removed'));
    // the demo's generated model (made by the demo test above) benchmarked: the command that loads onnxruntime
    const bench = run(['bench', join(cache, 'generated-models', 'demo'), '--variants', 'fp32']);
    assert.equal(bench.status, 2, bench.stderr);
    assert.match(bench.stderr, /^error \[EP_ONNXRUNTIME_NOT_INSTALLED\]: .*\nfix: .*agent image/m);
    assert.doesNotMatch(bench.stderr, /\bat \S+ \(/, 'no stack trace');
    // the demo's agents fail their job (their runners load onnxruntime): the demo fails and says why
    const demo = run(['demo']);
    assert.equal(demo.status, 2, demo.stderr);
    assert.match(demo.stderr, /^error \[EP_DEMO_JOB_FAILED\]: .*demo-device-a failed \(.*onnxruntime-node/m);
    const broker = await Mosquitto.start();
    try {
      const coordinator = spawn(launcher, ['coordinator', '--broker', broker.url, '--db', join(work, 'no-ort.sqlite'), '--http', '0'], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(coordinator);
      let out = '';
      coordinator.stdout!.on('data', (d) => { out += d; });
      coordinator.stderr!.on('data', (d) => { out += d; });
      const exited = new Promise<number | null>((r) => coordinator.on('exit', r));
      // a hang guard only: the coordinator starts in a second or two
      for (const end = Date.now() + 120_000; !(/coordinator listening/.test(out) && /dashboard listening/.test(out));) {
        if (Date.now() > end || coordinator.exitCode !== null) assert.fail(`the coordinator did not start without onnxruntime:\n${out}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      coordinator.kill('SIGTERM');
      assert.equal(await exited, 0, out);
    } finally {
      await broker.dispose();
    }
  });
});
