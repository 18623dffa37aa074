import { cpus, hostname, totalmem, uptime } from 'node:os';
import type { DeviceProfile, PayloadOf } from '../../core/protocol/messages.ts';

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

/** Load, memory and temperature from systeminformation (loaded on first heartbeat, not at start-up). */
export async function heartbeat(outboxPending: number, activeJobId: string | null): Promise<Heartbeat> {
  const si = (await import('systeminformation')).default;
  const [load, mem, temp] = await Promise.all([
    si.currentLoad().catch(() => ({ currentLoad: NaN })),
    si.mem().catch(() => ({ active: 0, total: totalmem() })),
    si.cpuTemperature().catch(() => ({ main: null as number | null })),
  ]);
  const t = temp.main;
  return {
    loadPercent: Number.isFinite(load.currentLoad) ? load.currentLoad : 0,
    memUsedBytes: mem.active,
    memTotalBytes: mem.total,
    temperatureC: typeof t === 'number' && Number.isFinite(t) ? t : null,
    rssBytes: process.memoryUsage.rss(),
    uptimeS: uptime(),
    outboxPending,
    activeJobId,
  };
}
