import { tridiagonalEigen } from './tridiagonal-eigen.ts';
import { dot } from './vectors.ts';

// Lanczos for the dominant eigenvector of a symmetric PSD matrix: the PLS kernel fit's inner step (probes/properties/plsr.ts).
// Hand-written: ml-matrix's general eigensolver was too slow for the thousands of small calls a suite makes.

/** out = A v for a row-major [d, d] A (four rows per pass: v is read once per four; each row's sum in order). */
export function symv(A: Float64Array, d: number, v: Float64Array, out: Float64Array): void {
  let a = 0;
  for (; a + 3 < d; a += 4) {
    const o0 = a * d, o1 = o0 + d, o2 = o1 + d, o3 = o2 + d;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let c = 0; c < d; c++) { const x = v[c]; s0 += A[o0 + c] * x; s1 += A[o1 + c] * x; s2 += A[o2 + c] * x; s3 += A[o3 + c] * x; }
    out[a] = s0; out[a + 1] = s1; out[a + 2] = s2; out[a + 3] = s3;
  }
  for (; a < d; a++) { let s = 0; const o = a * d; for (let c = 0; c < d; c++) s += A[o + c] * v[c]; out[a] = s; }
}

export interface LanczosWorkspace { d: number; m: number; V: Float64Array; gv: Float64Array; /** the last run's second Ritz vector: the next component's start */ second?: Float64Array; matvecs: number }

export function lanczosWorkspace(d: number): LanczosWorkspace {
  const m = Math.min(d, 80);
  return { d, m, V: new Float64Array(m * d), gv: new Float64Array(d), matvecs: 0 };
}

/**
 * Dominant eigenvector of the symmetric PSD matrix A [d, d], the vector NIPALS's inner loop converges to.
 * Plain power iteration (what NIPALS does) needs hundreds of steps when the top eigenvalues are close;
 * Lanczos with full reorthogonalisation gets the same vector in a few dozen matrix-vector products.
 * Its Krylov basis grows (up to 80 vectors, preallocated) until the Ritz vector's error bound
 * (residual / gap, sin-theta theorem) is below sqrt(tol) / 1000, checked every 2 steps from the 4th (the small
 * tridiagonal eigenproblem: core/numeric/tridiagonal-eigen.ts). Restarted from the Ritz vector only when the basis is full.
 */
export function dominantEigenvector(A: Float64Array, d: number, start: Float64Array, maxIter: number, tol: number, ws: LanczosWorkspace): Float64Array {
  const { V, gv, m } = ws;
  let w = normalise(Float64Array.from(start));
  const alpha = new Float64Array(m);
  const beta = new Float64Array(m);
  const bound = tol * 1e-6;
  for (let used = 0; used < maxIter;) {
    V.set(w, 0);
    let k = 0;
    let lastBeta = 0;
    let ritz: { k: number; converged: boolean } | undefined;
    for (let j = 0; j < m && used < maxIter; j++) {
      const vj = V.subarray(j * d, (j + 1) * d);
      symv(A, d, vj, gv);
      used++;
      ws.matvecs++;
      alpha[j] = dot(vj, gv);
      // full reorthogonalisation, twice (classical Gram-Schmidt is not enough in floating point)
      for (let pass = 0; pass < 2; pass++) {
        for (let i = 0; i <= j; i++) {
          const o = i * d;
          let s = 0;
          for (let a = 0; a < d; a++) s += V[o + a] * gv[a];
          if (s !== 0) for (let a = 0; a < d; a++) gv[a] -= s * V[o + a];
        }
      }
      const bn = Math.sqrt(dot(gv, gv));
      k = j + 1;
      lastBeta = bn;
      const invariant = bn < 1e-12 * Math.max(1, Math.abs(alpha[0]));
      if (invariant || k === d || k === m || (k >= 4 && k % 2 === 0)) {
        ritz = topRitz(alpha, beta, k, lastBeta, invariant || k === d, bound);
        if (ritz.converged || invariant || k === d) break;
      }
      if (k === m) break;
      beta[j] = bn;
      for (let a = 0; a < d; a++) V[(j + 1) * d + a] = gv[a] / bn;
    }
    ritz ??= topRitz(alpha, beta, k, lastBeta, false, bound);
    // the Ritz vectors of the last test: its tridiagonal (alpha, beta below ritz.k) is unchanged since
    const { vectors } = tridiagonalEigen(alpha, beta, ritz.k);
    const y = vectors.subarray((ritz.k - 1) * ritz.k, ritz.k * ritz.k);
    const next = combine(V, d, y, k);
    ws.second = ritz.k > 1 ? normalise(combine(V, d, vectors.subarray((ritz.k - 2) * ritz.k, (ritz.k - 1) * ritz.k), k)) : undefined;
    normalise(next);
    if (dot(next, w) < 0) for (let a = 0; a < d; a++) next[a] = -next[a];
    w = next;
    if (ritz.converged || k < m) break;
  }
  return w;
}

/** sum_i y_i V_i over the first k basis vectors */
function combine(V: Float64Array, d: number, y: Float64Array, k: number): Float64Array {
  const out = new Float64Array(d);
  for (let i = 0; i < k; i++) { const yi = y[i]; if (yi !== 0) for (let a = 0, o = i * d; a < d; a++) out[a] += yi * V[o + a]; }
  return out;
}

/**
 * Whether the top Ritz vector of the Lanczos tridiagonal T_k meets the error bound. It needs the eigenvalues
 * and the vector's last component only (tridiagonalEigen's O(k^2) form); the vectors are formed once, after the last test.
 */
function topRitz(alpha: Float64Array, beta: Float64Array, k: number, lastBeta: number, exact: boolean, bound: number): { k: number; converged: boolean } {
  if (exact || k === 1) return { k, converged: exact };
  const { values, vectors: lastComponents } = tridiagonalEigen(alpha, beta, k, 1);
  // Ritz residual |A y - theta y| = beta_k |s_k|; by the sin-theta theorem the vector's error is at most residual / gap
  const gap = values[k - 1] - values[k - 2];
  const residual = lastBeta * Math.abs(lastComponents[k - 1]);
  return { k, converged: gap > 0 && (residual / gap) ** 2 < bound };
}

export function normalise(v: Float64Array): Float64Array {
  const s = Math.sqrt(dot(v, v)) || 1;
  for (let i = 0; i < v.length; i++) v[i] /= s;
  return v;
}
