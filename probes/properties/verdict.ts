import { spearman } from '../../core/numeric/stats.ts';
import type { HeadlineMetric } from './norm-set.ts';
import type { LayerResult, PropertiesData, VariantComparison } from './schema.ts';

const WHY: Record<string, string> = {
  shuffle: 'the mapper reaches it from the feature-frequency prior alone (shuffled concept-embedding pairs)',
  rand: 'it is no better than random targets with the same sparsity',
  'category-destroyed': 'within-category variation alone does as well (category centroids removed)',
};

/**
 * Passes its controls only if sys beats shuffle, rand and category-destroyed on the headline metric,
 * each with a one-sided paired permutation p < alpha over concepts; otherwise the controls it does not
 * beat are named as explaining the score.
 */
export function layerVerdict(layer: string, metric: HeadlineMetric, sys: number, controls: Record<'shuffle' | 'rand' | 'category-destroyed', { mean: number; p: number }>, alpha: number): Pick<LayerResult, 'passes' | 'explainedBy' | 'summary'> {
  const m = metric === 'f1' ? 'F1@10' : 'rho';
  const explainedBy = (Object.keys(controls) as Array<keyof typeof controls>).filter((c) => !(controls[c].p < alpha && sys > controls[c].mean));
  if (explainedBy.length === 0) {
    return { passes: true, explainedBy, summary: `${layer}: sys ${m} ${sys.toFixed(3)} beats shuffle ${controls.shuffle.mean.toFixed(3)}, rand ${controls.rand.mean.toFixed(3)} and category-destroyed ${controls['category-destroyed'].mean.toFixed(3)} (p < ${alpha})` };
  }
  const parts = explainedBy.map((c) => `${c} ${controls[c].mean.toFixed(3)} (p=${controls[c].p.toFixed(3)}): ${WHY[c]}`);
  return { passes: false, explainedBy, summary: `${layer}: sys ${m} ${sys.toFixed(3)} does not beat ${parts.join('; ')}` };
}

/** Layers ordered by sys headline score, best first. */
export function rankLayers(layers: readonly LayerResult[]): string[] {
  return [...layers].sort((a, b) => b.controls.sys.headline.estimate - a.controls.sys.headline.estimate).map((l) => l.layer);
}

/** Whether a compressed variant changes the verdict of any layer or the ranking of layers. */
export function compareToFp32(fp32: PropertiesData, variant: PropertiesData): VariantComparison {
  const base = new Map(fp32.layers.map((l) => [l.layer, l]));
  const common = variant.layers.filter((l) => base.has(l.layer));
  const fp32Ranking = fp32.ranking.filter((l) => common.some((c) => c.layer === l));
  const ranking = variant.ranking.filter((l) => fp32Ranking.includes(l));
  const pos = (r: string[]): number[] => common.map((c) => r.indexOf(c.layer));
  return {
    against: 'fp32',
    verdictChangedLayers: common.filter((l) => base.get(l.layer)!.passes !== l.passes).map((l) => l.layer),
    rankingChanged: ranking.join(',') !== fp32Ranking.join(','),
    rankCorrelation: common.length > 1 ? spearman(pos(fp32Ranking), pos(ranking)) : 1,
    fp32Ranking,
    sysDelta: Object.fromEntries(common.map((l) => [l.layer, l.controls.sys.headline.estimate - base.get(l.layer)!.controls.sys.headline.estimate])),
  };
}
