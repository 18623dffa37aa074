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

/** Indices of the k largest values, largest first (ties keep the lower index first). */
export function topK(values: Vec, k: number): number[] {
  const idx = Array.from({ length: values.length }, (_, i) => i);
  idx.sort((i, j) => values[j] - values[i] || i - j);
  return idx.slice(0, Math.min(k, idx.length));
}

/** Per-coordinate median of equally long vectors: a reference that one outlying vector cannot drag. */
export function elementwiseMedian(rows: readonly Vec[]): Float64Array {
  if (rows.length === 0) throw new Error('elementwiseMedian needs at least one vector');
  const width = rows[0].length;
  const out = new Float64Array(width);
  const col = new Array<number>(rows.length);
  for (let j = 0; j < width; j++) {
    for (let i = 0; i < rows.length; i++) col[i] = rows[i][j];
    col.sort((a, b) => a - b);
    const m = col.length >> 1;
    out[j] = col.length % 2 ? col[m] : (col[m - 1] + col[m]) / 2;
  }
  return out;
}
