import { cell, NO_CELL, type DataRecord, type ProbeContract } from '../../core/probes/contract.ts';
import { CONTROL_COLUMNS, PAPER_COLUMNS, PAPER_VALUES, PropertiesDataSchema, PropertiesPlanSettings, type PropertiesData, type PropertiesView, type ResolvedPropertiesSettings } from './schema.ts';

type Rec = DataRecord<PropertiesData>;


export function propertiesView({ deviceId, record }: Rec): PropertiesView {
  const d = record.data;
  const layer = d.layers.find((l) => l.layer === d.bestLayer) ?? d.layers[0];
  const name = d.normSet.name;
  return {
    model: record.model.name, deviceId, variant: record.variant.name, status: record.verdict.status,
    normSet: name, metric: d.normSet.metric === 'spearman' ? 'Spearman rho' : 'F1@10', layer: layer ? String(layer.layer) : '-',
    controls: CONTROL_COLUMNS.map(([key, label]) => {
      const h = (layer?.controls as Record<string, { headline?: { estimate: number; low: number; high: number } } | undefined> | undefined)?.[key]?.headline;
      return { key, label, estimate: h?.estimate ?? null, low: h?.low ?? null, high: h?.high ?? null };
    }),
    passes: layer?.passes === true,
    explainedBy: layer?.explainedBy ?? [],
    explanation: layer?.explanation ?? null,
    paper: PAPER_VALUES[name.toLowerCase()] ? CONTROL_COLUMNS.map(([key]) => {
      const i = PAPER_COLUMNS.indexOf(key);
      return i >= 0 ? PAPER_VALUES[name.toLowerCase()][i] : null;
    }) : null,
    rankingChanged: d.comparedToFp32?.rankingChanged ?? null,
  };
}

/**
 * The 'properties' probe: property inference from concept embeddings (McRae, Buchanan, Binder or the
 * user's norms) with every control, and whether a variant changes the verdict or the layer ranking.
 */
export const propertiesContract: ProbeContract<typeof PropertiesPlanSettings, typeof PropertiesDataSchema, ResolvedPropertiesSettings> = {
  kind: 'properties',
  title: 'property inference from embeddings, against its controls',
  explains: true,
  settings: PropertiesPlanSettings,
  resolve: (block, planSeed) => (block ? { ...block, seed: block.seed ?? planSeed } : null),
  data: PropertiesDataSchema,
  report: {
    columns: [{ key: 'normSets', header: 'norm sets', csvOnly: true }],
    cells: (records) => ({
      normSets: records.length ? cell(records.map((r) => `${r.record.data.normSet.name}:${r.record.verdict.status}`).join(';')) : NO_CELL,
    }),
    notes: ['properties: passes-controls only when the system beats every control (docs/properties.md); otherwise the controls that explain the score are named'],
  },
  series: (d) => d.normSet.name,
  view: (latest): PropertiesView[] => latest.map(propertiesView),
  runner: async () => (await import('./runner.ts')).propertiesRunner,
};
