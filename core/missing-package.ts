import { epError } from './errors.ts';

/**
 * The npm package a failed import() could not find, from Node's ERR_MODULE_NOT_FOUND ("Cannot find package
 * 'x' imported from ..."), else undefined. A bare "Cannot find module" (a missing file of our own) is a bug,
 * not a missing install, and is not matched.
 */
export function missingPackage(err: unknown): string | undefined {
  if (!(err instanceof Error) || (err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') return undefined;
  return /Cannot find package '([^']+)'/.exec(err.message)?.[1];
}

/**
 * What to report for an error: a missing onnxruntime-node (a coordinator-image install running a model) becomes
 * its coded error with the fix, anything else stays as it is.
 */
export function explainMissingRuntime(err: unknown): unknown {
  return missingPackage(err) === 'onnxruntime-node' ? epError('EP_ONNXRUNTIME_NOT_INSTALLED') : err;
}
