import { createProgress, progressMode, type Progress } from '../core/progress.ts';

export interface OutputOptions { json: boolean }

/** The result of a command: a JSON line with --json, else the human text. */
export function emitResult(opts: OutputOptions, result: unknown, human: () => string): void {
  if (opts.json) process.stdout.write(`${JSON.stringify({ type: 'result', result })}\n`);
  else process.stdout.write(`${human()}\n`);
}

export function progressFor(opts: OutputOptions): Progress {
  return createProgress(progressMode(opts.json));
}

export { formatNumber, textTable } from '../core/text-table.ts';
