import { readdirSync, readFileSync } from 'node:fs';
import { cpus, freemem, totalmem, type CpuInfo } from 'node:os';
import { join } from 'node:path';

/**
 * The heartbeat's three readings without systeminformation: loading that library costs an idle agent about
 * 10 MB (measured in the agent image) of its 80 MB budget, for numbers Linux exposes in /proc and /sys and
 * node:os gives elsewhere. `edgeprobe device` still uses systeminformation for the full profile.
 */

type CpuTimes = CpuInfo['times'];
const busy = (t: CpuTimes): number => t.user + t.nice + t.sys + t.irq;
const total = (t: CpuTimes): number => busy(t) + t.idle;

/** CPU load in percent over all cores since the previous sample (since boot on the first): like `top`. */
export class CpuLoad {
  private last?: CpuTimes[];
  constructor(private readonly read: () => CpuTimes[] = () => cpus().map((c) => c.times)) {}

  sample(): number {
    const now = this.read();
    const prev = this.last;
    this.last = now;
    let b = 0;
    let all = 0;
    now.forEach((t, i) => {
      const p = prev?.[i];
      b += busy(t) - (p ? busy(p) : 0);
      all += total(t) - (p ? total(p) : 0);
    });
    return all > 0 ? (100 * b) / all : 0;
  }
}

/** Used and total memory: MemTotal - MemAvailable from /proc/meminfo (what the kernel could not hand out now). */
export function memoryUse(meminfo = readOptional('/proc/meminfo')): { used: number; total: number } {
  const kb = (key: string): number | undefined => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(meminfo ?? '');
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const t = kb('MemTotal');
  const available = kb('MemAvailable');
  if (t !== undefined && available !== undefined) return { used: t - available, total: t };
  return { used: totalmem() - freemem(), total: totalmem() };
}

/** CPU temperature in °C from the kernel's thermal zones (a Pi's cpu-thermal, x86_pkg_temp, ...), or null. */
export function cpuTemperature(root = '/sys/class/thermal'): number | null {
  let zones: string[];
  try {
    zones = readdirSync(root).filter((z) => z.startsWith('thermal_zone')).sort();
  } catch {
    return null;
  }
  const readings = zones.map((z) => ({
    type: (readOptional(join(root, z, 'type')) ?? '').trim(),
    milli: Number((readOptional(join(root, z, 'temp')) ?? '').trim()),
  })).filter((r) => Number.isFinite(r.milli) && r.milli > 0);
  const cpu = readings.find((r) => /cpu|x86_pkg|soc|core/i.test(r.type)) ?? readings[0];
  return cpu ? cpu.milli / 1000 : null;
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
