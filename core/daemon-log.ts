/**
 * Log lines of long-running processes (agent, coordinator): one line per event on stderr, plain text or
 * JSON lines (with --json), so a supervisor (systemd, docker) and the fleet tests can read them.
 */
export type LogLevel = 'info' | 'warn' | 'error';

export interface DaemonLog {
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

export function createDaemonLog(component: string, json: boolean, write: (s: string) => void = (s) => process.stderr.write(s)): DaemonLog {
  const emit = (level: LogLevel, event: string, fields: Record<string, unknown> = {}): void => {
    const at = new Date().toISOString();
    if (json) {
      write(`${JSON.stringify({ at, level, component, event, ...fields })}\n`);
      return;
    }
    const extra = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
    write(`${at} ${level.padEnd(5)} [${component}] ${event}${extra ? ` ${extra}` : ''}\n`);
  };
  return {
    info: (e, f) => emit('info', e, f),
    warn: (e, f) => emit('warn', e, f),
    error: (e, f) => emit('error', e, f),
  };
}
