import { CholeskyDecomposition, Matrix } from 'ml-matrix';

/**
 * Ridge regression Y ~ X W + b on row-major float rows, for learned linear maps between representation
 * spaces (e.g. hidden state -> input embedding). The normal equations are accumulated by hand in one
 * pass over the rows (X can be thousands of rows, ml-matrix would copy it into nested arrays); the
 * small [d, d] system is solved by ml-matrix's Cholesky decomposition.
 */
export interface LinearMap {
  inDim: number;
  outDim: number;
  /** [inDim, outDim] row-major */
  weights: Float64Array;
  bias: Float64Array;
}

export interface RidgeOptions {
  /** penalty relative to the mean diagonal of the centred X'X, so one value works at any activation scale */
  relativeLambda?: number;
}

/** Fits on `rows` samples: x is [rows, inDim], y is [rows, outDim], both row-major. */
export function fitRidge(x: ArrayLike<number>, y: ArrayLike<number>, rows: number, inDim: number, outDim: number, opts: RidgeOptions = {}): LinearMap {
  if (rows < 1) throw new Error('fitRidge needs at least one row');
  const mx = new Float64Array(inDim);
  const my = new Float64Array(outDim);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < inDim; i++) mx[i] += x[r * inDim + i];
    for (let j = 0; j < outDim; j++) my[j] += y[r * outDim + j];
  }
  for (let i = 0; i < inDim; i++) mx[i] /= rows;
  for (let j = 0; j < outDim; j++) my[j] /= rows;
  const xtx = new Float64Array(inDim * inDim);
  const xty = new Float64Array(inDim * outDim);
  const xr = new Float64Array(inDim);
  const yr = new Float64Array(outDim);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < inDim; i++) xr[i] = x[r * inDim + i] - mx[i];
    for (let j = 0; j < outDim; j++) yr[j] = y[r * outDim + j] - my[j];
    for (let i = 0; i < inDim; i++) {
      const a = xr[i];
      if (a === 0) continue;
      const rowOff = i * inDim;
      for (let k = i; k < inDim; k++) xtx[rowOff + k] += a * xr[k]; // upper triangle only
      const yOff = i * outDim;
      for (let j = 0; j < outDim; j++) xty[yOff + j] += a * yr[j];
    }
  }
  let trace = 0;
  for (let i = 0; i < inDim; i++) trace += xtx[i * inDim + i];
  const lambda = (opts.relativeLambda ?? 1e-3) * Math.max(trace / inDim, 1e-12);
  const a = new Matrix(inDim, inDim);
  for (let i = 0; i < inDim; i++) {
    for (let k = i; k < inDim; k++) {
      const v = xtx[i * inDim + k] + (i === k ? lambda : 0);
      a.set(i, k, v);
      a.set(k, i, v);
    }
  }
  const b = new Matrix(inDim, outDim);
  for (let i = 0; i < inDim; i++) for (let j = 0; j < outDim; j++) b.set(i, j, xty[i * outDim + j]);
  const w = new CholeskyDecomposition(a).solve(b);
  const weights = new Float64Array(inDim * outDim);
  for (let i = 0; i < inDim; i++) for (let j = 0; j < outDim; j++) weights[i * outDim + j] = w.get(i, j);
  const bias = new Float64Array(outDim);
  for (let j = 0; j < outDim; j++) {
    let s = my[j];
    for (let i = 0; i < inDim; i++) s -= mx[i] * weights[i * outDim + j];
    bias[j] = s;
  }
  return { inDim, outDim, weights, bias };
}

/** x [rows, inDim] -> [rows, outDim] through the fitted map. */
export function applyLinear(map: LinearMap, x: ArrayLike<number>, rows: number): Float32Array {
  const { inDim, outDim, weights, bias } = map;
  const out = new Float32Array(rows * outDim);
  const acc = new Float64Array(outDim);
  for (let r = 0; r < rows; r++) {
    acc.set(bias);
    for (let i = 0; i < inDim; i++) {
      const a = x[r * inDim + i];
      if (a === 0) continue;
      const off = i * outDim;
      for (let j = 0; j < outDim; j++) acc[j] += a * weights[off + j];
    }
    for (let j = 0; j < outDim; j++) out[r * outDim + j] = acc[j];
  }
  return out;
}
