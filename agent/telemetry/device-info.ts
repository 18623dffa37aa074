import { cpus, hostname, totalmem, uptime } from 'node:os';
import type { DeviceProfile, PayloadOf } from '../../core/protocol/messages.ts';
import { CpuLoad, cpuTemperature, memoryUse } from './light-readings.ts';

export const AGENT_VERSION = '0.1.0';

export function deviceProfile(): DeviceProfile {
  const c = cpus();
  return {
    hostname: hostname().slice(0, 256),
    platform: process.platform,
    arch: process.arch,
    cpuModel: (c[0]?.model ?? 'unknown').trim().slice(0, 256),
    cores: c.length,
    memoryBytes: totalmem(),
    nodeVersion: process.version,
    agentVersion: AGENT_VERSION,
  };
}

type Heartbeat = PayloadOf<'heartbeat'>;

const cpuLoad = new CpuLoad();

/** Load (since the previous heartbeat), memory and temperature from the kernel (light-readings.ts). */
export async function heartbeat(outboxPending: number, activeJobId: string | null): Promise<Heartbeat> {
  const load = cpuLoad.sample();
  const mem = memoryUse();
  const t = cpuTemperature();
  return {
    loadPercent: Number.isFinite(load) ? load : 0,
    memUsedBytes: mem.used,
    memTotalBytes: mem.total,
    temperatureC: t !== null && Number.isFinite(t) ? t : null,
    rssBytes: process.memoryUsage.rss(),
    uptimeS: uptime(),
    outboxPending,
    activeJobId,
  };
}
