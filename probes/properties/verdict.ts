import { spearman } from '../../core/numeric/stats.ts';
import type { LayerResult, PropertiesData, VariantComparison } from './schema.ts';

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
    reference: (() => { const b = fp32.layers.find((l) => l.layer === fp32.bestLayer) ?? fp32.layers[0]; return { layer: b.layer, passes: b.passes, ...(b.explanation ? { explanation: b.explanation } : {}) }; })(),
    sysDelta: Object.fromEntries(common.map((l) => [l.layer, l.controls.sys.headline.estimate - base.get(l.layer)!.controls.sys.headline.estimate])),
  };
}
