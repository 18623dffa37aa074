import { formatNumber } from '../../core/text-table.ts';
import { cell, type ProbeContract } from '../../core/probes/contract.ts';
import { InductionData, InductionPlanSettings, resolveInductionSettings, type ResolvedInductionSettings } from './schema.ts';

/** The dashboard's row of one induction record (drawn from the report cells until it has a view of its own). */
export interface InductionView {
  model: string;
  deviceId: string;
  variant: string;
  status: string;
  threshold: number;
  copyingAccuracy: number;
  scores: number[][];
  heads: Array<{ layer: number; head: number; score: number; survives: boolean | null }>;
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
  view: (latest): InductionView[] => latest.map(({ deviceId, record }) => {
    const d = record.data;
    const survival = new Map(d.survival?.heads.map((h) => [`${h.layer}.${h.head}`, h.survives]));
    const heads = (d.survival ? d.survival.heads : d.inductionHeads).map((h) => ({ layer: h.layer, head: h.head, score: h.score, survives: survival.get(`${h.layer}.${h.head}`) ?? null }));
    return { model: record.model.name, deviceId, variant: record.variant.name, status: record.verdict.status, threshold: d.threshold, copyingAccuracy: d.copyingAccuracy, scores: d.scores, heads };
  }),
  runner: async () => (await import('./runner.ts')).inductionRunner,
};

