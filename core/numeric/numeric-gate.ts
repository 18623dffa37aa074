/** Largest finite fp16 value; anything beyond becomes Inf in half precision. */
export const FP16_MAX = 65504;

export interface TensorNumerics {
  name: string;
  nan: number;
  inf: number;
  /** finite values with |x| >= FP16_MAX: Inf (or clamped) if this tensor were computed in fp16 */
  fp16Saturated: number;
  maxAbs: number;
}

export function tensorNumerics(name: string, data: ArrayLike<number>): TensorNumerics {
  let nan = 0;
  let inf = 0;
  let sat = 0;
  let maxAbs = 0;
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (Number.isNaN(x)) { nan++; continue; }
    const a = Math.abs(x);
    if (a === Infinity) { inf++; continue; }
    if (a >= FP16_MAX) sat++;
    if (a > maxAbs) maxAbs = a;
  }
  return { name, nan, inf, fp16Saturated: sat, maxAbs };
}

/** Reasons a set of tensors is unfit to explain anything; empty when healthy. */
export function numericProblems(tensors: readonly TensorNumerics[], opts: { fp16Compute: boolean }): string[] {
  const out: string[] = [];
  for (const t of tensors) {
    if (t.nan > 0) out.push(`${t.name}: ${t.nan} NaN values`);
    if (t.inf > 0) out.push(`${t.name}: ${t.inf} infinite values`);
    if (t.fp16Saturated > 0 && opts.fp16Compute) out.push(`${t.name}: ${t.fp16Saturated} values at or beyond the fp16 limit ${FP16_MAX} (max |x| ${t.maxAbs.toExponential(3)})`);
  }
  return out;
}
