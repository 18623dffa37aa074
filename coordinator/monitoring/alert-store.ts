import type { SqlRunner } from '../store/sql-runner.ts';
import { regressionKey, type Regression } from './regressions.ts';

export type AlertState = 'open' | 'acknowledged';

export interface Alert {
  id: number;
  key: string;
  state: AlertState;
  createdAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  regression: Regression;
}

/** A channel an alert is delivered on; the MQTT topic always, a webhook when configured. */
export type AlertChannel = 'mqtt' | 'webhook';
export type DeliveryState = 'pending' | 'delivered' | 'dead';
export interface Delivery { alertId: number; channel: AlertChannel; state: DeliveryState; attempts: number; nextMs: number; lastError: string | null }

interface AlertRow { id: number; alert_key: string; state: AlertState; created_ms: number; acked_ms: number | null; acked_by: string | null; regression: string }
const toAlert = (r: AlertRow): Alert => ({
  id: Number(r.id), key: r.alert_key, state: r.state, createdAt: new Date(Number(r.created_ms)).toISOString(),
  acknowledgedAt: r.acked_ms === null ? null : new Date(Number(r.acked_ms)).toISOString(), acknowledgedBy: r.acked_by, regression: JSON.parse(r.regression) as Regression,
});

interface DeliveryRow { alert_id: number; channel: AlertChannel; state: DeliveryState; attempts: number; next_ms: number; last_error: string | null }
const toDelivery = (r: DeliveryRow): Delivery => ({ alertId: Number(r.alert_id), channel: r.channel, state: r.state, attempts: Number(r.attempts), nextMs: Number(r.next_ms), lastError: r.last_error });

/**
 * Alerts in the coordinator's store (SQLite or PostgreSQL, the same SQL). Each regression is stored once,
 * by its key (kind, device, model, variant, metric, the run after): detecting it again on the next
 * evaluation, or on another replica at the same time, adds nothing (the key is UNIQUE).
 */
export class AlertStore {
  constructor(private readonly sql: SqlRunner) {}

  /** Stores the regressions not stored before, each with a pending delivery per channel; returns the new alerts. */
  async raise(regressions: readonly Regression[], channels: readonly AlertChannel[], nowMs: number): Promise<Alert[]> {
    const raised: Alert[] = [];
    const conflict = 'ON CONFLICT (alert_key) DO NOTHING';
    for (const r of regressions) {
      const key = regressionKey(r);
      const inserted = await this.sql.run(
        `INSERT INTO alerts (alert_key, kind, device_id, model_name, variant_name, metric, before_job, after_job, regression, state, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?) ${conflict}`,
        [key, r.kind, r.deviceId, r.model, r.variant, r.metric, r.before.jobId, r.after.jobId, JSON.stringify(r), nowMs],
      );
      if (inserted === 0) continue;
      const [row] = await this.sql.all<AlertRow>('SELECT * FROM alerts WHERE alert_key = ?', [key]);
      for (const ch of channels) {
        await this.sql.run(`INSERT INTO alert_deliveries (alert_id, channel, state, attempts, next_ms) VALUES (?, ?, 'pending', 0, ?) ON CONFLICT (alert_id, channel) DO NOTHING`, [row.id, ch, nowMs]);
      }
      raised.push(toAlert(row));
    }
    return raised;
  }

  async list(opts: { state?: AlertState; deviceId?: string; limit?: number; offset?: number } = {}): Promise<Alert[]> {
    const where: string[] = [], params: unknown[] = [];
    if (opts.state) { where.push('state = ?'); params.push(opts.state); }
    if (opts.deviceId) { where.push('device_id = ?'); params.push(opts.deviceId); }
    params.push(opts.limit ?? 100, opts.offset ?? 0);
    return (await this.sql.all<AlertRow>(`SELECT * FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_ms DESC, id DESC LIMIT ? OFFSET ?`, params)).map(toAlert);
  }

  async get(id: number): Promise<Alert | undefined> {
    const [row] = await this.sql.all<AlertRow>('SELECT * FROM alerts WHERE id = ?', [id]);
    return row && toAlert(row);
  }

  /** Marks an open alert acknowledged (re-announced on its channels); false when there is no open alert with that id. */
  async acknowledge(id: number, by: string, nowMs: number): Promise<boolean> {
    const changed = await this.sql.run(`UPDATE alerts SET state = 'acknowledged', acked_ms = ?, acked_by = ? WHERE id = ? AND state = 'open'`, [nowMs, by.slice(0, 200), id]);
    if (changed > 0) await this.sql.run(`UPDATE alert_deliveries SET state = 'pending', attempts = 0, next_ms = ? WHERE alert_id = ? AND state <> 'dead'`, [nowMs, id]);
    return changed > 0;
  }

  async dueDeliveries(nowMs: number, limit = 100): Promise<Delivery[]> {
    return (await this.sql.all<DeliveryRow>(`SELECT * FROM alert_deliveries WHERE state = 'pending' AND next_ms <= ? ORDER BY next_ms LIMIT ?`, [nowMs, limit])).map(toDelivery);
  }

  async deliveries(alertId?: number): Promise<Delivery[]> {
    return (await this.sql.all<DeliveryRow>(`SELECT * FROM alert_deliveries ${alertId === undefined ? '' : 'WHERE alert_id = ?'} ORDER BY alert_id, channel`, alertId === undefined ? [] : [alertId])).map(toDelivery);
  }

  /** One attempt's outcome: delivered, retry at `retryAtMs`, or (no retry left) the dead letter with its last error. */
  async recordAttempt(d: Delivery, outcome: { ok: true } | { ok: false; error: string; retryAtMs: number | null }): Promise<void> {
    if (outcome.ok) {
      await this.sql.run(`UPDATE alert_deliveries SET state = 'delivered', attempts = attempts + 1, last_error = NULL WHERE alert_id = ? AND channel = ?`, [d.alertId, d.channel]);
    } else {
      await this.sql.run(`UPDATE alert_deliveries SET state = ?, attempts = attempts + 1, next_ms = ?, last_error = ? WHERE alert_id = ? AND channel = ?`,
        [outcome.retryAtMs === null ? 'dead' : 'pending', outcome.retryAtMs ?? d.nextMs, outcome.error.slice(0, 1000), d.alertId, d.channel]);
    }
  }
}
