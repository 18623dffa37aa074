import { formatNumber } from '../../core/text-table.ts';
import { cell, type ProbeContract } from '../../core/probes/contract.ts';
import { InductionData, InductionPlanSettings, resolveInductionSettings, type ResolvedInductionSettings } from './schema.ts';

/** One head of an induction view: fp32's score beside this record's, and whether it kept the threshold. */
export interface InductionViewHead { layer: number; head: number; name: string; fp32Score: number | null; score: number; survives: boolean | null }

/**
 * The dashboard's entry for one induction record (coordinator/dashboard/public/views-probes.js inductionView groups
 * them per model and device): on fp32 its induction heads; on a variant each of fp32's induction heads with both
 * scores, and which survive and which are destroyed (score under the threshold), named as in records (L2H2).
 */
export interface InductionView {
  model: string;
  deviceId: string;
  variant: string;
  status: string;
  summary: string;
  threshold: number;
  uniformScore: number;
  copyingAccuracy: number;
  /** fp32's copying accuracy beside a variant's (null on fp32) */
  copyingAccuracyFp32: number | null;
  scores: number[][];
  heads: InductionViewHead[];
  kept: string[];
  destroyed: string[];
}

export const headName = (h: { layer: number; head: number }): string => `L${h.layer}H${h.head}`;

export function inductionView(latest: ReadonlyArray<{ deviceId: string; record: { model: { name: string }; variant: { name: string }; verdict: { status: string; summary: string }; data: InductionData } }>): InductionView[] {
  return latest.map(({ deviceId, record }) => {
    const d = record.data;
    const heads: InductionViewHead[] = d.survival
      ? d.survival.heads.map((h) => ({ layer: h.layer, head: h.head, name: headName(h), fp32Score: h.fp32Score, score: h.score, survives: h.survives }))
      : d.inductionHeads.map((h) => ({ layer: h.layer, head: h.head, name: headName(h), fp32Score: null, score: h.score, survives: null }));
    return {
      model: record.model.name, deviceId, variant: record.variant.name, status: record.verdict.status, summary: record.verdict.summary,
      threshold: d.threshold, uniformScore: d.uniformScore, copyingAccuracy: d.copyingAccuracy, copyingAccuracyFp32: d.survival?.copyingAccuracyFp32 ?? null,
      scores: d.scores, heads, kept: heads.filter((h) => h.survives === true).map((h) => h.name), destroyed: heads.filter((h) => h.survives === false).map((h) => h.name),
    };
  });
}

/**
 * The 'induction' probe (decoder-only LMs): which heads are induction heads on repeated random tokens, the
 * in-context copying accuracy, and, for a compressed variant, which of fp32's induction heads survive it.
 */
export const inductionContract: ProbeContract<typeof InductionPlanSettings, typeof InductionData, ResolvedInductionSettings> = {
  kind: 'induction',
  title: 'induction heads of a causal LM: per-head induction score, in-context copying, survival against fp32',
  explains: false,
  settings: InductionPlanSettings,
  resolve: resolveInductionSettings,
  data: InductionData,
  report: {
    columns: [
      { key: 'inductionHeads', header: 'induction heads' },
      { key: 'copyingAccuracy', header: 'copying acc', csvOnly: true },
    ],
    cells(records) {
      const d = records[0]?.record.data;
      if (!d) return {};
      const kept = d.survival ? d.survival.heads.filter((h) => h.survives).length : null;
      return {
        inductionHeads: d.survival ? cell(`${kept}/${d.survival.heads.length} kept`, kept) : cell(`${d.inductionHeads.length} found`, d.inductionHeads.length),
        copyingAccuracy: cell(formatNumber(d.copyingAccuracy), d.copyingAccuracy),
      };
    },
    notes: ['induction heads: on fp32, heads whose induction score reaches the threshold (docs/decoders.md); on a variant, how many of them keep it'],
  },
  view: inductionView,
  runner: async () => (await import('./runner.ts')).inductionRunner,
};

