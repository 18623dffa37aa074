/** Why the coordinator refused something; stable codes for logs, metrics and tests. */
export type RejectCode =
  | 'bad-topic'
  | 'too-large'
  | 'bad-json'
  | 'over-limit'
  | 'bad-value'
  | 'bad-time'
  | 'wrong-job'
  | 'store-refused'
  | 'identity-mismatch'
  | 'reserved-id'
  | 'not-admitted'
  | 'bad-token'
  | 'not-registered'
  | 'revoked'
  | 'empty-plan'
  | 'model-not-allowed'
  | 'probe-not-allowed'
  | 'variant-not-allowed';

export type Rejection = { ok: false; code: RejectCode; reason: string };
export type Decision<T = unknown> = ({ ok: true } & T) | Rejection;

export function reject(code: RejectCode, reason: string): Rejection {
  return { ok: false, code, reason };
}
