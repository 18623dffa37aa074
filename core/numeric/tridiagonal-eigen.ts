/**
 * Eigenvalues and eigenvectors of a symmetric tridiagonal matrix by the implicit QL method (tql2 of
 * EISPACK / JAMA, as ml-matrix runs it after its tred2 reduction). Hand-written on plain arrays because
 * the Lanczos loop of the PLS fit calls it thousands of times on matrices of 8 to 80 rows: ml-matrix's
 * EigenvalueDecomposition first reduces a dense Matrix (tred2, O(n^3)) and reads every element through
 * Matrix methods, which cost more than the matrix-vector products the Lanczos steps save.
 * diag: n diagonal entries; off: n - 1 off-diagonal entries (off[i] couples i and i + 1).
 * Returns the eigenvalues in ascending order and the eigenvectors as rows of `vectors` ([n, n] row-major,
 * row i belongs to values[i]). With `last` < n, only the eigenvectors' last `last` components ([n, last]):
 * each component is rotated on its own, so they and the values are exactly those of the full run, at
 * O(n^2) instead of O(n^3) (the Lanczos convergence test needs only the last component).
 */
export function tridiagonalEigen(diag: ArrayLike<number>, off: ArrayLike<number>, n: number, last = n): { values: Float64Array; vectors: Float64Array } {
  const d = Float64Array.from({ length: n }, (_, i) => diag[i]);
  // e[i] couples i and i + 1 (tql2's layout after its own shift), e[n - 1] = 0
  const e = Float64Array.from({ length: n }, (_, i) => (i < n - 1 ? off[i] : 0));
  const w = Math.min(last, n), skip = n - w;
  const V = new Float64Array(n * w);
  for (let i = skip; i < n; i++) V[i * w + i - skip] = 1;
  let f = 0;
  let tst1 = 0;
  const eps = Number.EPSILON;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n && Math.abs(e[m]) > eps * tst1) m++;
    if (m > l) {
      do {
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1, c2 = 1, c3 = 1;
        const el1 = e[l + 1];
        let s = 0, s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2; c2 = c; s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          // rows i and i + 1 of V (eigenvectors as rows) rotate
          const oi = i * w, oj = oi + w;
          for (let k = 0; k < w; k++) { const hk = V[oj + k]; V[oj + k] = s * V[oi + k] + c * hk; V[oi + k] = c * V[oi + k] - s * hk; }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
  // ascending order (selection sort, as tql2)
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    let p = d[i];
    for (let j = i + 1; j < n; j++) if (d[j] < p) { k = j; p = d[j]; }
    if (k !== i) {
      d[k] = d[i]; d[i] = p;
      for (let j = 0; j < w; j++) { const t = V[i * w + j]; V[i * w + j] = V[k * w + j]; V[k * w + j] = t; }
    }
  }
  return { values: d, vectors: V };
}
