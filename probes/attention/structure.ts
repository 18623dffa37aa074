import { entropy } from '../../core/numeric/distributions.ts';
import type { Activations } from './activations.ts';

/**
 * How structured raw attention looks, the way a reader of attention maps would judge it: rows far from
 * uniform (low entropy relative to ln n) and rows with one dominant target. High structure says nothing
 * about whether position i still stands for token i; that is why it is set beside identifiability.
 */
export interface HeadStructure {
  /** mean over rows of entropy / ln(n): 1 = uniform attention, 0 = one-hot */
  entropyRatio: number;
  /** share of rows whose largest weight is at least the dominant-weight threshold */
  dominantShare: number;
}

export interface LayerStructure extends HeadStructure {
  layer: number;
  heads: HeadStructure[];
}

/** Per-row structure of one [n] attention row at `off`. */
function rowStats(a: ArrayLike<number>, n: number, off: number, dominantWeight: number): { ratio: number; dominant: boolean } {
  let max = 0;
  for (let j = 0; j < n; j++) if (a[off + j] > max) max = a[off + j];
  return { ratio: n > 1 ? entropy(a, n, off) / Math.log(n) : 0, dominant: max >= dominantWeight };
}

export function attentionStructure(acts: Activations, dominantWeight: number): LayerStructure[] {
  const out: LayerStructure[] = [];
  for (let l = 1; l <= acts.layers; l++) {
    const ratio = new Array<number>(acts.heads).fill(0);
    const dominant = new Array<number>(acts.heads).fill(0);
    let rows = 0;
    for (const s of acts.sentences) {
      const a = s.attention[l - 1];
      for (let h = 0; h < acts.heads; h++) {
        for (let i = 0; i < s.n; i++) {
          const r = rowStats(a, s.n, (h * s.n + i) * s.n, dominantWeight);
          ratio[h] += r.ratio;
          if (r.dominant) dominant[h]++;
        }
      }
      rows += s.n;
    }
    const heads = ratio.map((x, h) => ({ entropyRatio: x / rows, dominantShare: dominant[h] / rows }));
    out.push({
      layer: l,
      entropyRatio: heads.reduce((s, h) => s + h.entropyRatio, 0) / heads.length,
      dominantShare: heads.reduce((s, h) => s + h.dominantShare, 0) / heads.length,
      heads,
    });
  }
  return out;
}
