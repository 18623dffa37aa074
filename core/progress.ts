/**
 * Progress of long work. On a TTY it is one updating line on stderr; with --json every event is a
 * JSON line on stdout (the final result is the last line); otherwise one plain line per step on stderr.
 */
export interface Progress {
  /** `done` of `total` units of the named stage */
  step(stage: string, done: number, total: number, detail?: string): void;
  info(message: string): void;
  warn(message: string): void;
  done(): void;
}

export type ProgressMode = 'tty' | 'lines' | 'json' | 'silent';

export function progressMode(json: boolean): ProgressMode {
  if (json) return 'json';
  return process.stderr.isTTY ? 'tty' : 'lines';
}

export function createProgress(mode: ProgressMode, write: (s: string) => void = (s) => process.stderr.write(s)): Progress {
  let lastStage = '';
  let lastLine = 0;
  let ttyOpen = false;
  const clearTty = (): void => {
    if (ttyOpen) { write('\n'); ttyOpen = false; }
  };
  return {
    step(stage, done, total, detail) {
      if (mode === 'silent') return;
      if (mode === 'json') {
        process.stdout.write(`${JSON.stringify({ type: 'progress', stage, done, total, ...(detail ? { detail } : {}) })}\n`);
        return;
      }
      const pct = total > 0 ? Math.round((100 * done) / total) : 100;
      const text = `${stage}: ${done}/${total} (${pct}%)${detail ? ` ${detail}` : ''}`;
      if (mode === 'tty') {
        const width = 24;
        const filled = total > 0 ? Math.round((width * done) / total) : width;
        write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`);
        ttyOpen = true;
        if (done >= total) clearTty();
        return;
      }
      // plain lines: one at each stage change, at completion, and at most every 10%
      const now = Date.now();
      if (stage !== lastStage || done >= total || now - lastLine > 2000) {
        write(`${text}\n`);
        lastStage = stage;
        lastLine = now;
      }
    },
    info(message) {
      if (mode === 'silent') return;
      if (mode === 'json') process.stdout.write(`${JSON.stringify({ type: 'info', message })}\n`);
      else { clearTty(); write(`${message}\n`); }
    },
    warn(message) {
      if (mode === 'silent') return;
      if (mode === 'json') process.stdout.write(`${JSON.stringify({ type: 'warning', message })}\n`);
      else { clearTty(); write(`warning: ${message}\n`); }
    },
    done() { clearTty(); },
  };
}
