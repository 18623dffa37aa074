import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Liveness through a small file instead of an HTTP port: agents have no server, and the same check works
 * for the container HEALTHCHECK, systemd and a person (`edgeprobe health`). The running agent or
 * coordinator rewrites it every few seconds; a stale or `ok: false` file means unhealthy.
 */
export interface HealthState {
  role: 'agent' | 'coordinator';
  pid: number;
  ok: boolean;
  /** e.g. "connected to mqtts://broker:8883" or "broker unreachable since ..." */
  detail: string;
  updatedAt: string;
}

export const DEFAULT_HEALTH_FILE = '/tmp/edgeprobe-health.json';

export function healthFilePath(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  return explicit ?? env.EDGEPROBE_HEALTH_FILE ?? DEFAULT_HEALTH_FILE;
}

/**
 * The file a running agent/coordinator should write: its config's `healthFile`, else EDGEPROBE_HEALTH_FILE
 * (set by the image and the systemd unit). Undefined means no beacon: processes started by hand or by tests
 * must not all overwrite one shared default file.
 */
export function configuredHealthFile(fromConfig: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return fromConfig ?? (env.EDGEPROBE_HEALTH_FILE || undefined);
}

/** Written to a temp file and renamed, so a reader never sees half a file. */
export function writeHealthFile(path: string, state: Omit<HealthState, 'pid' | 'updatedAt'>, now = new Date()): void {
  mkdirSync(dirname(path), { recursive: true });
  const full: HealthState = { ...state, pid: process.pid, updatedAt: now.toISOString() };
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(full)}\n`);
  renameSync(tmp, path);
}

export interface HealthVerdict { healthy: boolean; reason: string; state?: HealthState }

export function checkHealthFile(path: string, maxAgeS: number, now = new Date()): HealthVerdict {
  let state: HealthState;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as HealthState;
  } catch (err) {
    return { healthy: false, reason: `no readable health file at ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): is an agent or coordinator running?` };
  }
  const ageS = (now.getTime() - Date.parse(state.updatedAt)) / 1000;
  if (!Number.isFinite(ageS)) return { healthy: false, reason: `${path} has no valid updatedAt`, state };
  if (ageS > maxAgeS) return { healthy: false, reason: `${state.role} health is ${ageS.toFixed(0)} s old (limit ${maxAgeS} s): the process is stuck or gone`, state };
  if (!state.ok) return { healthy: false, reason: `${state.role} reports unhealthy: ${state.detail}`, state };
  return { healthy: true, reason: `${state.role} ok: ${state.detail}`, state };
}

/** Stops the beacon when called; `beat()` writes the current state at once (e.g. on connect and disconnect). */
export type HealthBeacon = (() => void) & { beat: () => void };

/**
 * Hook for the agent and coordinator: call once after start; `probe` says whether things are fine now
 * (typically `{ ok: client.connected, detail }`). Returns a stop function for shutdown.
 */
export function startHealthBeacon(path: string, role: HealthState['role'], probe: () => { ok: boolean; detail: string }, intervalS = 10): HealthBeacon {
  const beat = (): void => writeHealthFile(path, { role, ...probe() });
  beat();
  const timer = setInterval(beat, intervalS * 1000);
  timer.unref();
  return Object.assign(() => clearInterval(timer), { beat });
}
