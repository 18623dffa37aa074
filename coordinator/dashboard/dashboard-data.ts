import type { AttentionProbeData } from '../../agent/probes/attention/record.ts';
import type { CompareData } from '../../agent/compare/compare-variants.ts';
import type { ProbeRecord, VerdictStatus } from '../../core/results/probe-record.ts';
import { buildComparison, type ComparisonReport } from '../report/comparison.ts';
import { DEFAULT_TOLERANCE } from '../report/consistency.ts';
import type { DeviceRow, FleetStore, JobTargetRow, StoredResult } from '../store/store.ts';
import { propertiesView, type PropertiesView } from './properties-view.ts';

/**
 * Everything the dashboard draws, as one JSON document: the live server sends it from /api/data and the
 * static HTML report inlines it. Built from the latest record of each (device, model, variant, probe).
 */
export interface DashboardData {
  generatedAt: string;
  demo: boolean;
  devices: DeviceRow[];
  jobs: JobTargetRow[];
  comparison: ComparisonReport;
  /** per model and variant: does the explanation survive, on how many devices (the page's headline) */
  explanations: ExplanationSummary[];
  attention: AttentionView[];
  compare: CompareView[];
  properties: PropertiesView[];
  /** on-demand attention heat maps: the models the coordinator has locally, or maps baked into a report */
  attentionMaps: { models: string[]; baked?: BakedAttentionMaps };
}

export interface ExplanationSummary {
  model: string;
  variant: string;
  /** worst attention verdict over devices (fp32: is attention a token relation at all; variants: survival vs fp32) */
  attention: VerdictStatus | null;
  attentionSummary: string | null;
  /** layers the verdict points at, from the worst device */
  attentionLayers: number[];
  /** fp32 and each variant: deepest layer whose attention still reads as a relation between input tokens, of `layerCount` */
  tokenRelationUpTo: number | null;
  layerCount: number | null;
  properties: VerdictStatus | null;
  /** compare probe: layer where the variant's hidden-state error jumps (null: grows evenly or not run) */
  jumpLayer: number | null;
  lastLayerRelL2: number | null;
  devices: string[];
}

export interface AttentionView {
  model: string;
  deviceId: string;
  variant: string;
  variantSha256: string;
  status: VerdictStatus;
  summary: string;
  layers: number;
  heads: number;
  nearest: Array<number | null>;
  learned: Array<number | null>;
  selfContribution: number[];
  supportedUpToLayer: number;
  /** variants only: per layer 1..L, worst head JS divergence (nats) from fp32 and per head */
  survival: Array<{ layer: number; maxJs: number; jsPerHead: number[]; status: string }> | null;
}

export interface CompareView {
  model: string;
  deviceId: string;
  variant: string;
  healthOk: boolean;
  jumpLayer: number | null;
  worstLayer: number;
  layers: Array<{ layer: number; relativeL2: number; hiddenCosine: number; attentionJs: number | null }>;
}

export interface BakedAttentionMaps {
  model: string;
  sentence: string;
  maps: Array<import('./attention-maps.ts').AttentionMapPair>;
}

/**
 * Worse verdicts sort first; the headline shows the worst device. Surviving against an invalid fp32
 * explanation ranks below degrading: what is kept was never a valid explanation.
 */
export const SEVERITY: Record<VerdictStatus, number> = { invalid: 0, fails: 1, 'fails-controls': 1, 'survives-invalid-reference': 2, degrades: 3, 'passes-controls': 4, survives: 4, measured: 5 };
const worse = (a: VerdictStatus | null, b: VerdictStatus): VerdictStatus => (a === null || SEVERITY[b] < SEVERITY[a] ? b : a);

/** Latest record per (device, model, variant, probe, sub-key): later rows replace earlier ones. */
function latest(results: readonly StoredResult[], probe: ProbeRecord['probe'], subKey: (r: ProbeRecord) => string = () => ''): StoredResult[] {
  const m = new Map<string, StoredResult>();
  for (const r of results) {
    if (r.record.probe !== probe) continue;
    m.set([r.deviceId, r.record.model.name, r.record.variant.name, subKey(r.record)].join('\u0000'), r);
  }
  return [...m.values()];
}

const VARIANT_ORDER = ['fp32', 'fp16', 'int8-dynamic', 'int8-weight'];
export function variantOrder(a: string, b: string): number {
  const ia = VARIANT_ORDER.indexOf(a);
  const ib = VARIANT_ORDER.indexOf(b);
  return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
}

function attentionViews(results: readonly StoredResult[]): AttentionView[] {
  return latest(results, 'attention').map(({ deviceId, record }) => {
    const d = record.data as AttentionProbeData;
    return {
      model: record.model.name, deviceId, variant: record.variant.name, variantSha256: record.variant.sha256, status: record.verdict.status, summary: record.verdict.summary,
      layers: d.layers, heads: d.heads, nearest: d.identifiability.nearest, learned: d.identifiability.learned,
      selfContribution: d.mixing.selfContribution, supportedUpToLayer: d.tokenRelation.supportedUpToLayer,
      survival: d.survival ? d.survival.layers.map((l) => ({ layer: l.layer, maxJs: l.maxJs, jsPerHead: l.jsPerHead, status: l.status })) : null,
    };
  });
}

function compareViews(results: readonly StoredResult[]): CompareView[] {
  return latest(results, 'compare').map(({ deviceId, record }) => {
    const d = record.data as CompareData;
    return {
      model: record.model.name, deviceId, variant: record.variant.name, healthOk: d.health.ok, jumpLayer: d.jump.jumpLayer, worstLayer: d.jump.worstLayer,
      layers: d.layers.map((l) => ({ layer: l.layer, relativeL2: l.relativeL2, hiddenCosine: l.hiddenCosine, attentionJs: l.attentionJs })),
    };
  });
}

function explanationSummaries(attention: AttentionView[], compare: CompareView[], properties: PropertiesView[], results: readonly StoredResult[]): ExplanationSummary[] {
  const rows = new Map<string, ExplanationSummary>();
  const row = (model: string, variant: string): ExplanationSummary => {
    const k = `${model}\u0000${variant}`;
    if (!rows.has(k)) rows.set(k, { model, variant, attention: null, attentionSummary: null, attentionLayers: [], tokenRelationUpTo: null, layerCount: null, properties: null, jumpLayer: null, lastLayerRelL2: null, devices: [] });
    return rows.get(k)!;
  };
  for (const r of results) {
    const s = row(r.record.model.name, r.record.variant.name);
    if (!s.devices.includes(r.deviceId)) s.devices.push(r.deviceId);
  }
  for (const a of attention) {
    const s = row(a.model, a.variant);
    s.tokenRelationUpTo = Math.min(s.tokenRelationUpTo ?? a.supportedUpToLayer, a.supportedUpToLayer);
    s.layerCount = a.layers;
    const w = worse(s.attention, a.status);
    if (w !== s.attention) {
      s.attention = w;
      s.attentionSummary = `${a.deviceId}: ${a.summary}`;
      const rec = results.find((r) => r.deviceId === a.deviceId && r.record.probe === 'attention' && r.record.model.name === a.model && r.record.variant.name === a.variant);
      s.attentionLayers = rec?.record.verdict.layers ?? [];
    }
  }
  for (const p of properties) {
    const s = row(p.model, p.variant);
    s.properties = worse(s.properties, p.status);
  }
  for (const c of compare) {
    const s = row(c.model, c.variant);
    const last = c.layers[c.layers.length - 1]?.relativeL2 ?? null;
    if (last !== null && (s.lastLayerRelL2 === null || last > s.lastLayerRelL2)) {
      s.lastLayerRelL2 = last;
      s.jumpLayer = c.jumpLayer;
    }
  }
  return [...rows.values()].sort((a, b) => a.model.localeCompare(b.model) || variantOrder(a.variant, b.variant));
}

export function buildDashboardData(results: readonly StoredResult[], devices: readonly DeviceRow[], jobs: readonly JobTargetRow[], opts: { tolerance?: number; mapModels?: string[]; baked?: BakedAttentionMaps } = {}): DashboardData {
  const comparison = buildComparison(results, devices, opts.tolerance ?? DEFAULT_TOLERANCE);
  const attention = attentionViews(results);
  const compare = compareViews(results);
  const properties = latest(results, 'properties', (r) => propertiesSubKey(r)).map(({ deviceId, record }) => propertiesView(deviceId, record)).filter((p): p is PropertiesView => p !== null);
  return {
    generatedAt: new Date().toISOString(),
    demo: comparison.demo,
    devices: [...devices],
    jobs: [...jobs],
    comparison,
    explanations: explanationSummaries(attention, compare, properties, results),
    attention,
    compare,
    properties,
    attentionMaps: { models: opts.mapModels ?? [], ...(opts.baked ? { baked: opts.baked } : {}) },
  };
}

function propertiesSubKey(r: ProbeRecord): string {
  const d = r.data as { normSet?: { name?: unknown } } | null;
  return typeof d?.normSet?.name === 'string' ? d.normSet.name : '';
}

export async function dashboardDataFromStore(store: FleetStore, opts: Parameters<typeof buildDashboardData>[3] = {}): Promise<DashboardData> {
  return buildDashboardData(await store.results(), await store.devices(), await store.jobTargets(), opts);
}
