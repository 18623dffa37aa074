import { formatNumber } from '../../core/text-table.ts';
import { cell, NO_CELL, type ProbeContract, type ReportCell } from '../../core/probes/contract.ts';
import { DivergenceData, DivergencePlanSettings, resolveDivergenceSettings, type DivergenceView, type ResolvedDivergenceSettings } from './schema.ts';

const num = (x: number | null | undefined): ReportCell => (x === null || x === undefined ? NO_CELL : cell(formatNumber(x), x));

/**
 * The 'divergence' probe ("where compression bites"): per-layer divergence of a variant from fp32, the
 * layer where error jumps, the numeric gate over a length sweep, and task-output agreement with fp32.
 * fp32 is the reference and has no record. Called 'compare' before 0.2.
 */
export const divergenceContract: ProbeContract<typeof DivergencePlanSettings, typeof DivergenceData, ResolvedDivergenceSettings> = {
  kind: 'divergence',
  title: 'where compression bites: per-layer divergence from fp32, jump layer, task agreement',
  aliases: ['compare'],
  explains: false,
  settings: DivergencePlanSettings,
  resolve: resolveDivergenceSettings,
  upgradeData(data) {
    const d = data as Record<string, unknown> | null;
    if (!d || typeof d !== 'object' || d.numericGate !== undefined || d.health === undefined) return data;
    const { health, ...rest } = d;
    return { ...rest, numericGate: health };
  },
  data: DivergenceData,
  report: {
    columns: [
      { key: 'task', header: 'task', csvOnly: true }, { key: 'top1Accuracy', header: 'top-1 accuracy', csvOnly: true },
      { key: 'top1Agreement', header: 'task top-1' }, { key: 'top5Agreement', header: 'top-5 agreement', csvOnly: true },
      { key: 'jumpLayer', header: 'divergence' }, { key: 'worstLayer', header: 'worst layer', csvOnly: true },
    ],
    cells(records): Record<string, ReportCell> {
      const r = records[0]?.record;
      if (!r) return {};
      const t = r.data.task;
      const invalid = r.verdict.status === 'invalid';
      return {
        task: t ? cell(t.task) : NO_CELL, top1Accuracy: num(t?.top1Accuracy), top5Agreement: num(t?.top5Agreement),
        top1Agreement: t ? cell(`${t.top1Accuracy === null ? '' : `acc ${formatNumber(t.top1Accuracy)} `}agree ${formatNumber(t.top1Agreement)}`, t.top1Agreement) : NO_CELL,
        jumpLayer: cell(invalid ? 'invalid' : r.data.jump.jumpLayer === null ? `even (worst L${r.data.jump.worstLayer})` : `jump L${r.data.jump.jumpLayer}`, r.data.jump.jumpLayer),
        worstLayer: num(r.data.jump.worstLayer),
      };
    },
    notes: ['divergence: the layer where the hidden-state error of the variant jumps (docs/compare.md), else "even"; task top-1: agreement of the task head with fp32'],
  },
  headline(latest) {
    // the device with the largest last-layer error speaks for the variant
    let worst: { lastLayerRelL2: number; jumpLayer: number | null } | null = null;
    for (const { record } of latest) {
      const last = record.data.layers[record.data.layers.length - 1]?.relativeL2;
      if (last !== undefined && (worst === null || last > worst.lastLayerRelL2)) worst = { lastLayerRelL2: last, jumpLayer: record.data.jump.jumpLayer };
    }
    return worst ?? {};
  },
  view: (latest): DivergenceView[] => latest.map(({ deviceId, record }) => ({
    model: record.model.name, deviceId, variant: record.variant.name, gateOk: record.data.numericGate.ok,
    jumpLayer: record.data.jump.jumpLayer, worstLayer: record.data.jump.worstLayer,
    layers: record.data.layers.map((l) => ({ layer: l.layer, relativeL2: l.relativeL2, hiddenCosine: l.hiddenCosine, attentionJs: l.attentionJs })),
  })),
  runner: async () => (await import('./runner.ts')).divergenceRunner,
};
