import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from './shared-data.ts';

/** A CLI process (agent, coordinator) whose output the test can wait on. */
export class CliProcess {
  output = '';
  readonly proc: ChildProcess;

  /** `nodeArgs`: flags for node itself (a benchmark's --cpu-prof) */
  constructor(readonly name: string, args: string[], nodeArgs: string[] = []) {
    this.proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(PROJECT_ROOT, 'cli', 'main.ts'), ...args], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d) => { this.output += d; });
    this.proc.stderr!.on('data', (d) => { this.output += d; });
    running.add(this);
    this.proc.once('exit', () => running.delete(this));
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!pattern.test(this.output)) {
      if (!this.alive) throw new Error(`${this.name} exited (${this.proc.exitCode ?? this.proc.signalCode}) before ${pattern}:\n${this.output}`);
      if (Date.now() > end) throw new Error(`${this.name}: timed out waiting for ${pattern}:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Signals the process and waits until it is gone. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.alive) return;
    await new Promise<void>((resolve) => {
      this.proc.once('exit', () => resolve());
      this.proc.kill(signal);
    });
  }
}

const running = new Set<CliProcess>();

/** For `after` hooks: SIGKILL every CLI process a test started that is still running. */
export async function killAllCliProcesses(): Promise<void> {
  await Promise.all([...running].map((p) => p.kill('SIGKILL')));
}

export async function waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
