import type { ProbeRecord, VerdictStatus } from '../../core/results/probe-record.ts';

/** The paper's table columns, in its order, plus the category-destroyed control edgeprobe adds. */
export const CONTROL_COLUMNS = [
  ['sys', 'Sys'], ['upper', 'Upper'], ['shuffle', 'Shuffle'], ['shuffle-upper', 'Shuf-Upper'], ['rand', 'Rand'], ['category-destroyed', 'Cat-destroyed'],
] as const;

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
  paper: number[] | null;
  rankingChanged: boolean | null;
}

interface Ci { estimate?: unknown; low?: unknown; high?: unknown }
interface LayerLike { layer?: unknown; controls?: Record<string, { headline?: Ci } | undefined>; passes?: unknown; explainedBy?: unknown }
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
    paper: PAPER_VALUES[name.toLowerCase()] ?? null,
    rankingChanged: typeof d.comparedToFp32?.rankingChanged === 'boolean' ? d.comparedToFp32.rankingChanged : null,
  };
}
