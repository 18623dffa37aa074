import type { Vec } from './vectors.ts';

/** Shannon entropy in nats of a probability vector (zeros contribute 0). */
export function entropy(p: Vec, n = p.length, off = 0): number {
  let h = 0;
  for (let i = 0; i < n; i++) {
    const x = p[off + i];
    if (x > 0) h -= x * Math.log(x);
  }
  return h;
}

/**
 * Jensen-Shannon divergence in nats between two probability vectors: bounded by ln 2, symmetric,
 * finite where one side has zeros (unlike KL), which is why attention comparisons use it.
 */
export function jsDivergence(p: Vec, q: Vec, n = p.length, offP = 0, offQ = 0): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const a = p[offP + i];
    const b = q[offQ + i];
    const m = 0.5 * (a + b);
    if (a > 0) s += 0.5 * a * Math.log(a / m);
    if (b > 0) s += 0.5 * b * Math.log(b / m);
  }
  return Math.max(0, s);
}

/** exp(entropy): the effective number of outcomes (1 for one-hot, n for uniform). */
export function effectiveCount(p: Vec, n = p.length, off = 0): number {
  return Math.exp(entropy(p, n, off));
}
