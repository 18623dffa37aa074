import { SeededRandom } from '../../core/numeric/seeded-random.ts';
import type { Targets } from './targets.ts';

export interface FfnnOptions {
  hidden: number;
  maxEpochs: number;
  batchSize: number;
  learningRate: number;
  /** epochs without validation improvement before stopping */
  patience: number;
  /** share of the training rows held out for early stopping */
  validationFraction: number;
  seed?: number;
}

export interface FittedFfnn {
  epochs: number;
  validationLoss: number;
  predict(X: Float64Array, rows: readonly number[]): Float64Array;
}

/**
 * A one-hidden-layer ReLU network trained with Adam on mean squared error, early-stopped on a seeded
 * validation split (best weights kept). Hand-written with Float32Array: a 256 -> h -> q MLP is ~100
 * lines, and the JS ML libraries either lack seeded, deterministic training across devices
 * (tfjs-node pulls a native TensorFlow build per platform) or bring far more than this needs.
 * Inputs are standardised with the training statistics.
 */
export function fitFfnn(X: Float64Array, p: number, Y: Targets, train: readonly number[], o: FfnnOptions): FittedFfnn {
  const { q } = Y;
  const h = o.hidden;
  const rng = new SeededRandom(o.seed ?? 1);
  const order = rng.shuffle(train);
  const nVal = Math.max(1, Math.round(order.length * o.validationFraction));
  const val = order.slice(0, nVal);
  const fit = order.slice(nVal);
  const mean = new Float64Array(p);
  const std = new Float64Array(p);
  for (const r of fit) for (let a = 0; a < p; a++) mean[a] += X[r * p + a] / fit.length;
  for (const r of fit) for (let a = 0; a < p; a++) std[a] += (X[r * p + a] - mean[a]) ** 2 / Math.max(1, fit.length - 1);
  for (let a = 0; a < p; a++) std[a] = Math.sqrt(std[a]) || 1;
  const input = (r: number, out: Float32Array): void => { for (let a = 0; a < p; a++) out[a] = (X[r * p + a] - mean[a]) / std[a]; };

  // He initialisation for the ReLU layer, Glorot-style for the linear output
  const W1 = rng.normalArray(h * p, Math.sqrt(2 / p));
  const b1 = new Float32Array(h);
  const W2 = rng.normalArray(q * h, Math.sqrt(1 / h));
  const b2 = new Float32Array(q);
  const params = [W1, b1, W2, b2];
  const grads = params.map((w) => new Float32Array(w.length));
  const m1 = params.map((w) => new Float32Array(w.length));
  const m2 = params.map((w) => new Float32Array(w.length));
  const x = new Float32Array(p);
  const z = new Float32Array(h);
  const a1 = new Float32Array(h);
  const out = new Float32Array(q);
  const dOut = new Float32Array(q);
  const dA = new Float32Array(h);
  // indices of the hidden units a ReLU left active for the current row: the output layer (h x q, the bulk of
  // the work when q is in the hundreds) only needs those; skipping exact zeros leaves every sum unchanged
  const active = new Int32Array(h);
  let nActive = 0;

  const forwardHidden = (r: number): void => {
    input(r, x);
    nActive = 0;
    for (let j = 0; j < h; j++) { let s = b1[j]; const o1 = j * p; for (let a = 0; a < p; a++) s += W1[o1 + a] * x[a]; z[j] = s; a1[j] = s > 0 ? s : 0; if (s > 0) active[nActive++] = j; }
  };
  const forward = (r: number): void => {
    forwardHidden(r);
    for (let b = 0; b < q; b++) { let s = b2[b]; const o2 = b * h; for (let t = 0; t < nActive; t++) { const j = active[t]; s += W2[o2 + j] * a1[j]; } out[b] = s; }
  };
  const loss = (rows: readonly number[]): number => {
    let s = 0;
    for (const r of rows) { forward(r); for (let b = 0; b < q; b++) s += (out[b] - Y.values[r * q + b]) ** 2; }
    return s / (rows.length * q);
  };

  let best = Infinity;
  let bestParams = params.map((w) => Float32Array.from(w));
  let since = 0;
  let step = 0;
  let epoch = 0;
  const beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  for (; epoch < o.maxEpochs; epoch++) {
    const shuffled = rng.shuffle(fit);
    for (let s = 0; s < shuffled.length; s += o.batchSize) {
      const batch = shuffled.slice(s, s + o.batchSize);
      grads.forEach((g) => g.fill(0));
      const [gW1, gb1, gW2, gb2] = grads;
      const scale = 2 / (batch.length * q);
      for (const r of batch) {
        forwardHidden(r);
        dA.fill(0);
        // output layer and its backward pass in one sweep over W2's active columns (each row of W2 is read
        // once, not once for the output and again for the gradient; the sums are the same, in the same order)
        for (let b = 0; b < q; b++) {
          const o2 = b * h;
          let sum = b2[b];
          for (let t = 0; t < nActive; t++) { const j = active[t]; sum += W2[o2 + j] * a1[j]; }
          out[b] = sum;
          dOut[b] = (out[b] - Y.values[r * q + b]) * scale;
          const d = dOut[b];
          gb2[b] += d;
          // inactive units have a1 = 0 (no W2 gradient) and z <= 0 (their dA is never read)
          for (let t = 0; t < nActive; t++) { const j = active[t]; gW2[o2 + j] += d * a1[j]; dA[j] += d * W2[o2 + j]; }
        }
        for (let j = 0; j < h; j++) {
          if (z[j] <= 0) continue;
          const d = dA[j];
          gb1[j] += d;
          const o1 = j * p;
          for (let a = 0; a < p; a++) gW1[o1 + a] += d * x[a];
        }
      }
      step++;
      const c1 = 1 - beta1 ** step, c2 = 1 - beta2 ** step;
      params.forEach((w, k) => {
        const g = grads[k], mk = m1[k], vk = m2[k];
        for (let i = 0; i < w.length; i++) {
          mk[i] = beta1 * mk[i] + (1 - beta1) * g[i];
          vk[i] = beta2 * vk[i] + (1 - beta2) * g[i] * g[i];
          w[i] -= (o.learningRate * (mk[i] / c1)) / (Math.sqrt(vk[i] / c2) + eps);
        }
      });
    }
    const vl = loss(val);
    if (vl < best - 1e-9) { best = vl; bestParams = params.map((w) => Float32Array.from(w)); since = 0; } else if (++since >= o.patience) { epoch++; break; }
  }
  bestParams.forEach((w, k) => params[k].set(w));
  return {
    epochs: epoch,
    validationLoss: best,
    predict(Xp, rows) {
      const res = new Float64Array(rows.length * q);
      rows.forEach((r, i) => {
        // predict reads rows of Xp with the training standardisation
        for (let a = 0; a < p; a++) x[a] = (Xp[r * p + a] - mean[a]) / std[a];
        for (let j = 0; j < h; j++) { let s = b1[j]; for (let a = 0; a < p; a++) s += W1[j * p + a] * x[a]; a1[j] = s > 0 ? s : 0; }
        for (let b = 0; b < q; b++) { let s = b2[b]; for (let j = 0; j < h; j++) s += W2[b * h + j] * a1[j]; res[i * q + b] = s; }
      });
      return res;
    },
  };
}
