/** Dense-vector kernels on Float32Array/number[] views, used by drift, probes and comparisons. */
export type Vec = ArrayLike<number>;

export function dot(a: Vec, b: Vec, n = a.length, offA = 0, offB = 0): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[offA + i] * b[offB + i];
  return s;
}

export function norm(a: Vec, n = a.length, off = 0): number {
  return Math.sqrt(dot(a, a, n, off, off));
}

/** Cosine similarity; 0 when either vector is all zeros (no direction to compare). */
export function cosine(a: Vec, b: Vec, n = a.length, offA = 0, offB = 0): number {
  const na = norm(a, n, offA);
  const nb = norm(b, n, offB);
  if (na === 0 || nb === 0) return 0;
  return dot(a, b, n, offA, offB) / (na * nb);
}

/** ||a - b|| / ||a||: the error of b relative to the reference a. */
export function relativeL2(reference: Vec, b: Vec): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < reference.length; i++) {
    const d = reference[i] - b[i];
    num += d * d;
    den += reference[i] * reference[i];
  }
  return den === 0 ? (num === 0 ? 0 : Infinity) : Math.sqrt(num / den);
}

export function maxAbsDiff(a: Vec, b: Vec): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Mean over rows [start, end) of a row-major [rows, width] matrix. */
export function meanRows(data: Vec, width: number, start: number, end: number): Float32Array {
  const out = new Float32Array(width);
  for (let r = start; r < end; r++) for (let j = 0; j < width; j++) out[j] += data[r * width + j];
  const n = end - start;
  for (let j = 0; j < width; j++) out[j] /= n;
  return out;
}

/**
 * Indices of the k largest values, largest first (ties keep the lower index first). One pass with a
 * k-long sorted buffer: O(n k) worst case but ~O(n) for the k = 10 of the probes, instead of sorting n.
 */
export function topK(values: Vec, k: number): number[] {
  const m = Math.min(k, values.length);
  const idx: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    let pos: number;
    if (idx.length < m) { idx.push(i); pos = idx.length - 1; } else if (v > values[idx[m - 1]]) { idx[m - 1] = i; pos = m - 1; } else continue;
    // bubble up past strictly smaller values; equal values stay ahead (they have lower indices)
    while (pos > 0 && values[idx[pos - 1]] < v) { idx[pos] = idx[pos - 1]; idx[pos - 1] = i; pos--; }
  }
  return idx;
}
