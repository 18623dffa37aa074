import { rowKey } from '../report/probe-records.ts';
import type { FleetStore } from '../store/store.ts';
import { alertsPage, timeline, type Timeline } from './timeline.ts';

/** What a static view shows of monitoring: the open alerts and some series' timelines (`report`, `report --html`). */
export interface BakedMonitoring { alerts: Awaited<ReturnType<typeof alertsPage>>; timelines: Timeline[] }

type SeriesRef = { deviceId: string; model: string; variant: string };

/** Series baked: those with open alerts first, then the given rows (the report's), up to this many. */
export const BAKED_TIMELINES = 20;

export async function bakeMonitoring(store: FleetStore, rows: readonly SeriesRef[], limit = BAKED_TIMELINES): Promise<BakedMonitoring> {
  const alerts = await alertsPage(store, { state: 'open', limit: 50 });
  const ids = new Map<string, SeriesRef>();
  for (const s of [...alerts.alerts.map((a) => a.regression), ...rows]) {
    const k = rowKey(s.deviceId, s.model, s.variant);
    if (!ids.has(k) && ids.size < limit) ids.set(k, { deviceId: s.deviceId, model: s.model, variant: s.variant });
  }
  const timelines: Timeline[] = [];
  for (const id of ids.values()) timelines.push(await timeline(store, id, { limit: 200 }));
  return { alerts, timelines };
}

/** The text report's monitoring part: open alerts, then p50 per run of each baked series (`*` where a regression starts). */
export function renderMonitoringText(m: BakedMonitoring): string {
  const lines = [`Monitoring: ${m.alerts.open} open alert${m.alerts.open === 1 ? '' : 's'}`];
  for (const a of m.alerts.alerts) {
    const r = a.regression;
    lines.push(`  [${a.id}] ${r.deviceId} · ${r.model} · ${r.variant}: ${r.kind} ${r.before.jobId} -> ${r.after.jobId}: ${r.statistic}${r.changed.length ? `; changed: ${r.changed.join('; ')}` : ''}`);
  }
  const shown = m.timelines.filter((t) => t.runs.length > 0);
  if (shown.length) lines.push('', 'Timelines: p50 ms per run, oldest first (* a regression starts at this run, ~ throttled)');
  for (const t of shown) {
    const starts = new Set([...t.regressions, ...t.alerts.map((a) => a.regression)].map((r) => r.after.jobId));
    const points = t.runs.map((p) => `${starts.has(p.jobId) ? '*' : ''}${p.latency?.throttled ? '~' : ''}${p.figures.p50Ms === undefined ? '-' : p.figures.p50Ms.toFixed(2)}`);
    lines.push(`  ${t.series.deviceId} · ${t.series.model} · ${t.series.variant} (${t.runs.length} runs): ${points.join(' ')}`);
  }
  return lines.join('\n');
}
