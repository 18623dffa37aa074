import { SeededRandom } from '../../core/numeric/seeded-random.ts';
import type { Targets } from './targets.ts';
import { ffnnSessions, type FfnnWeights } from './ffnn-graphs.ts';

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
  predict(X: Float64Array, rows: readonly number[]): Promise<Float64Array>;
}

/**
 * A one-hidden-layer ReLU network trained with Adam on mean squared error, early-stopped on a seeded
 * validation split (best weights kept). The training loop, initialisation and Adam are written here (a
 * 256 -> h -> q MLP is ~100 lines, and the JS ML libraries either lack seeded, deterministic training across
 * devices (tfjs-node pulls a native TensorFlow build per platform) or bring far more than this needs); the
 * batched matrix products run as ONNX graphs on onnxruntime's CPU provider (ffnn-graphs.ts), in float32.
 * Inputs are standardised with the training statistics.
 */
export async function fitFfnn(X: Float64Array, p: number, Y: Targets, train: readonly number[], o: FfnnOptions): Promise<FittedFfnn> {
  const { q } = Y;
  const h = o.hidden;
  const sess = await ffnnSessions();
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
  /** rows of Xr standardised into out [rows, p] (float32, the graphs' input) */
  const inputs = (Xr: Float64Array, rows: readonly number[], out = new Float32Array(rows.length * p)): Float32Array => {
    rows.forEach((r, i) => { for (let a = 0; a < p; a++) out[i * p + a] = (Xr[r * p + a] - mean[a]) / std[a]; });
    return out;
  };

  // He initialisation for the ReLU layer, Glorot-style for the linear output
  const w: FfnnWeights = { W1: rng.normalArray(h * p, Math.sqrt(2 / p)), b1: new Float32Array(h), W2: rng.normalArray(q * h, Math.sqrt(1 / h)), b2: new Float32Array(q), p, h, q };
  const params = [w.W1, w.b1, w.W2, w.b2];
  const m1 = params.map((x) => new Float32Array(x.length));
  const m2 = params.map((x) => new Float32Array(x.length));
  const xb = new Float32Array(o.batchSize * p);
  const yb = new Float32Array(o.batchSize * q);
  const xVal = inputs(X, val);
  const loss = async (): Promise<number> => {
    const out = await sess.forward(w, xVal, val.length);
    let s = 0;
    val.forEach((r, i) => { for (let b = 0; b < q; b++) s += (out[i * q + b] - Y.values[r * q + b]) ** 2; });
    return s / (val.length * q);
  };

  let best = Infinity;
  let bestParams = params.map((x) => Float32Array.from(x));
  let since = 0;
  let step = 0;
  let epoch = 0;
  const beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  for (; epoch < o.maxEpochs; epoch++) {
    const shuffled = rng.shuffle(fit);
    for (let s = 0; s < shuffled.length; s += o.batchSize) {
      const batch = shuffled.slice(s, s + o.batchSize);
      inputs(X, batch, xb);
      batch.forEach((r, i) => { for (let b = 0; b < q; b++) yb[i * q + b] = Y.values[r * q + b]; });
      const grads = await sess.gradients(w, xb, yb, batch.length, 2 / (batch.length * q));
      step++;
      const c1 = 1 - beta1 ** step, c2 = 1 - beta2 ** step;
      params.forEach((x, k) => {
        const g = grads[k], mk = m1[k], vk = m2[k];
        for (let i = 0; i < x.length; i++) {
          mk[i] = beta1 * mk[i] + (1 - beta1) * g[i];
          vk[i] = beta2 * vk[i] + (1 - beta2) * g[i] * g[i];
          x[i] -= (o.learningRate * (mk[i] / c1)) / (Math.sqrt(vk[i] / c2) + eps);
        }
      });
    }
    const vl = await loss();
    if (vl < best - 1e-9) { best = vl; bestParams = params.map((x) => Float32Array.from(x)); since = 0; } else if (++since >= o.patience) { epoch++; break; }
  }
  bestParams.forEach((x, k) => params[k].set(x));
  return {
    epochs: epoch,
    validationLoss: best,
    // predict reads rows of Xp with the training standardisation
    async predict(Xp, rows) { return Float64Array.from(await sess.forward(w, inputs(Xp, rows), rows.length)); },
  };
}
