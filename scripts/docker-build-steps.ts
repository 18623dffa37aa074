/**
 * Replays the Dockerfile without a Docker engine (none runs on the machine this was written on):
 * every stage gets a clean temp directory standing for /app; COPY copies the same files (from the repo or
 * from an earlier stage), RUN runs the same commands with the same ENV, and the final image's ENTRYPOINT
 * is run with `--help` and its HEALTHCHECK is run too.
 *
 * What cannot be replayed is skipped and printed: `apt-get` (needs root and the Debian mirror; the tools it
 * installs are checked on PATH instead) and RUN steps that only prepare system directories outside /app.
 * One substitution: npm_config_nodedir points at this machine's node headers when /usr/local has none.
 *
 *   node --import tsx scripts/docker-build-steps.ts [--keep]
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dockerignoreMatcher, readDockerfile, type Stage } from './dockerfile-model.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const APP = '/app';
const keep = process.argv.includes('--keep');
const log = (s: string): void => { process.stdout.write(`${s}\n`); };

const ignored = dockerignoreMatcher(ROOT);

function inApp(dir: string, p: string): string {
  return p.startsWith(`${APP}/`) || p === APP ? join(dir, p.slice(APP.length)) : join(dir, p);
}

function run(cmd: string, cwd: string, env: NodeJS.ProcessEnv): void {
  const t0 = Date.now();
  const r = spawnSync('bash', ['-euo', 'pipefail', '-c', cmd], { cwd, env, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`RUN failed (exit ${r.status}): ${cmd}`);
  log(`    done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

function replay(): void {
  const model = readDockerfile(join(ROOT, 'Dockerfile'));
  const work = mkdtempSync(join(tmpdir(), 'edgeprobe-image-'));
  const dirs = new Map<string, string>();
  let final: { stage: Stage; dir: string; env: NodeJS.ProcessEnv } | undefined;
  try {
    for (const stage of model.stages) {
      const dir = join(work, stage.name);
      mkdirSync(dir, { recursive: true });
      dirs.set(stage.name, dir);
      // a clean environment like a fresh image: PATH and HOME only, plus the Dockerfile's ENV
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
      log(`stage ${stage.name} (FROM ${stage.base}) in ${dir}`);
      for (const step of stage.steps) {
        const where = `  Dockerfile:${step.line} ${step.keyword}`;
        if (step.keyword === 'ENV') {
          for (const [k, v] of step.env ?? []) env[k] = v;
          if (env.npm_config_nodedir && !existsSync(join(env.npm_config_nodedir, 'include', 'node', 'node.h'))) {
            env.npm_config_nodedir = dirname(dirname(process.execPath));
            log(`${where}: npm_config_nodedir -> ${env.npm_config_nodedir} (this machine's node headers)`);
          }
        } else if (step.keyword === 'COPY') {
          const dest = step.args[step.args.length - 1];
          const srcRoot = step.from ? dirs.get(step.from) : ROOT;
          if (!srcRoot) throw new Error(`${where}: unknown stage ${step.from}`);
          for (const src of step.args.slice(0, -1)) {
            const from = step.from ? inApp(srcRoot, src) : join(ROOT, src);
            if (!existsSync(from)) throw new Error(`${where}: source ${src} does not exist`);
            const to = dest.endsWith('/') ? join(inApp(dir, dest), src.split('/').pop()!) : inApp(dir, dest);
            // the build context is the repo minus .dockerignore; stage-to-stage copies take everything
            cpSync(from, to, { recursive: true, filter: (f) => Boolean(step.from) || !ignored(relative(ROOT, f)) });
          }
          log(`${where} ${step.text}`);
        } else if (step.keyword === 'RUN') {
          if (/^apt-get\b/.test(step.text)) {
            const pkgs = step.text.match(/install\s+(?:-\S+\s+)*([^&]+)/)?.[1].trim().split(/\s+/) ?? [];
            const missing = pkgs.filter((p) => spawnSync('bash', ['-c', `command -v ${p}`]).status !== 0);
            if (missing.length) throw new Error(`${where}: tools the image installs are missing here: ${missing.join(' ')}`);
            log(`${where}: skipped apt-get (needs root); ${pkgs.join(', ')} present on PATH`);
          } else if (/^mkdir -p \/var\//.test(step.text)) {
            log(`${where}: skipped (prepares ${step.text.split(' ')[2]} in the image, outside /app)`);
          } else {
            log(`${where} ${step.text}`);
            run(step.text, dir, env);
          }
        }
      }
      final = { stage, dir, env };
    }
    if (!final) throw new Error('Dockerfile has no stage');
    const entry = final.stage.steps.filter((s) => s.keyword === 'ENTRYPOINT').pop();
    const cmd = final.stage.steps.filter((s) => s.keyword === 'CMD').pop();
    const health = final.stage.steps.filter((s) => s.keyword === 'HEALTHCHECK').pop();
    if (!entry || !cmd || !health) throw new Error('final stage needs ENTRYPOINT, CMD and HEALTHCHECK');
    const runtimeEnv = { ...final.env, EDGEPROBE_CACHE: join(work, 'cache'), EDGEPROBE_HEALTH_FILE: join(work, 'health.json') };
    const exec = (argv: string[]) => spawnSync(argv[0], argv.slice(1).map((a) => (a.startsWith(`${APP}/`) ? inApp(final!.dir, a) : a)),
      { cwd: final!.dir, env: runtimeEnv, encoding: 'utf8' });

    const help = exec([...entry.args, ...cmd.args]);
    if (help.status !== 0 || !/edgeprobe <command>/.test(help.stdout)) throw new Error(`ENTRYPOINT + CMD failed:\n${help.stdout}\n${help.stderr}`);
    log(`ENTRYPOINT ${entry.args.join(' ')} ${cmd.args.join(' ')}: ok, ${help.stdout.split('\n').filter((l) => /^\s+edgeprobe \w/.test(l)).length} commands listed`);

    // the native modules the image needs load from the copied node_modules (built in the build stage)
    const natives = exec(['node', '-e', "require('onnxruntime-node'); new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"]);
    if (natives.status !== 0) throw new Error(`native modules do not load in the runtime stage:\n${natives.stderr}`);
    log('runtime stage: onnxruntime-node and better-sqlite3 load');

    const hc = health.args.slice(health.args.indexOf('CMD') + 1);
    const noFile = exec(hc);
    if (noFile.status !== 1) throw new Error(`HEALTHCHECK without a running service should exit 1, got ${noFile.status}: ${noFile.stderr}`);
    writeFileSync(runtimeEnv.EDGEPROBE_HEALTH_FILE, JSON.stringify({ role: 'agent', pid: process.pid, ok: true, detail: 'replay', updatedAt: new Date().toISOString() }));
    const healthy = exec(hc);
    if (healthy.status !== 0) throw new Error(`HEALTHCHECK with a fresh health file should exit 0, got ${healthy.status}: ${healthy.stderr}`);
    log(`HEALTHCHECK ${hc.join(' ')}: exit 1 with no service, exit 0 with a fresh health file`);
    log('image build steps replayed: ok');
  } finally {
    if (keep) log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

try {
  replay();
} catch (err) {
  process.stderr.write(`docker build replay failed: ${(err as Error).message}\n`);
  process.exit(1);
}
