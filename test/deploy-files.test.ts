import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validate } from 'dockerfile-utils';
import { parse as parseYaml } from 'yaml';
import { loadAgentConfig } from '../agent/config/agent-config.ts';
import { loadCoordinatorConfig } from '../coordinator/config/coordinator-config.ts';
import { dockerignoreMatcher, readDockerfile } from '../scripts/dockerfile-model.ts';
import { runCli } from './helpers/run-cli.ts';
import { PROJECT_ROOT } from '../harness/shared-data.ts';
import { needsMosquitto } from './helpers/secure-mosquitto.ts';

// No Docker engine runs here: these checks read the Dockerfile, compose file and systemd unit the way the
// engines would and hold them to the deployment rules (docs/deploy.md).
const at = (...p: string[]): string => join(PROJECT_ROOT, ...p);
const DOCKERFILE = at('Dockerfile');
/** Official images published for both linux/amd64 and linux/arm64 (Docker Hub "official images"). */
const MULTI_ARCH_OFFICIAL = [/^node:20-bookworm-slim$/, /^eclipse-mosquitto:2(\.\d+)*$/];

describe('Dockerfile', () => {
  const model = readDockerfile(DOCKERFILE);
  const final = model.stages[model.stages.length - 1];
  const steps = (k: string) => final.steps.filter((s) => s.keyword === k);

  it('passes the dockerfile-utils linter with no diagnostics', () => {
    const diagnostics = validate(readFileSync(DOCKERFILE, 'utf8'));
    assert.deepEqual(diagnostics.map((d) => `line ${d.range.start.line + 1}: ${d.message}`), []);
  });

  it('builds in stages from a slim, multi-arch official Node 20 image', () => {
    assert.ok(model.stages.length >= 2, 'multi-stage');
    for (const s of model.stages) assert.ok(MULTI_ARCH_OFFICIAL.some((re) => re.test(s.base)), `${s.name} FROM ${s.base}`);
    const build = model.stages[0];
    const runs = build.steps.filter((s) => s.keyword === 'RUN').map((s) => s.text).join('\n');
    assert.match(runs, /install .*python3.*make.*g\+\+/, 'toolchain for better-sqlite3');
    assert.match(runs, /npm ci --omit=dev/);
    const env = Object.fromEntries(build.steps.flatMap((s) => s.env ?? []));
    assert.equal(env.npm_config_build_from_source, 'true');
    assert.equal(env.ONNXRUNTIME_NODE_INSTALL, 'skip', 'no CUDA download unless asked for');
    assert.ok(!final.steps.some((s) => s.keyword === 'RUN' && /apt-get install/.test(s.text)), 'no compilers in the runtime image');
  });

  it('copies only files that exist and are in the build context', () => {
    const ignored = dockerignoreMatcher(PROJECT_ROOT);
    for (const stage of model.stages) {
      for (const s of stage.steps.filter((x) => (x.keyword === 'COPY' || x.keyword === 'ADD') && !x.from)) {
        for (const src of s.args.slice(0, -1)) {
          assert.ok(existsSync(at(src)), `Dockerfile:${s.line} COPY ${src}: missing`);
          assert.equal(ignored(src), false, `Dockerfile:${s.line} COPY ${src}: excluded by .dockerignore`);
        }
      }
      for (const s of stage.steps.filter((x) => x.from)) assert.ok(model.stages.some((st) => st.name === s.from), `COPY --from=${s.from}`);
    }
    // every top-level source directory the CLI imports from is copied
    const copied = new Set(final.steps.filter((s) => s.keyword === 'COPY').flatMap((s) => s.args.slice(0, -1)));
    for (const dir of ['bin', 'cli', 'core', 'probes', 'agent', 'coordinator', 'models', 'configs']) assert.ok(copied.has(dir), `COPY ${dir}`);
    for (const secret of ['secrets/certs/ca.key', 'secrets/users/pi.password', 'configs/mosquitto/passwd', 'x/server.key']) {
      assert.equal(ignored(secret), true, `${secret} must stay out of the build context`);
    }
  });

  it('runs as a non-root user with a health check, one image for agent and coordinator', () => {
    const user = steps('USER').pop();
    assert.ok(user, 'USER set');
    assert.doesNotMatch(user.text, /^(root|0)(:|$)/);
    const iUser = final.steps.indexOf(user);
    assert.ok(final.steps.slice(iUser).every((s) => s.keyword !== 'RUN'), 'nothing runs as root after USER');
    const hc = steps('HEALTHCHECK').pop();
    assert.ok(hc, 'HEALTHCHECK');
    const entry = steps('ENTRYPOINT').pop();
    assert.deepEqual(entry?.args, ['node', '/app/bin/edgeprobe.js'], 'exec form, the command picks agent or coordinator');
    // the HEALTHCHECK's subcommand is a real CLI command
    const hcArgs = hc.args.slice(hc.args.indexOf('CMD') + 1);
    assert.equal(hcArgs[2], 'health');
    assert.equal(runCli(['health', '--help']).status, 0);
  });
});

interface ComposeService {
  image?: string; build?: string; command?: string[]; volumes?: string[]; ports?: string[];
  depends_on?: Record<string, { condition: string }>; healthcheck?: { test: string[] }; init?: boolean;
}

describe('docker-compose.yml', () => {
  const compose = parseYaml(readFileSync(at('docker-compose.yml'), 'utf8')) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
  const s = compose.services;
  const mounts = (svc: ComposeService) => (svc.volumes ?? []).map((v) => {
    const [src, target, mode] = v.split(':');
    return { src, target, mode };
  });
  const tmp = mkdtempSync(join(tmpdir(), 'edgeprobe-compose-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('has the broker, the coordinator and one agent, built from this repo', () => {
    assert.deepEqual(Object.keys(s).sort(), ['agent', 'coordinator', 'mosquitto']);
    assert.ok(MULTI_ARCH_OFFICIAL.some((re) => re.test(s.mosquitto.image ?? '')), s.mosquitto.image);
    assert.equal(s.coordinator.build, '.');
    assert.equal(s.agent.build, '.');
    assert.equal(s.coordinator.image, s.agent.image, 'one image');
    assert.equal(s.coordinator.command?.[0], 'coordinator');
    assert.equal(s.agent.command?.[0], 'agent');
    for (const n of ['coordinator', 'agent']) {
      assert.equal(s[n].depends_on?.mosquitto?.condition, 'service_healthy', `${n} waits for the broker`);
      assert.equal(s[n].init, true, `${n}: an init forwards signals to node`);
      assert.equal(s[n].ports, undefined, `${n} publishes no port`);
    }
    assert.deepEqual(s.mosquitto.ports, ['8883:8883'], 'only the TLS port is published');
    assert.ok(s.mosquitto.healthcheck?.test.length, 'broker healthcheck');
  });

  it('mounts committed configs that exist, and secrets that scripts/compose-secrets.sh makes', { skip: needsMosquitto }, () => {
    const r = spawnSync('bash', [at('scripts', 'compose-secrets.sh'), tmp], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const [name, svc] of Object.entries(s)) {
      for (const m of mounts(svc)) {
        if (!m.src.startsWith('./')) {
          assert.ok(m.src in compose.volumes, `${name}: named volume ${m.src} declared`);
          continue;
        }
        const rel = m.src.slice(2);
        const where = rel.startsWith('secrets/') ? join(tmp, rel) : at(rel);
        assert.ok(existsSync(where), `${name}: ${m.src} -> ${where}`);
        assert.equal(m.mode, 'ro', `${name}: ${m.src} mounted read-only`);
      }
    }
    assert.ok(!mounts(s.mosquitto).some((m) => m.src.endsWith('ca.key')), 'the CA key is never mounted');
  });

  it('points each service config at paths its mounts provide', () => {
    const targets = (svc: ComposeService) => new Set(mounts(svc).map((m) => m.target));
    const under = (svc: ComposeService, p: string) => [...targets(svc)].some((t) => p === t || p.startsWith(`${t}/`));
    // Mosquitto: every file the shipped config names
    const conf = readFileSync(at('configs', 'mosquitto', 'mosquitto.conf'), 'utf8');
    for (const key of ['password_file', 'acl_file', 'certfile', 'keyfile', 'cafile', 'persistence_location']) {
      const value = conf.match(new RegExp(`^${key} (.+)$`, 'm'))?.[1];
      assert.ok(value, `mosquitto.conf sets ${key}`);
      assert.ok(under(s.mosquitto, value.replace(/\/$/, '')), `mosquitto: ${key} ${value} is mounted`);
    }
    // edgeprobe services: the config file named on the command line, and the files it names
    for (const [name, load] of [['agent', loadAgentConfig], ['coordinator', loadCoordinatorConfig]] as const) {
      const svc = s[name];
      const cfgTarget = svc.command![svc.command!.indexOf('--config') + 1];
      const src = mounts(svc).find((m) => m.target === cfgTarget)?.src;
      assert.ok(src, `${name}: ${cfgTarget} mounted`);
      const cfg = load(at(src.slice(2))).value;
      assert.match(cfg.broker!.url, /^mqtts:\/\/mosquitto:8883$/, `${name} uses TLS to the broker service`);
      for (const p of [cfg.broker!.passwordFile!, cfg.broker!.caFile!]) assert.ok(under(svc, p), `${name}: ${p} is mounted`);
    }
    const agentCfg = loadAgentConfig(at('configs', 'compose', 'agent.json')).value;
    const coordCfg = loadCoordinatorConfig(at('configs', 'compose', 'coordinator.json')).value;
    assert.ok(coordCfg.admission.allowDevices.includes(agentCfg.deviceId!), 'the compose agent is admitted');
    const secrets = readFileSync(at('scripts', 'compose-secrets.sh'), 'utf8');
    assert.match(secrets, new RegExp(`add-user ${agentCfg.deviceId} `), 'compose-secrets.sh makes the agent user');
    assert.match(secrets, /--hosts "\$hosts"/);
    assert.match(secrets, /hosts="mosquitto,/, 'the broker certificate names the compose service');
  });
});

describe('systemd unit', () => {
  const unit = readFileSync(at('configs', 'systemd', 'edgeprobe-agent.service'), 'utf8');
  const value = (k: string) => unit.match(new RegExp(`^${k}=(.*)$`, 'm'))?.[1];
  it('runs the agent as an unprivileged user with its config, restarting on failure', () => {
    assert.equal(value('User'), 'edgeprobe');
    assert.match(value('ExecStart') ?? '', /\/bin\/edgeprobe\.js agent --config \/etc\/edgeprobe\/agent\.json$/);
    assert.equal(value('Restart'), 'on-failure');
    assert.equal(value('NoNewPrivileges'), 'true');
    assert.equal(value('ProtectSystem'), 'strict');
    assert.equal(value('StateDirectory'), 'edgeprobe');
    assert.equal(value('WantedBy'), 'multi-user.target');
  });
  const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;
  it('passes systemd-analyze verify', { skip: analyze ? false : 'systemd-analyze not installed' }, () => {
    const r = spawnSync('systemd-analyze', ['verify', at('configs', 'systemd', 'edgeprobe-agent.service')], { encoding: 'utf8' });
    const complaints = r.stderr.split('\n').filter((l) => l.trim() && !/Failed to .*(connect|bus)|not booted|\/usr\/bin\/node/i.test(l));
    assert.deepEqual(complaints, []);
    assert.equal(r.status, 0);
  });
});
