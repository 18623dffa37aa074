import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../harness/shared-data.ts';

export interface CliRun { status: number | null; stdout: string; stderr: string }

/** Runs the real CLI in a child process, as a user would. */
export function runCli(args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): CliRun {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'cli', 'main.ts'), ...args], {
    cwd: opts.cwd ?? PROJECT_ROOT,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 120_000,
    env: { ...process.env, ...opts.env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The `result` line of a --json run. */
export function jsonResult<T>(run: CliRun): T {
  const lines = run.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; result?: T });
  const last = lines.filter((l) => l.type === 'result').pop();
  if (!last) throw new Error(`no result line in output:\n${run.stdout}\n${run.stderr}`);
  return last.result as T;
}

/** Like runCli but without blocking this process, for tests that serve something (an HTTP server) to the CLI. */
export function runCliAsync(args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'cli', 'main.ts'), ...args], {
      cwd: opts.cwd ?? PROJECT_ROOT,
      env: { ...process.env, ...opts.env },
      timeout: opts.timeoutMs ?? 120_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
