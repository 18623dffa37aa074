import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { freePort } from '../harness/mosquitto.ts';

// The images for real: built by scripts/ci-docker.sh (a CI step of .ci/run, minutes of image building), which
// names them here. Without those variables this file skips: `npm test` does not build images.
const AGENT = process.env.EDGEPROBE_DOCKER_AGENT_IMAGE;
const COORDINATOR = process.env.EDGEPROBE_DOCKER_COORDINATOR_IMAGE;
const BASE = process.env.EDGEPROBE_DOCKER_BASE_IMAGE;
const skip = AGENT && COORDINATOR && BASE ? false : 'images not built: run scripts/ci-docker.sh (sets EDGEPROBE_DOCKER_*_IMAGE)';
/** a small device: a Pi 4 is slower than half of one of this machine's cores for this work */
const SMALL_DEVICE = ['--cpus', '0.5', '--memory', '1g', '--memory-swap', '1g'];
const run = `edgeprobe-test-${process.pid}`;
const work = mkdtempSync(join(tmpdir(), 'edgeprobe-docker-'));
chmodSync(work, 0o755); // the containers' uid 1000 reads the mounted configs

function docker(args: string[], timeoutMs = 1_800_000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('docker', args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
function ok(args: string[], timeoutMs?: number): string {
  const r = docker(args, timeoutMs);
  assert.equal(r.status, 0, `docker ${args.join(' ')}\n${r.stderr.slice(-3000)}\n${r.stdout.slice(-2000)}`);
  return r.stdout.trim();
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Polls until `cond`; a hang guard only, each wait is for work that advances. */
async function until(cond: () => boolean, what: string, log: () => string, limitMs = 900_000): Promise<void> {
  for (const end = Date.now() + limitMs; !cond();) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}\n${log()}`);
    await sleep(1000);
  }
}
const logs = (name: string) => (): string => { const r = docker(['logs', '--tail', '40', name]); return `${name}:\n${r.stdout}${r.stderr}`; };

after(() => {
  rmSync(work, { recursive: true, force: true });
  if (skip) return;
  const names = docker(['ps', '-aq', '--filter', `name=${run}`]).stdout.split('\n').filter(Boolean);
  if (names.length) docker(['rm', '-f', ...names]);
  const vols = docker(['volume', 'ls', '-q', '--filter', `name=${run}`]).stdout.split('\n').filter(Boolean);
  if (vols.length) docker(['volume', 'rm', '-f', ...vols]);
});

describe('docker images', { skip }, () => {
  test('the agent image: only its platform\'s onnxruntime, non-root, size and idle memory reported', (t) => {
    const bytes = Number(ok(['image', 'inspect', '-f', '{{.Size}}', AGENT!]));
    t.diagnostic(`agent image ${(bytes / 1e6).toFixed(0)} MB`);
    assert.ok(bytes <= 300e6, `agent image ${(bytes / 1e6).toFixed(0)} MB, goal <= 300 MB`);
    const ort = ok(['run', '--rm', '--entrypoint', 'sh', AGENT!, '-c', 'cd /app/node_modules/onnxruntime-node/bin/napi-v6 && find . -mindepth 2 -maxdepth 2 -type d; id -u; node -p process.arch']).split('\n');
    const [uid, arch] = ort.slice(-2);
    assert.deepEqual(ort.slice(0, -2), [`./linux/${arch}`], 'darwin, win32 and the other linux arch are gone');
    assert.equal(uid, '1000');
    assert.match(ok(['run', '--rm', AGENT!, '--help']), /edgeprobe <command>/);
    assert.ok(!ok(['run', '--rm', '--entrypoint', 'sh', AGENT!, '-c', 'ls /app/node_modules']).split('\n').includes('tsx'), 'no TypeScript loader');
  });

  test('the coordinator image carries no onnxruntime; a model command in it says so with a coded error', (t) => {
    const bytes = Number(ok(['image', 'inspect', '-f', '{{.Size}}', COORDINATOR!]));
    t.diagnostic(`coordinator image ${(bytes / 1e6).toFixed(0)} MB`);
    const modules = ok(['run', '--rm', '--entrypoint', 'sh', COORDINATOR!, '-c', 'ls /app/node_modules']).split('\n');
    assert.ok(!modules.includes('onnxruntime-node') && !modules.includes('onnxruntime-common'), 'no onnxruntime in the coordinator image');
    assert.ok(modules.includes('better-sqlite3'), 'positive control: its store is there');
    // a model command in the coordinator image: its code loads onnxruntime before it reads the model
    const bench = docker(['run', '--rm', COORDINATOR!, 'bench', '/no-model-here', '--variants', 'fp32']);
    assert.equal(bench.status, 2, bench.stderr);
    assert.match(bench.stderr, /^error \[EP_ONNXRUNTIME_NOT_INSTALLED\]/m);
  });

  test('the demo passes in the agent image on a small device (0.5 CPU, 1 GB), writing only under the data volume', (t) => {
    const t0 = Date.now();
    const out = ok(['run', '--rm', '--name', `${run}-demo`, '--network', 'host', ...SMALL_DEVICE, '--read-only', '-v', `${run}-demo:/var/lib/edgeprobe`, AGENT!, 'demo']);
    t.diagnostic(`demo under --cpus 0.5 --memory 1g: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    assert.match(out, /demo-device-a completed, demo-device-b completed/);
    assert.match(out, /demo-device-b\s+demo\s+int8-dynamic\s/);
  });

  test('broker, coordinator and agent in containers: the agent (0.5 CPU, 1 GB) completes a job; health checks pass', async (t) => {
    const port = await freePort();
    // Mosquitto from Debian's package on the same base image
    const broker = `${run}-mosquitto`;
    const dockerfile = join(work, 'Dockerfile.mosquitto');
    writeFileSync(dockerfile, `FROM ${BASE}\nRUN apt-get update && apt-get install -y --no-install-recommends mosquitto && rm -rf /var/lib/apt/lists/*\nUSER 1000:1000\nENTRYPOINT ["/usr/sbin/mosquitto"]\n`);
    ok(['build', '-q', '--network', 'host', '-t', `${run}-mosquitto-image`, '-f', dockerfile, work]);
    writeFileSync(join(work, 'mosquitto.conf'), `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
    writeFileSync(join(work, 'agent.json'), JSON.stringify({ configVersion: 1, models: [{ name: 'tiny', generated: 'tiny' }], probes: ['benchmark', 'attention', 'compare'], heartbeatIntervalS: 2 }));
    writeFileSync(join(work, 'plan.json'), JSON.stringify({ models: [{ name: 'tiny' }], variants: ['fp32', 'int8-dynamic'], probes: ['benchmark', 'attention', 'compare'], seed: 1,
      benchmark: { seqLen: 16, warmup: 1, minQueries: 5, minDurationS: 0, batchSizes: [2] }, attention: { sentences: 6 }, compare: { sentences: 4 } }));
    const url = `mqtt://127.0.0.1:${port}`;
    const health = ['--health-interval', '2s', '--health-start-period', '5s'];
    ok(['run', '-d', '--name', broker, '--network', 'host', '-v', `${join(work, 'mosquitto.conf')}:/etc/mosquitto/test.conf:ro`, `${run}-mosquitto-image`, '-c', '/etc/mosquitto/test.conf']);
    const coordinator = `${run}-coordinator`;
    ok(['run', '-d', '--name', coordinator, '--network', 'host', ...health, '-v', `${run}-coordinator:/var/lib/edgeprobe`, '-v', `${work}:/etc/edgeprobe-test:ro`,
      COORDINATOR!, 'coordinator', '--broker', url, '--db', 'fleet.sqlite', '--dispatch-interval', '1']);
    const agent = `${run}-agent`;
    ok(['run', '-d', '--name', agent, '--network', 'host', ...SMALL_DEVICE, ...health, '-v', `${run}-agent:/var/lib/edgeprobe`, '-v', `${join(work, 'agent.json')}:/etc/edgeprobe/agent.json:ro`,
      AGENT!, 'agent', '--broker', url, '--device-id', 'docker-1', '--config', '/etc/edgeprobe/agent.json']);
    const healthOf = (name: string) => docker(['inspect', '-f', '{{.State.Health.Status}}', name]).stdout.trim();
    await until(() => healthOf(agent) === 'healthy' && healthOf(coordinator) === 'healthy', 'both containers healthy (HEALTHCHECK)', () => logs(agent)() + logs(coordinator)());
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(ok(['exec', agent, 'cat', '/proc/1/status']))?.[1]);
    t.diagnostic(`agent idle RSS in the image: ${(rssKb / 1024).toFixed(1)} MB`);

    const edgeprobe = (...args: string[]) => ok(['exec', coordinator, 'node', '/app/bin/edgeprobe.js', ...args]);
    await until(() => /docker-1/.test(edgeprobe('jobs', 'devices', '--db', 'fleet.sqlite')), 'the agent registered', logs(coordinator));
    edgeprobe('jobs', 'submit', '--devices', 'docker-1', '--plan', '/etc/edgeprobe-test/plan.json', '--db', 'fleet.sqlite', '--broker', url);
    const t0 = Date.now();
    const list = () => edgeprobe('jobs', 'list', '--db', 'fleet.sqlite');
    await until(() => /docker-1\s+-\s+(completed|failed|timed-out|rejected)/.test(list()), 'the job to finish', () => `${list()}\n${logs(agent)()}`);
    t.diagnostic(`job (fp32 + int8-dynamic x benchmark, attention, compare) on 0.5 CPU / 1 GB: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    assert.match(list(), /docker-1\s+-\s+completed/, list());
    const report = edgeprobe('report', '--db', 'fleet.sqlite');
    assert.match(report, /docker-1\s+tiny\s+int8-dynamic\s/);
    // the agent wrote its state on the volume as uid 1000; nothing else in the container is writable to it
    assert.match(ok(['exec', agent, 'sh', '-c', 'ls /var/lib/edgeprobe/.edgeprobe/agents/docker-1 && (touch /app/x 2>&1 || true)']), /Permission denied|Read-only/);
  });
});
