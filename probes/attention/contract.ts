import { cell, NO_CELL, type ProbeContract } from '../../core/probes/contract.ts';
import { AttentionPlanSettings, AttentionProbeData, resolveAttentionSettings, type AttentionView, type ResolvedAttentionSettings } from './schema.ts';

/**
 * The 'attention' probe: on fp32, whether attention reads as a relation between input tokens at all
 * (identifiability, rollout, sanity checks); on a variant, whether that explanation survives compression.
 */
export const attentionContract: ProbeContract<typeof AttentionPlanSettings, typeof AttentionProbeData, ResolvedAttentionSettings> = {
  kind: 'attention',
  title: 'attention as token relations: identifiability, rollout, sanity checks, survival against fp32',
  explains: true,
  settings: AttentionPlanSettings,
  resolve: resolveAttentionSettings,
  data: AttentionProbeData,
  report: {
    columns: [{ key: 'tokenRelationUpTo', header: 'token relation up to', csvOnly: true }, { key: 'attentionBaseline', header: 'attention baseline', csvOnly: true }],
    cells(records) {
      const d = records[0]?.record.data;
      // records before 0.4 carry no baseline: they are encoder records judged against 1/n
      const baseline = d ? d.baseline?.kind ?? 'uniform' : undefined;
      return {
        tokenRelationUpTo: d ? cell(`L${d.tokenRelation.supportedUpToLayer} of ${d.layers}`, d.tokenRelation.supportedUpToLayer) : NO_CELL,
        attentionBaseline: baseline ? cell(`${d!.architecture?.kind ?? 'encoder'}, ${baseline}`, baseline) : NO_CELL,
      };
    },
    notes: ['attention: on fp32, whether attention explains token relations (identifiability, sanity checks); on a variant, whether that explanation survives compression vs fp32'],
  },
  headline(latest) {
    // the weakest device decides up to which layer attention can be read as a token relation
    if (latest.length === 0) return {};
    const upTo = Math.min(...latest.map((r) => r.record.data.tokenRelation.supportedUpToLayer));
    return { tokenRelationUpTo: upTo, layerCount: latest[0].record.data.layers };
  },
  view: (latest): AttentionView[] => latest.map(({ deviceId, record }) => {
    const d = record.data;
    return {
      model: record.model.name, deviceId, variant: record.variant.name, variantSha256: record.variant.sha256, status: record.verdict.status, summary: record.verdict.summary,
      layers: d.layers, heads: d.heads, nearest: d.identifiability.nearest, learned: d.identifiability.learned,
      selfContribution: d.mixing.selfContribution, supportedUpToLayer: d.tokenRelation.supportedUpToLayer,
      architecture: d.architecture?.kind ?? 'encoder', baseline: d.baseline?.kind ?? 'uniform', baselineSelfContribution: d.baseline?.selfContribution ?? null,
      structuredHeads: d.structuredHeads ?? null,
      survival: d.survival ? d.survival.layers.map((l) => ({ layer: l.layer, maxJs: l.maxJs, jsPerHead: l.jsPerHead, status: l.status })) : null,
    };
  }),
  runner: async () => (await import('./runner.ts')).attentionRunner,
};
