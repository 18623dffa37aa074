/**
 * Target matrix of a mapper: dense values plus the sparse structure the PLSR cross products exploit.
 * Feature norms are > 95% zeros, so X^T Y over nonzeros is ~50x cheaper than dense. A residualised
 * target (category-destroyed control) is `sparse - centroid[group]`, kept in that form for the same reason.
 */
export interface Targets {
  n: number;
  q: number;
  /** dense row-major [n, q] values */
  values: Float64Array;
  /** nonzero column indices per row of `sparse` */
  nonzero: Int32Array[];
  /** the sparse part; equals `values` unless `shift` is set */
  sparse: Float64Array;
  /** values = sparse - centroids[group[i]] */
  shift?: { group: Int32Array; groups: number; centroids: Float64Array };
}

export function denseTargets(values: Float64Array, n: number, q: number): Targets {
  const nonzero: Int32Array[] = [];
  for (let i = 0; i < n; i++) {
    const idx: number[] = [];
    for (let j = 0; j < q; j++) if (values[i * q + j] !== 0) idx.push(j);
    nonzero.push(Int32Array.from(idx));
  }
  return { n, q, values, nonzero, sparse: values };
}

/** Targets with rows reordered: row i of the result is row order[i] of t. */
export function permuteTargetRows(t: Targets, order: readonly number[]): Targets {
  const { q } = t;
  const pick = (src: Float64Array): Float64Array => {
    const out = new Float64Array(order.length * q);
    order.forEach((r, i) => out.set(src.subarray(r * q, (r + 1) * q), i * q));
    return out;
  };
  const values = pick(t.values);
  return {
    n: order.length, q, values,
    nonzero: order.map((r) => t.nonzero[r]),
    sparse: t.sparse === t.values ? values : pick(t.sparse),
    shift: t.shift ? { ...t.shift, group: Int32Array.from(order, (r) => t.shift!.group[r]) } : undefined,
  };
}

/** value > 0 -> 1, as the reference PLSR code does for its targets. */
export function binarized(t: Targets): Targets {
  if (t.shift) throw new Error('binarize before residualising');
  // only the nonzeros can be > 0 (a dense map with a closure was 4% of a Buchanan layer)
  const values = new Float64Array(t.values.length);
  t.nonzero.forEach((idx, i) => { const o = i * t.q; for (let x = 0; x < idx.length; x++) if (t.values[o + idx[x]] > 0) values[o + idx[x]] = 1; });
  return { ...t, values, sparse: values };
}
