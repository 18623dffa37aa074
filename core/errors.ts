import { CATALOGUE, isErrorCode, type ErrorCategory, type ErrorCode, type ErrorParams, type ParamsOf } from './errors/catalogue.ts';

export { CATALOGUE, isErrorCode, type ErrorCategory, type ErrorCode, type ParamsOf } from './errors/catalogue.ts';

/**
 * A coded error from the catalogue (core/errors/catalogue.ts): a situation the user can act on. `message`
 * is the rendered template, `fix` the line telling what to do. The CLI prints both without a stack trace
 * and picks the exit code from `category`; anything that is not an EdgeprobeError is a bug and keeps its stack.
 */
export class EdgeprobeError<C extends ErrorCode = ErrorCode> extends Error {
  override readonly name = 'EdgeprobeError';
  readonly fix: string;
  readonly category: ErrorCategory;

  constructor(readonly code: C, readonly params: ParamsOf<C>) {
    const entry = CATALOGUE[code] as { category: ErrorCategory; message: (p: ErrorParams) => string; fix: (p: ErrorParams) => string };
    super(entry.message(params as ErrorParams));
    this.fix = entry.fix(params as ErrorParams);
    this.category = entry.category;
  }
}

type ParamArgs<C extends ErrorCode> = Record<never, never> extends ParamsOf<C> ? [params?: ParamsOf<C>] : [params: ParamsOf<C>];

/** `throw epError('EP_MODEL_PATH_MISSING', { path })`: the parameters are checked against the code's template. */
export function epError<C extends ErrorCode>(code: C, ...[params]: ParamArgs<C>): EdgeprobeError<C> {
  return new EdgeprobeError(code, (params ?? {}) as ParamsOf<C>);
}

export function isEdgeprobeError(err: unknown): err is EdgeprobeError {
  return err instanceof EdgeprobeError;
}

/**
 * Rebuilds a coded error that crossed a process boundary as `{ code, params }` (the benchmark worker);
 * undefined when the code is not in this build's catalogue.
 */
export function reviveEdgeprobeError(code: unknown, params: unknown): EdgeprobeError | undefined {
  if (!isErrorCode(code) || typeof params !== 'object' || params === null) return undefined;
  return new EdgeprobeError(code, params as ParamsOf<typeof code>);
}

/** Message text of any thrown value, for logs and job failure reasons; a coded error leads with its code. */
export function errorMessage(err: unknown): string {
  if (err instanceof EdgeprobeError) return `[${err.code}] ${err.message} (fix: ${err.fix})`;
  if (err instanceof Error) return err.message;
  return String(err);
}
