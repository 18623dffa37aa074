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
 * Indices (relative to `off`) of the k largest of values[off .. off+n), largest first; ties keep the
 * lower index first. One pass with a small sorted buffer: k is small (1-10) and n can be a 30k vocabulary.
 */
export function topK(values: Vec, k: number, n = values.length, off = 0): number[] {
  const best = new Int32Array(Math.max(0, k));
  return Array.from(best.subarray(0, topKInto(values, k, best, n, off)));
}

/** topK written into `best` (length >= k), for callers that select per row in a loop; returns how many (min(k, n)). */
export function topKInto(values: Vec, k: number, best: Int32Array, n = values.length, off = 0): number {
  let cnt = 0;
  for (let i = 0; i < n; i++) {
    const v = values[off + i];
    if (cnt === k && v <= values[off + best[k - 1]]) continue;
    let pos = cnt;
    while (pos > 0 && values[off + best[pos - 1]] < v) pos--;
    for (let s = cnt < k ? cnt : k - 1; s > pos; s--) best[s] = best[s - 1];
    if (pos < k) best[pos] = i;
    if (cnt < k) cnt++;
  }
  return cnt;
}

/** |topK(a) ∩ topK(b)| / k over `n` values at offsets: 1 when both rank the same k items highest, in any order. */
export function topKOverlap(a: Vec, b: Vec, k: number, n = a.length, offA = 0, offB = 0): number {
  const kk = Math.min(k, n);
  if (kk === 0) return 1;
  const ta = topK(a, kk, n, offA);
  const tb = new Set(topK(b, kk, n, offB));
  let shared = 0;
  for (const i of ta) if (tb.has(i)) shared++;
  return shared / kk;
}

/** Per-coordinate median of equally long vectors: a reference that one outlying vector cannot drag. */
export function elementwiseMedian(rows: readonly Vec[]): Float64Array {
  if (rows.length === 0) throw new Error('elementwiseMedian needs at least one vector');
  const width = rows[0].length;
  const out = new Float64Array(width);
  // a typed array sorts numerically in native code: several times faster than a comparator over a
  // plain array, which made this the dashboard's main cost at a few thousand devices
  const col = new Float64Array(rows.length);
  for (let j = 0; j < width; j++) {
    for (let i = 0; i < rows.length; i++) col[i] = rows[i][j];
    col.sort();
    const m = col.length >> 1;
    out[j] = col.length % 2 ? col[m] : (col[m - 1] + col[m]) / 2;
  }
  return out;
}
