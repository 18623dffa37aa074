// Dense products of a PLS fit's kernel algebra (plsr.ts) in JS: the Grams of the plain constructor and of the
// q-side kernel rebuilt after every component, the per-component row dot products, the standardising scale of
// a Gram. Register-blocked by hand: they are small (q x p with q = 65, or p-vectors) and run once per
// component, where an onnxruntime call's overhead is larger than the loop. Apart from the fit's logic.

/**
 * G = A^T A of a row-major [rows, width] matrix A (here S^T [q, p] -> S S^T [p, p]): sum of the rows'
 * outer products, 4 x 2 register-blocked over the upper triangle (the hot loop of a fit: p^2 q / 2).
 */
export function gramOfColumns(A: Float64Array, rows: number, width: number): Float64Array {
  // rows of A that are all zero (features no training concept has) add nothing: leave them out
  const keep: number[] = [];
  for (let r = 0; r < rows; r++) { const o = r * width; for (let c = 0; c < width; c++) if (A[o + c] !== 0) { keep.push(r); break; } }
  const m = keep.length;
  const At = new Float64Array(m * width);
  keep.forEach((r, x) => { for (let c = 0; c < width; c++) At[c * m + x] = A[r * width + c]; });
  return gramOfRowsSym(At, width, m);
}

/** G = A A^T of a row-major [rows, width] matrix (into `G` if given): row dot products, 4 x 2 blocked (each row pair read once per block). */
export function gramOfRowsSym(A: Float64Array, rows: number, width: number, G: Float64Array = new Float64Array(rows * rows)): Float64Array {
  let a = 0;
  for (; a + 3 < rows; a += 4) {
    const o0 = a * width, o1 = o0 + width, o2 = o1 + width, o3 = o2 + width;
    let c = a;
    for (; c + 1 < rows; c += 2) {
      const u = c * width, v = u + width;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;
      for (let j = 0; j < width; j++) {
        const x = A[u + j], y = A[v + j];
        const a0 = A[o0 + j], a1 = A[o1 + j], a2 = A[o2 + j], a3 = A[o3 + j];
        s00 += a0 * x; s01 += a0 * y; s10 += a1 * x; s11 += a1 * y;
        s20 += a2 * x; s21 += a2 * y; s30 += a3 * x; s31 += a3 * y;
      }
      const put = (r: number, col: number, s: number): void => { G[r * rows + col] = s; G[col * rows + r] = s; };
      put(a, c, s00); put(a, c + 1, s01); put(a + 1, c, s10); put(a + 1, c + 1, s11);
      put(a + 2, c, s20); put(a + 2, c + 1, s21); put(a + 3, c, s30); put(a + 3, c + 1, s31);
    }
    for (; c < rows; c++) for (let r = a; r < a + 4; r++) G[r * rows + c] = G[c * rows + r] = dotRows(A, r * width, c * width, width);
  }
  for (; a < rows; a++) for (let c = a; c < rows; c++) G[a * rows + c] = G[c * rows + a] = dotRows(A, a * width, c * width, width);
  return G;
}

function dotRows(A: Float64Array, u: number, v: number, width: number): number {
  let s = 0;
  for (let j = 0; j < width; j++) s += A[u + j] * A[v + j];
  return s;
}

/** A[o..o+width) . v */
export function dotRow(A: Float64Array, o: number, v: Float64Array, width: number): number {
  let s = 0;
  for (let j = 0; j < width; j++) s += A[o + j] * v[j];
  return s;
}

/**
 * out[j][b] = (A_b . v[j]) / div[j] for the rows A_b of A [rows, width]: four vectors per pass over a row
 * (A, 2.4 MB on Buchanan, is read once per four instead of once per vector; each sum in dotRow's order).
 */
export function rowDots(A: Float64Array, rows: number, width: number, v: Float64Array[], out: Float64Array[], div: number[]): void {
  for (let j = 0; j < v.length; j += 4) {
    const m = Math.min(4, v.length - j);
    const v0 = v[j], v1 = v[j + Math.min(1, m - 1)], v2 = v[j + Math.min(2, m - 1)], v3 = v[j + m - 1];
    for (let b = 0; b < rows; b++) {
      const o = b * width;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let a = 0; a < width; a++) { const x = A[o + a]; s0 += x * v0[a]; s1 += x * v1[a]; s2 += x * v2[a]; s3 += x * v3[a]; }
      out[j][b] = s0 / div[j];
      if (m > 1) out[j + 1][b] = s1 / div[j + 1];
      if (m > 2) out[j + 2][b] = s2 / div[j + 2];
      if (m > 3) out[j + 3][b] = s3 / div[j + 3];
    }
  }
}

/** G <- D G D in place for D = diag(scale): the Gram of the centred rows in standardised units. */
export function scaleGram(G: Float64Array, scale: Float64Array): Float64Array {
  const d = scale.length;
  for (let a = 0; a < d; a++) { const s = scale[a]; for (let c = 0, o = a * d; c < d; c++) G[o + c] *= s * scale[c]; }
  return G;
}
