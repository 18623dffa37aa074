import type { ProbeRecord, VerdictStatus } from '../../core/results/probe-record.ts';

/**
 * The paper's table columns, in its order (Sys, Upper, Shuffle, Shuf-Upper, Rand), with the controls
 * edgeprobe adds after the one each refines: the priors after Sys, the column-permuted rand after Rand,
 * the category controls last.
 */
export const CONTROL_COLUMNS = [
  ['sys', 'Sys'], ['prior', 'Prior'], ['prior-frequency', 'Prior-freq'], ['upper', 'Upper'], ['shuffle', 'Shuffle'], ['shuffle-upper', 'Shuf-Upper'],
  ['rand', 'Rand'], ['rand-marginal', 'Rand-marg'], ['category-shuffle', 'Cat-shuffle'], ['category-destroyed', 'Cat-destroyed'],
] as const;
const PAPER_COLUMNS = ['sys', 'upper', 'shuffle', 'shuffle-upper', 'rand'];

/** The paper's reported values (Sys / Upper / Shuffle / Shuf-Upper / Rand) per norm set, drawn beside ours. */
export const PAPER_VALUES: Record<string, number[]> = {
  mcrae: [0.25, 0.27, 0.1, 0.13, 0.01],
  buchanan: [0.18, 0.22, 0.06, 0.11, 0.01],
  binder: [0.74, 0.9, 0.3, 0.59, 0.01],
};

export interface PropertiesView {
  model: string;
  deviceId: string;
  variant: string;
  status: VerdictStatus;
  normSet: string;
  metric: string;
  layer: string;
  controls: Array<{ key: string; label: string; estimate: number | null; low: number | null; high: number | null }>;
  passes: boolean;
  explainedBy: string[];
  /** 'the frequency prior', 'category structure', 'chance' when it does not pass */
  explanation: string | null;
  /** the paper's value per column of `controls` (null where the paper has no such control); null for other norm sets */
  paper: Array<number | null> | null;
  rankingChanged: boolean | null;
}

interface Ci { estimate?: unknown; low?: unknown; high?: unknown }
interface LayerLike { layer?: unknown; controls?: Record<string, { headline?: Ci } | undefined>; passes?: unknown; explainedBy?: unknown; explanation?: unknown }
interface DataLike { normSet?: { name?: unknown; metric?: unknown }; layers?: LayerLike[]; bestLayer?: unknown; comparedToFp32?: { rankingChanged?: unknown } }

const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/**
 * The properties probe's record (agent/probes/properties, written in parallel) read defensively: the
 * dashboard shows the best layer's headline metric per control and skips records it cannot read, so a
 * change of that schema degrades one view instead of breaking the page.
 */
export function propertiesView(deviceId: string, record: ProbeRecord): PropertiesView | null {
  const d = record.data as DataLike | null;
  if (!d || !Array.isArray(d.layers) || d.layers.length === 0 || typeof d.normSet?.name !== 'string') return null;
  const layer = d.layers.find((l) => l.layer === d.bestLayer) ?? d.layers[0];
  if (!layer.controls) return null;
  const name = d.normSet.name;
  return {
    model: record.model.name, deviceId, variant: record.variant.name, status: record.verdict.status,
    normSet: name, metric: d.normSet.metric === 'spearman' ? 'Spearman rho' : 'F1@10', layer: String(layer.layer),
    controls: CONTROL_COLUMNS.map(([key, label]) => {
      const h = layer.controls?.[key]?.headline;
      return { key, label, estimate: num(h?.estimate), low: num(h?.low), high: num(h?.high) };
    }),
    passes: layer.passes === true,
    explainedBy: Array.isArray(layer.explainedBy) ? layer.explainedBy.filter((x): x is string => typeof x === 'string') : [],
    explanation: typeof layer.explanation === 'string' ? layer.explanation : null,
    paper: PAPER_VALUES[name.toLowerCase()] ? CONTROL_COLUMNS.map(([key]) => { const i = PAPER_COLUMNS.indexOf(key); return i >= 0 ? PAPER_VALUES[name.toLowerCase()][i] : null; }) : null,
    rankingChanged: typeof d.comparedToFp32?.rankingChanged === 'boolean' ? d.comparedToFp32.rankingChanged : null,
  };
}
