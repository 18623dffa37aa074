import type { FleetStore } from '../store/store.ts';
import { AlertStore, type Alert, type AlertState } from './alert-store.ts';
import { detectRegressions, type Regression } from './regressions.ts';
import { buildSeries, type RunPoint } from './series.ts';
import { seriesRecords, type SeriesId, type SeriesWindow } from './series-query.ts';

/** One run on the timeline: its figures, verdicts and software, without the bulky fingerprint. */
export type TimelinePoint = Omit<RunPoint, 'fingerprint'>;

export interface Timeline {
  series: SeriesId;
  runs: TimelinePoint[];
  /** regressions found inside the window (device-own tests; the fleet band needs the fleet: see alerts) */
  regressions: Regression[];
  /** stored alerts of this series, newest first */
  alerts: Alert[];
}

/** The dashboard's per device x model x variant timeline, from that series' rows only (the series index). */
export async function timeline(store: FleetStore, id: SeriesId, w: SeriesWindow = {}): Promise<Timeline> {
  const [s] = buildSeries(await seriesRecords(store.sql(), id, w));
  const runs = (s?.runs ?? []).map(({ fingerprint: _fp, ...p }) => p);
  const regressions = s ? detectRegressions([s]) : [];
  const alerts = (await new AlertStore(store.sql()).list({ deviceId: id.deviceId, limit: 200 })).filter((a) => a.regression.model === id.model && a.regression.variant === id.variant);
  return { series: id, runs, regressions, alerts };
}

/** `/api/alerts`: a page of alerts, with the open count for the fleet view's badge. */
export async function alertsPage(store: FleetStore, q: { state?: AlertState; deviceId?: string; limit?: number; offset?: number }): Promise<{ alerts: Alert[]; open: number; limit: number; offset: number }> {
  const sql = store.sql();
  const limit = Math.max(1, Math.min(q.limit ?? 50, 500)), offset = Math.max(0, q.offset ?? 0);
  const alerts = await new AlertStore(sql).list({ ...q, limit, offset });
  const [{ n }] = await sql.all<{ n: number }>(`SELECT COUNT(*) AS n FROM alerts WHERE state = 'open'`);
  return { alerts, open: Number(n), limit, offset };
}
