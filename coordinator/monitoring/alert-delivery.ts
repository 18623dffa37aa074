import type { Alert, AlertStore, Delivery } from './alert-store.ts';

/** Alerts are retained per alert, so a subscriber that connects later still sees every alert's latest state. */
export const ALERT_TOPIC_ROOT = 'edgeprobe/v1/alerts';
export const alertTopic = (a: Pick<Alert, 'id' | 'regression'>): string => `${ALERT_TOPIC_ROOT}/${a.regression.deviceId}/${a.id}`;

export interface AlertDeliveryOptions {
  /** POSTed the alert as JSON; unset = MQTT only */
  webhookUrl?: string;
  /** attempts per channel before the delivery becomes the dead letter */
  maxAttempts: number;
  /** the first retry waits this long, each next one twice as long */
  backoffMs: number;
  webhookTimeoutMs: number;
}

export const DEFAULT_DELIVERY: AlertDeliveryOptions = { maxAttempts: 5, backoffMs: 2000, webhookTimeoutMs: 5000 };

export type Publish = (topic: string, payload: string, opts: { qos: 1; retain: boolean }) => Promise<unknown>;

/** The message both channels carry: the alert with its regression, and its state (open or acknowledged). */
export const alertMessage = (a: Alert): string => JSON.stringify({ alertId: a.id, state: a.state, createdAt: a.createdAt, acknowledgedAt: a.acknowledgedAt, acknowledgedBy: a.acknowledgedBy, ...a.regression });

async function postWebhook(url: string, body: string, timeoutMs: number): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`webhook ${url} answered HTTP ${res.status}`);
}

/**
 * Tries every due delivery once. A failed attempt is retried after backoffMs x 2^(attempts - 1); after
 * maxAttempts the delivery stays in the store as a dead letter with its last error (`edgeprobe alerts list`
 * and the dashboard show it), never silently dropped. Returns the attempts made.
 */
export async function deliverDue(store: AlertStore, publish: Publish | undefined, o: AlertDeliveryOptions, nowMs: number): Promise<number> {
  const due = await store.dueDeliveries(nowMs);
  for (const d of due) {
    const alert = await store.get(d.alertId);
    if (!alert) continue;
    await store.recordAttempt(d, await attempt(d, alert, publish, o, nowMs));
  }
  return due.length;
}

async function attempt(d: Delivery, alert: Alert, publish: Publish | undefined, o: AlertDeliveryOptions, nowMs: number): Promise<{ ok: true } | { ok: false; error: string; retryAtMs: number | null }> {
  try {
    if (d.channel === 'mqtt') {
      if (!publish) throw new Error('not connected to the broker');
      await publish(alertTopic(alert), alertMessage(alert), { qos: 1, retain: true });
    } else {
      if (!o.webhookUrl) throw new Error('no webhook configured');
      await postWebhook(o.webhookUrl, alertMessage(alert), o.webhookTimeoutMs);
    }
    return { ok: true };
  } catch (err) {
    const attempts = d.attempts + 1;
    return { ok: false, error: (err as Error).message, retryAtMs: attempts >= o.maxAttempts ? null : nowMs + o.backoffMs * 2 ** (attempts - 1) };
  }
}
