import type { VerdictStatus } from '../../core/results/probe-record.ts';
import { byVariant, VARIANT_NAMES } from '../../core/variants/variant-types.ts';
import type { AttentionMapPair } from '../../probes/attention/schema.ts';
import { probeContracts } from '../../probes/index.ts';
import { buildFleetReport, SEVERITY, type FleetReport } from '../report/fleet-report.ts';
import { DEFAULT_TOLERANCE } from '../report/consistency.ts';
import { currentOf, readRecords, splitKey, type ReadRecords } from '../report/probe-records.ts';
import type { BakedMonitoring } from '../monitoring/monitoring-summary.ts';
import { readCurrentRecords, recentJobTargets } from '../report/record-view.ts';
import type { DeviceRow, FleetStore, JobTargetRow, StoredResult } from '../store/store.ts';

/**
 * Everything the dashboard draws, as one JSON document: the live server sends it from /api/data and the
 * static HTML report inlines it. Built from the current records, each probe's part by its contract.
 */
export interface DashboardData {
  generatedAt: string;
  demo: boolean;
  /** the variant order of the matrix and the tables (core/variants) */
  variantOrder: string[];
  devices: DeviceRow[];
  jobs: JobTargetRow[];
  report: FleetReport;
  /** the registered probes, in registry order: the front end draws a section per probe */
  probes: Array<{ kind: string; title: string; explains: boolean }>;
  /** per model and variant: does each explanation hold, on how many devices (the page's headline) */
  explanations: ExplanationSummary[];
  /** per probe: its contract's view model (absent for probes without one; the front end then draws their report cells) */
  views: Record<string, unknown>;
  /** on-demand attention heat maps: the models the coordinator has locally, or maps baked into a report */
  attentionMaps: { models: string[]; baked?: BakedAttentionMaps };
  /** a static report's monitoring section (the live page asks /api/alerts and /api/timeline instead) */
  monitoring?: BakedMonitoring;
}


export interface ExplanationSummary {
  model: string;
  variant: string;
  /** per probe that judges an explanation: the worst verdict over devices, with that device's summary and layers */
  verdicts: Record<string, { status: VerdictStatus; summary: string; layers: number[]; deviceId: string }>;
  /** per probe: figures its contract adds to the headline (attention: tokenRelationUpTo, layerCount; divergence: jumpLayer, lastLayerRelL2) */
  facts: Record<string, Record<string, unknown>>;
  devices: string[];
}

export interface BakedAttentionMaps {
  model: string;
  sentence: string;
  maps: AttentionMapPair[];
}

export function buildDashboardData(results: readonly StoredResult[], devices: readonly DeviceRow[], jobs: readonly JobTargetRow[], opts: { tolerance?: number; mapModels?: string[]; baked?: BakedAttentionMaps; read?: ReadRecords } = {}): DashboardData {
  const read = opts.read ?? readRecords(results);
  const report = buildFleetReport(results, devices, opts.tolerance ?? DEFAULT_TOLERANCE, read);
  const contracts = probeContracts();

  const summaries = new Map<string, ExplanationSummary>();
  const summary = (model: string, variant: string): ExplanationSummary => {
    const k = `${model}\u0000${variant}`;
    if (!summaries.has(k)) summaries.set(k, { model, variant, verdicts: {}, facts: {}, devices: [] });
    return summaries.get(k)!;
  };
  for (const k of read.counts.keys()) {
    const [deviceId, model, variant] = splitKey(k);
    const s = summary(model, variant);
    if (!s.devices.includes(deviceId)) s.devices.push(deviceId);
  }
  const views: Record<string, unknown> = {};
  for (const c of contracts) {
    const current = currentOf(read, c);
    if (c.view) views[c.kind] = c.view(current as never);
    const byModelVariant = new Map<string, typeof current>();
    for (const r of current) {
      const k = `${r.record.model.name}\u0000${r.record.variant.name}`;
      byModelVariant.set(k, [...(byModelVariant.get(k) ?? []), r]);
    }
    for (const recs of byModelVariant.values()) {
      const s = summary(recs[0].record.model.name, recs[0].record.variant.name);
      if (c.headline) s.facts[c.kind] = c.headline(recs as never);
      if (!c.explains) continue;
      for (const { deviceId, record } of recs) {
        const prev = s.verdicts[c.kind];
        if (!prev || SEVERITY[record.verdict.status] < SEVERITY[prev.status]) {
          s.verdicts[c.kind] = { status: record.verdict.status, summary: `${deviceId}: ${record.verdict.summary}`, layers: record.verdict.layers ?? [], deviceId };
        }
      }
    }
  }
  return {
    generatedAt: new Date().toISOString(),
    demo: report.demo,
    variantOrder: [...VARIANT_NAMES],
    devices: [...devices],
    jobs: [...jobs],
    report,
    probes: contracts.map((c) => ({ kind: c.kind, title: c.title, explains: c.explains })),
    explanations: [...summaries.values()].sort((a, b) => a.model.localeCompare(b.model) || byVariant(a.variant, b.variant)),
    views,
    attentionMaps: { models: opts.mapModels ?? [], ...(opts.baked ? { baked: opts.baked } : {}) },
  };
}

/** The dashboard's newest job targets; older ones stay in the store (`jobs list`). */
export const DASHBOARD_JOB_TARGETS = 1000;

/** From the store's record view: the current records and the rows' counts, never every stored result (record-view.ts). */
export async function dashboardDataFromStore(store: FleetStore, opts: Parameters<typeof buildDashboardData>[3] = {}): Promise<DashboardData> {
  const { results, read } = await readCurrentRecords(store.sql());
  return buildDashboardData(results, await store.devices(), await recentJobTargets(store.sql(), DASHBOARD_JOB_TARGETS), { ...opts, read });
}
