import type { DaemonLog } from '../../core/daemon-log.ts';
import type { FleetStore } from '../store/store.ts';
import { AlertStore, type Alert, type AlertChannel } from './alert-store.ts';
import { DEFAULT_DELIVERY, deliverDue, type AlertDeliveryOptions, type Publish } from './alert-delivery.ts';
import { DEFAULT_DETECT, latencyChanges, taskAgreementDrops, verdictFlips, type DetectOptions, type Regression } from './regressions.ts';
import { bandExits, JobSeriesCache, type BandState } from './band-scan.ts';
import { SeriesBuilder } from './series.ts';
import { SeriesHistory, touchedSeries, type ParsedFacts } from './series-query.ts';

/** Records per series an evaluation reads: the latency baseline needs at most 10 runs since the last change. */
const HISTORY_RECORDS = 200;
const SERIES_PER_BATCH = 100;

export interface MonitoringOptions extends Partial<AlertDeliveryOptions> {
  /** regressions are looked for at most this often, and only when results arrived since */
  evaluateEveryMs?: number;
  detect?: Partial<DetectOptions>;
}

/**
 * The coordinator's monitoring duty (run by the replica holding the dispatch lease): finds regressions
 * in the stored runs, stores each one once as an alert, and delivers the alerts (MQTT, webhook).
 */
export class Monitor {
  readonly alerts: AlertStore;
  private lastResultId = -1;
  private lastEvalMs = -Infinity;
  private evaluatedId = 0;
  private readonly band: BandState = new Map();
  // each touched job's band series, so an evaluation reads only the records stored since the last one
  private readonly jobSeries = new JobSeriesCache();
  // each stored record's series facts, so the newest records of a touched series are parsed once, not every evaluation
  private readonly history = new SeriesHistory();
  private readonly delivery: AlertDeliveryOptions;
  private readonly channels: AlertChannel[];

  constructor(private readonly store: FleetStore, private readonly log: DaemonLog | undefined, private readonly opts: MonitoringOptions = {}) {
    this.alerts = new AlertStore(store.sql());
    this.delivery = { ...DEFAULT_DELIVERY, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as AlertDeliveryOptions;
    this.channels = ['mqtt', ...(this.delivery.webhookUrl ? ['webhook' as const] : [])];
  }

  /**
   * Rebuilds the series that got results since the last evaluation, a batch at a time, each from its
   * latest records through the series index; checks the consistency band job by job (band-scan.ts); and
   * raises the regressions not raised before. The first evaluation after a start reads every series once; stored
   * alert keys make re-detections harmless.
   */
  async evaluate(nowMs: number): Promise<Alert[]> {
    const sql = this.store.sql();
    const { series: touched, lastId } = await touchedSeries(sql, this.evaluatedId);
    if (!touched.length) return [];
    const o = { ...DEFAULT_DETECT, ...this.opts.detect };
    const regressions: Regression[] = [];
    // records the series history parses here go on to the band scan, so each new record is parsed once
    const parsed: ParsedFacts = new Map();
    // a batch of series at a time, so memory stays bounded however long the fleet's history is
    for (let i = 0; i < touched.length; i += SERIES_PER_BATCH) {
      const b = new SeriesBuilder();
      for (const id of touched.slice(i, i + SERIES_PER_BATCH)) for (const f of await this.history.newest(sql, id, HISTORY_RECORDS, parsed)) b.addFacts(f);
      for (const s of b.series()) regressions.push(...verdictFlips(s), ...taskAgreementDrops(s, o), ...latencyChanges(s, o));
    }
    regressions.push(...(await bandExits(sql, this.evaluatedId, this.band, o, this.jobSeries, parsed)));
    const raised = await this.alerts.raise(regressions, this.channels, nowMs);
    this.evaluatedId = lastId;
    for (const a of raised) this.log?.warn('regression alert', { alert: a.id, kind: a.regression.kind, device: a.regression.deviceId, model: a.regression.model, variant: a.regression.variant, before: a.regression.before.jobId, after: a.regression.after.jobId });
    return raised;
  }

  /** One round of the duty: evaluate when results arrived (and the interval passed), then deliver what is due. */
  async tick(publish: Publish | undefined, nowMs: number): Promise<void> {
    const { lastResultId } = await this.store.dataVersion();
    if (lastResultId !== this.lastResultId && nowMs - this.lastEvalMs >= (this.opts.evaluateEveryMs ?? 5000)) {
      this.lastEvalMs = nowMs;
      this.lastResultId = lastResultId;
      await this.evaluate(nowMs);
    }
    await deliverDue(this.alerts, publish, this.delivery, nowMs);
  }
}
