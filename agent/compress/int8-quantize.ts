/**
 * Symmetric int8 quantization of weight tensors: q = round(w / scale), clamped to [-127, 127], zero point 0.
 * Symmetric with zero point 0 is what onnxruntime's own quantizer uses for int8 weights, and it lets
 * MatMulInteger skip the weight zero-point correction. -128 is never produced so |q| <= 127 is symmetric.
 */
export interface QuantizedTensor {
  values: Int8Array;
  /** one scale per channel along `axis` (length 1 = per tensor) */
  scales: Float32Array;
  axis: number | null;
}

const QMAX = 127;

function scaleFor(maxAbs: number): number {
  // an all-zero channel gets scale 1 so dequantization stays finite (every q is 0 anyway)
  return maxAbs > 0 ? maxAbs / QMAX : 1;
}

function quantizeValue(w: number, scale: number): number {
  return Math.max(-QMAX, Math.min(QMAX, Math.round(w / scale)));
}

/** One scale for the whole tensor. */
export function quantizePerTensor(values: Float32Array): QuantizedTensor {
  let maxAbs = 0;
  for (const v of values) maxAbs = Math.max(maxAbs, Math.abs(v));
  const scale = scaleFor(maxAbs);
  const q = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) q[i] = quantizeValue(values[i], scale);
  return { values: q, scales: Float32Array.of(scale), axis: null };
}

/**
 * One scale per column of a row-major [rows, cols] matrix (axis 1): for a MatMul weight [K, N] that is
 * one scale per output feature, so one large output channel does not coarsen every other one.
 */
export function quantizePerColumn(values: Float32Array, rows: number, cols: number): QuantizedTensor {
  const maxAbs = new Float32Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) maxAbs[c] = Math.max(maxAbs[c], Math.abs(values[r * cols + c]));
  const scales = maxAbs.map(scaleFor);
  const q = new Int8Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) q[r * cols + c] = quantizeValue(values[r * cols + c], scales[c]);
  return { values: q, scales, axis: 1 };
}

/** One scale per row (axis 0): for embedding tables, where each token's row has its own range. */
export function quantizePerRow(values: Float32Array, rows: number, cols: number): QuantizedTensor {
  const scales = new Float32Array(rows);
  const q = new Int8Array(values.length);
  for (let r = 0; r < rows; r++) {
    let maxAbs = 0;
    for (let c = 0; c < cols; c++) maxAbs = Math.max(maxAbs, Math.abs(values[r * cols + c]));
    scales[r] = scaleFor(maxAbs);
    for (let c = 0; c < cols; c++) q[r * cols + c] = quantizeValue(values[r * cols + c], scales[r]);
  }
  return { values: q, scales, axis: 0 };
}

/** Float values back from a quantized [rows, cols] tensor (per-tensor, per-row or per-column). */
export function dequantize(t: QuantizedTensor, cols: number): Float32Array {
  const out = new Float32Array(t.values.length);
  for (let i = 0; i < out.length; i++) {
    const s = t.axis === null ? t.scales[0] : t.axis === 0 ? t.scales[Math.floor(i / cols)] : t.scales[i % cols];
    out[i] = t.values[i] * s;
  }
  return out;
}
