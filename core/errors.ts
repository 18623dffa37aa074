/**
 * A mistake the user can fix (bad path, wrong flag, malformed file). The CLI prints `message` and `hint`
 * without a stack trace and exits non-zero; anything else is a bug and keeps its stack.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(message: string, readonly hint?: string, readonly exitCode = 2) {
    super(message);
  }
}

export function isUserError(err: unknown): err is UserError {
  return err instanceof UserError;
}

/** Message text of any thrown value, for logs and job failure reasons. */
export function errorMessage(err: unknown): string {
  if (err instanceof UserError) return err.hint ? `${err.message} (${err.hint})` : err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
