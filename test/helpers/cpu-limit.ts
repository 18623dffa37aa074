/**
 * Puts a real process (an agent, with every benchmark worker it forks later) under a CPU limit the test
 * controls, so a latency slowdown comes from the kernel, not from a fake number in a record.
 *
 * - cgroup v1 `cpu` (cpu.cfs_quota_us / cpu.cfs_period_us), or cgroup v2 `cpu.max` where the cpu controller
 *   is enabled: the group gets `quotaMs` of CPU per `periodMs`. Before the quota is set, the group gets a high
 *   `cpu.shares` / `cpu.weight`, so neighbours on a shared host barely move its baseline latency.
 * - Neither writable (an unprivileged container): SIGSTOP/SIGCONT duty cycling of the process and its
 *   descendants by this process (running `quotaMs` of every `periodMs`), and nice -10 instead of shares.
 *   Coarser (timer jitter) but still a real slowdown of the real process.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';

export type CpuLimitMethod = 'cgroup-v1' | 'cgroup-v2' | 'signals';

const V1 = '/sys/fs/cgroup/cpu';
const V2 = '/sys/fs/cgroup';

function writable(dir: string, probe: string): boolean {
  const d = join(dir, `edgeprobe-probe-${process.pid}`);
  try {
    mkdirSync(d);
    try { return existsSync(join(d, probe)); } finally { rmdirSync(d); }
  } catch { return false; }
}

/** Which method this host allows (EDGEPROBE_TEST_CPU_LIMIT=signals forces the fallback). */
export function cpuLimitMethod(): CpuLimitMethod {
  if (process.env.EDGEPROBE_TEST_CPU_LIMIT === 'signals') return 'signals';
  if (existsSync(join(V1, 'cpu.cfs_quota_us')) && writable(V1, 'cpu.cfs_quota_us')) return 'cgroup-v1';
  const controllers = existsSync(join(V2, 'cgroup.controllers')) ? readFileSync(join(V2, 'cgroup.controllers'), 'utf8') : '';
  if (/\bcpu\b/.test(controllers) && writable(V2, 'cpu.max')) return 'cgroup-v2';
  return 'signals';
}

/** Process ids of pid and all its descendants (from /proc/<pid>/task/<tid>/children). */
function tree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const tid of readdirSync(`/proc/${out[i]}/task`)) {
        const kids = readFileSync(`/proc/${out[i]}/task/${tid}/children`, 'utf8').trim();
        if (kids) out.push(...kids.split(/\s+/).map(Number));
      }
    } catch { /* gone */ }
  }
  return out;
}

export class CpuLimit {
  private readonly dir?: string;
  private pids: number[] = [];
  private timer?: NodeJS.Timeout;

  constructor(readonly name: string, readonly method: CpuLimitMethod = cpuLimitMethod()) {
    if (method === 'signals') return;
    this.dir = join(method === 'cgroup-v1' ? V1 : V2, `edgeprobe-${name}-${process.pid}`);
    mkdirSync(this.dir, { recursive: true });
    // the group's weight against the host's other processes (v1 default 1024, v2 default 100)
    if (method === 'cgroup-v1') writeFileSync(join(this.dir, 'cpu.shares'), '16384');
    else writeFileSync(join(this.dir, 'cpu.weight'), '1600');
  }

  /** Moves a process (all its threads) into the group; what it forks afterwards starts there too. */
  add(pid: number): void {
    this.pids.push(pid);
    if (this.dir) writeFileSync(join(this.dir, 'cgroup.procs'), String(pid));
    else for (const p of tree(pid)) for (const tid of readdirSync(`/proc/${p}/task`)) setPriority(Number(tid), -10);
  }

  /** At most quotaMs of CPU per periodMs from now on (cgroup v1/v2 need quotaMs >= 1). */
  limit(quotaMs: number, periodMs: number): void {
    if (this.dir && this.method === 'cgroup-v1') {
      writeFileSync(join(this.dir, 'cpu.cfs_period_us'), String(periodMs * 1000));
      writeFileSync(join(this.dir, 'cpu.cfs_quota_us'), String(quotaMs * 1000));
    } else if (this.dir) {
      writeFileSync(join(this.dir, 'cpu.max'), `${quotaMs * 1000} ${periodMs * 1000}`);
    } else {
      const signal = (s: NodeJS.Signals) => { for (const pid of this.pids) for (const p of tree(pid)) { try { process.kill(p, s); } catch { /* gone */ } } };
      const cycle = () => {
        signal('SIGCONT');
        this.timer = setTimeout(() => { signal('SIGSTOP'); this.timer = setTimeout(cycle, periodMs - quotaMs); }, quotaMs);
      };
      cycle();
    }
  }

  /** Throttled periods and time so far (cgroups only): evidence the kernel, not chance, slowed the process. */
  throttled(): { periods: number; throttledMs: number } | null {
    if (!this.dir) return null;
    const stat = Object.fromEntries(readFileSync(join(this.dir, 'cpu.stat'), 'utf8').trim().split('\n').map((l) => l.split(' ')));
    return this.method === 'cgroup-v1'
      ? { periods: Number(stat.nr_throttled), throttledMs: Number(stat.throttled_time) / 1e6 }
      : { periods: Number(stat.nr_throttled), throttledMs: Number(stat.throttled_usec) / 1e3 };
  }

  /** Lifts the limit; the group is removed once its processes are gone (or moved back to the root group). */
  dispose(): void {
    clearTimeout(this.timer);
    if (!this.dir) {
      for (const pid of this.pids) for (const p of tree(pid)) { try { process.kill(p, 'SIGCONT'); } catch { /* gone */ } }
      return;
    }
    if (!existsSync(this.dir)) return;
    const left = readFileSync(join(this.dir, 'cgroup.procs'), 'utf8').trim();
    const root = this.method === 'cgroup-v1' ? V1 : V2;
    for (const pid of left ? left.split('\n') : []) { try { writeFileSync(join(root, 'cgroup.procs'), pid); } catch { /* gone */ } }
    try { rmdirSync(this.dir); } catch { /* a process still exiting: the kernel frees an empty group's name on the next run */ }
  }
}
