import type { ErrorCategory } from '../core/errors.ts';

/**
 * Process exit codes by error category, decided by the CLI only (library code throws codes, not exit codes).
 * A mistake the user can fix exits 2, like a bad flag; `edgeprobe health` exits 1 when unhealthy because
 * Docker's HEALTHCHECK reads 1 as unhealthy and reserves 2. An uncoded error (a bug) exits 1 with its stack.
 */
export const EXIT_CODES: Readonly<Record<ErrorCategory, number>> = { input: 2, config: 2, model: 2, data: 2, environment: 2, health: 1 };
