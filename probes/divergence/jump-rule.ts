/**
 * Where along the depth does a variant's error appear? Given the relative L2 error d_l of each layer
 * (l = 0 embeddings .. L), the increments are D_0 = d_0 and D_l = d_l - d_(l-1).
 *
 * Rule: the jump layer is the first l whose increment is both at least `ratio` times the median
 * absolute increment and at least `floor` in absolute terms. Error that grows evenly across layers
 * (ordinary quantisation noise) has no such layer, and gets `null`. The worst layer is the one with the
 * largest increment, whether or not it counts as a jump.
 */
export interface JumpRule { ratio: number; floor: number }

export const DEFAULT_JUMP_RULE: JumpRule = { ratio: 3, floor: 0.02 };

export interface JumpResult {
  increments: number[];
  jumpLayer: number | null;
  worstLayer: number;
  rule: string;
}

export function findJump(errors: readonly number[], rule: JumpRule = DEFAULT_JUMP_RULE): JumpResult {
  if (errors.length === 0) throw new Error('no layers to compare');
  const increments = errors.map((d, l) => (l === 0 ? d : d - errors[l - 1]));
  const sorted = increments.map(Math.abs).sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : 0.5 * (sorted[mid - 1] + sorted[mid]);
  const threshold = Math.max(rule.floor, rule.ratio * median);
  const jumpIdx = increments.findIndex((x) => x >= threshold);
  let worst = 0;
  increments.forEach((x, l) => { if (x > increments[worst]) worst = l; });
  return {
    increments,
    jumpLayer: jumpIdx < 0 ? null : jumpIdx,
    worstLayer: worst,
    rule: `first layer whose increase in relative L2 error is >= max(${rule.floor}, ${rule.ratio} x median increase)`,
  };
}
