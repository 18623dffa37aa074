import assert from 'node:assert/strict';
import { EdgeprobeError, type ErrorCode } from '../../core/errors.ts';
import type { CliRun } from './run-cli.ts';

/**
 * The CLI failed with `code`: `error [EP_...]: message` and a `fix:` line on stderr, the exit code the CLI maps
 * the code's category to (2 for a user mistake), and no stack trace. `names` optionally checks what the
 * message points at (a file, a flag).
 */
export function assertCliError(run: CliRun, code: ErrorCode, names?: RegExp, exitCode = 2): void {
  const label = `${code}: ${run.stderr}`;
  assert.equal(run.status, exitCode, label);
  assert.match(run.stderr, new RegExp(`^error \\[${code}\\]: `, 'm'), label);
  assert.match(run.stderr, /^fix: \S/m, label);
  if (names) assert.match(run.stderr, names, label);
  assert.doesNotMatch(run.stderr, /\n\s+at .+:\d+:\d+/, `stack trace in: ${run.stderr}`);
}

/**
 * For assert.throws / assert.rejects: a coded error with this code, a fix line, and, if given, these
 * template parameters (a RegExp matches a parameter's text; anything else must be equal).
 */
export function coded(code: ErrorCode, params: Record<string, string | number | RegExp> = {}): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof EdgeprobeError, `expected ${code}, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.ok(err.fix.length > 5, `${code} needs a fix line`);
    const got = err.params as Record<string, string | number>;
    for (const [k, want] of Object.entries(params)) {
      if (want instanceof RegExp) assert.match(String(got[k]), want, `${code} parameter ${k}`);
      else assert.equal(got[k], want, `${code} parameter ${k}`);
    }
    return true;
  };
}
