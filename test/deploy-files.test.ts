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
import { dockerignoreMatcher, readDockerfile, type Step } from '../scripts/dockerfile-model.ts';
import { runCli } from './helpers/run-cli.ts';
import { PROJECT_ROOT } from '../harness/shared-data.ts';
import { needsMosquitto } from './helpers/secure-mosquitto.ts';

// These checks read the Dockerfile, compose file and systemd unit the way the engines would and hold them to
// the deployment rules (docs/deploy.md); test/docker-images.test.ts builds and runs the images for real.
const at = (...p: string[]): string => join(PROJECT_ROOT, ...p);
const DOCKERFILE = at('Dockerfile');
/** Official images published for both linux/amd64 and linux/arm64 (Docker Hub "official images"). */
const MULTI_ARCH_OFFICIAL = [/^node:24-bookworm-slim$/, /^eclipse-mosquitto:2(\.\d+)*$/];

describe('Dockerfile', () => {
  const model = readDockerfile(DOCKERFILE);
  const stage = (name: string) => model.stages.find((s) => s.name === name)!;
  /** a stage's steps after those of the stages it is built FROM */
  const chain = (name: string): Step[] => {
    const s = stage(name);
    return model.stages.some((x) => x.name === s.base) ? [...chain(s.base), ...s.steps] : s.steps;
  };
  const final = model.stages[model.stages.length - 1];
  const finalSteps = chain(final.name);
  const steps = (k: string) => finalSteps.filter((s) => s.keyword === k);

  it('passes the dockerfile-utils linter with no diagnostics', () => {
    const diagnostics = validate(readFileSync(DOCKERFILE, 'utf8'));
    assert.deepEqual(diagnostics.map((d) => `line ${d.range.start.line + 1}: ${d.message}`), []);
  });

  it('builds in stages from a slim, multi-arch official Node 24 image (the newest LTS), shipping the build', () => {
    assert.ok(model.stages.length >= 2, 'multi-stage');
    for (const s of model.stages) {
      assert.ok(MULTI_ARCH_OFFICIAL.some((re) => re.test(s.base)) || model.stages.some((x) => x.name === s.base), `${s.name} FROM ${s.base}`);
    }
    const build = stage('build');
    const runs = build.steps.filter((s) => s.keyword === 'RUN').map((s) => s.text).join('\n');
    assert.match(runs, /install .*python3.*make.*g\+\+/, 'toolchain for better-sqlite3');
    assert.match(runs, /npm ci /);
    assert.match(runs, /npm run build/, 'the image runs the shipped JavaScript');
    assert.match(runs, /npm prune --omit=dev/, 'no dev dependencies (tsx, esbuild, typescript) in the image');
    assert.match(runs, /onnxruntime-node\/bin\/napi-v6.*! -name linux.*! -name "\$arch"/s, 'only this platform\'s onnxruntime binaries');
    const env = Object.fromEntries(build.steps.flatMap((s) => s.env ?? []));
    assert.equal(env.npm_config_build_from_source, 'true');
    assert.equal(env.ONNXRUNTIME_NODE_INSTALL, 'skip', 'no CUDA download unless asked for');
    assert.ok(!finalSteps.some((s) => s.keyword === 'RUN' && /apt-get install/.test(s.text)), 'no compilers in the runtime image');
  });

  it('copies only files that exist and are in the build context', () => {
    const ignored = dockerignoreMatcher(PROJECT_ROOT);
    for (const st of model.stages) {
      for (const s of st.steps.filter((x) => (x.keyword === 'COPY' || x.keyword === 'ADD') && !x.from)) {
        for (const src of s.args.slice(0, -1)) {
          assert.ok(existsSync(at(src)), `Dockerfile:${s.line} COPY ${src}: missing`);
          assert.equal(ignored(src), false, `Dockerfile:${s.line} COPY ${src}: excluded by .dockerignore`);
        }
      }
      for (const s of st.steps.filter((x) => x.from)) assert.ok(model.stages.some((other) => other.name === s.from), `COPY --from=${s.from}`);
    }
    // every top-level source directory the build bundles is copied into the build stage
    const copied = new Set(stage('build').steps.filter((s) => s.keyword === 'COPY').flatMap((s) => s.args.slice(0, -1)));
    for (const dir of ['bin', 'cli', 'core', 'probes', 'agent', 'coordinator', 'models', 'sim', 'configs', 'scripts']) assert.ok(copied.has(dir), `COPY ${dir}`);
    for (const secret of ['secrets/certs/ca.key', 'secrets/users/pi.password', 'configs/mosquitto/passwd', 'x/server.key']) {
      assert.equal(ignored(secret), true, `${secret} must stay out of the build context`);
    }
  });

  it('runs as a non-root user with a health check; agent and coordinator targets with their default commands', () => {
    const user = steps('USER').pop();
    assert.ok(user, 'USER set');
    assert.doesNotMatch(user.text, /^(root|0)(:|$)/);
    const iUser = finalSteps.indexOf(user);
    assert.ok(finalSteps.slice(iUser).every((s) => s.keyword !== 'RUN'), 'nothing runs as root after USER');
    const hc = steps('HEALTHCHECK').pop();
    assert.ok(hc, 'HEALTHCHECK');
    const entry = steps('ENTRYPOINT').pop();
    assert.deepEqual(entry?.args, ['node', '/app/bin/edgeprobe.js'], 'exec form, the command picks agent or coordinator');
    // the HEALTHCHECK's subcommand is a real CLI command
    const hcArgs = hc.args.slice(hc.args.indexOf('CMD') + 1);
    assert.equal(hcArgs[2], 'health');
    assert.equal(runCli(['health', '--help']).status, 0);
    for (const role of ['agent', 'coordinator']) {
      const cmd = chain(role).filter((s) => s.keyword === 'CMD').pop();
      assert.deepEqual(cmd?.args, [role, '--config', `/etc/edgeprobe/${role}.json`], `${role} target`);
    }
    assert.equal(final.name, 'agent', 'a plain docker build makes the agent');
  });

  it('writes only under the data volume: working directory, cache, temp files, health beacon', () => {
    const volume = steps('VOLUME').pop()?.args[0];
    assert.equal(volume, '/var/lib/edgeprobe');
    assert.equal(steps('WORKDIR').pop()?.args[0], volume, 'relative defaults (.edgeprobe/) land on the volume');
    const env = Object.fromEntries(finalSteps.flatMap((s) => s.env ?? []));
    for (const k of ['EDGEPROBE_CACHE', 'EDGEPROBE_HEALTH_FILE', 'TMPDIR', 'HOME']) assert.ok(env[k]?.startsWith(`${volume}/`) || env[k] === volume, `${k}=${env[k]}`);
  });
});

interface ComposeService {
  image?: string; build?: { context: string; target: string }; command?: string[]; volumes?: string[]; ports?: string[];
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
    assert.deepEqual(s.coordinator.build, { context: '.', target: 'coordinator' }, 'one Dockerfile, a target per role');
    assert.deepEqual(s.agent.build, { context: '.', target: 'agent' });
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
