/**
 * Images: sizes, the shipped agent's idle memory inside its image, the demo and one agent job on a small
 * device (docker run --cpus 0.5 --memory 1g). Needs a Docker engine and the images scripts/ci-docker.sh builds
 * (names in EDGEPROBE_DOCKER_AGENT_IMAGE / EDGEPROBE_DOCKER_COORDINATOR_IMAGE, defaults as that script tags them).
 * The containers use the host network and a Mosquitto on loopback.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Mosquitto } from '../harness/mosquitto.ts';
import { writeBenchResult } from './bench-result.ts';

const AGENT = process.env.EDGEPROBE_DOCKER_AGENT_IMAGE ?? 'edgeprobe-agent:ci';
const COORDINATOR = process.env.EDGEPROBE_DOCKER_COORDINATOR_IMAGE ?? 'edgeprobe-coordinator:ci';
const SMALL = ['--cpus', '0.5', '--memory', '1g', '--memory-swap', '1g'];

function docker(args: string[]): string {
  const r = spawnSync('docker', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout.trim();
}
const mb = (bytes: number): number => Math.round(bytes / 1e5) / 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const agentBytes = Number(docker(['image', 'inspect', '-f', '{{.Size}}', AGENT]));
  const coordinatorBytes = Number(docker(['image', 'inspect', '-f', '{{.Size}}', COORDINATOR]));
  const [appKb, nodeKb] = docker(['run', '--rm', '--entrypoint', 'sh', AGENT, '-c', 'du -sk /app /usr/local/bin/node | cut -f1']).split('\n').map(Number);

  const t0 = performance.now();
  const demo = docker(['run', '--rm', '--network', 'host', ...SMALL, '--read-only', AGENT, 'demo']);
  const demoS = (performance.now() - t0) / 1000;
  if (!/demo-device-a completed, demo-device-b completed/.test(demo)) throw new Error(`demo did not complete:\n${demo}`);

  const broker = await Mosquitto.start();
  const work = mkdtempSync(join(tmpdir(), 'edgeprobe-bench-images-'));
  chmodSync(work, 0o755);
  const name = `edgeprobe-bench-agent-${process.pid}`;
  try {
    writeFileSync(join(work, 'agent.json'), JSON.stringify({ configVersion: 1, models: [{ name: 'tiny', generated: 'tiny' }], probes: ['benchmark'], heartbeatIntervalS: 1 }));
    docker(['run', '-d', '--name', name, '--network', 'host', ...SMALL, '-v', `${join(work, 'agent.json')}:/etc/edgeprobe/agent.json:ro`,
      AGENT, 'agent', '--broker', broker.url, '--device-id', 'bench-img', '--config', '/etc/edgeprobe/agent.json']);
    for (let i = 0; i < 300 && !/connected/.test(spawnSync('docker', ['logs', name], { encoding: 'utf8' }).stderr); i++) await sleep(1000);
    await sleep(8000); // several heartbeats: telemetry loaded, steady state
    const status = docker(['exec', name, 'cat', '/proc/1/status']);
    const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]);
    const [rssKb, anonKb, fileKb] = [kb('VmRSS'), kb('RssAnon'), kb('RssFile')];
    const node = docker(['exec', name, 'node', '--version']);
    writeBenchResult({
      topic: 'images',
      title: 'Images: size, idle memory, the demo on a small device',
      rows: [
        { metric: 'agent image size', value: mb(agentBytes), unit: 'MB', target: '<= 300', pass: agentBytes <= 300e6 },
        { metric: 'coordinator image size', value: mb(coordinatorBytes), unit: 'MB' },
        { metric: 'agent image: /app (build + production dependencies)', value: Math.round(appKb / 1024), unit: 'MB' },
        { metric: 'agent image: node binary', value: Math.round(nodeKb / 1024), unit: 'MB' },
        { metric: `agent idle RSS inside the image (Node ${node}, --cpus 0.5 --memory 1g)`, value: Math.round(rssKb / 102.4) / 10, unit: 'MB', target: '<= 80', pass: rssKb / 1024 <= 80 },
        { metric: 'agent idle RSS inside the image: private (anonymous) part', value: Math.round(anonKb / 102.4) / 10, unit: 'MB' },
        { metric: 'agent idle RSS inside the image: file-backed part (mostly the node binary\'s pages)', value: Math.round(fileKb / 102.4) / 10, unit: 'MB' },
        { metric: 'demo wall time in the agent image, --cpus 0.5 --memory 1g', value: Math.round(demoS), unit: 's' },
      ],
      notes: [
        `Images ${AGENT} and ${COORDINATOR} as scripts/ci-docker.sh builds them: base images from scripts/make-base-image.sh (Debian bookworm minbase from debootstrap + Node from the npm registry's node-linux package; the official node:24-bookworm-slim is the Dockerfile's default).`,
        'The agent image carries only its platform\'s onnxruntime binaries and the compiled better-sqlite3 module; the node binary is most of the rest. The coordinator image has no onnxruntime (it never runs a model).',
        'Idle: connected to Mosquitto on loopback, heartbeats every second, no job. The demo runs both agents, the coordinator and an embedded broker in one container.',
        'The file-backed part is mostly the node binary\'s own pages (shared with other node processes, reclaimable); the idle-memory benchmark has the same package outside any container per Node line, and what V8 flags would change.',
      ],
    });
    console.log(JSON.stringify({ agentMB: mb(agentBytes), coordinatorMB: mb(coordinatorBytes), rssMB: rssKb / 1024, demoS }, null, 2));
  } finally {
    spawnSync('docker', ['rm', '-f', name]);
    await broker.dispose();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
