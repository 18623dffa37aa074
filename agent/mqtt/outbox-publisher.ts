import type { MqttClient } from 'mqtt';
import type { DaemonLog } from '../../core/daemon-log.ts';
import { parseTopic, RETAINED_KINDS } from '../../core/protocol/topics.ts';
import type { Outbox } from '../state/outbox.ts';

/**
 * Sends the outbox over MQTT at QoS 1 and deletes a row only in the publish callback, which mqtt.js
 * calls when the broker's PUBACK arrives. At most `window` messages are in flight, so a long backlog
 * after an outage is streamed from SQLite rather than loaded into memory.
 */
export class OutboxPublisher {
  /** highest outbox id handed to mqtt.js in this process */
  private cursor = 0;
  private inflight = 0;
  private readonly inflightIds = new Set<number>();
  private resultsHeld = false;

  constructor(private readonly client: MqttClient, private readonly outbox: Outbox, private readonly log: DaemonLog, private readonly window = 64) {}

  drain(): void {
    if (!this.client.connected) return;
    const room = this.window - this.inflight;
    if (room <= 0) return;
    for (const row of this.outbox.pending(this.cursor, room, !this.resultsHeld)) {
      this.cursor = row.id;
      if (this.inflightIds.has(row.id)) continue; // offered again by a rewind while its PUBACK is still due
      this.inflightIds.add(row.id);
      this.inflight++;
      const kind = parseTopic(row.topic)?.kind;
      const retain = kind !== undefined && RETAINED_KINDS.includes(kind);
      this.client.publish(row.topic, row.body, { qos: 1, retain }, (err) => {
        this.inflight--;
        this.inflightIds.delete(row.id);
        if (err) {
          // not acknowledged: rewind so the next drain offers it again (the coordinator dedupes by message id)
          this.cursor = Math.min(this.cursor, row.id - 1);
          this.log.warn('publish failed, will retry', { messageId: row.messageId, error: err.message });
          return;
        }
        this.outbox.brokerAcknowledged(row);
        this.drain();
      });
    }
  }

  /** After a reconnect mqtt.js resends its own in-flight packets; anything it dropped is offered again. */
  reset(): void {
    if (this.inflight === 0) this.cursor = 0;
  }

  /**
   * Holds results back (register, status and progress still go) until the coordinator has accepted this
   * device's registration: results that overtook the register message would be refused as coming from an
   * unknown device. Releasing them rewinds to the oldest.
   */
  holdResults(hold: boolean): void {
    if (this.resultsHeld === hold) return;
    this.resultsHeld = hold;
    if (!hold) {
      this.cursor = 0;
      this.drain();
    }
  }

  /** Results without a receipt for `timeoutMs` after their PUBACK are sent again (the coordinator dedupes by message id). */
  resendUnconfirmed(timeoutMs: number, nowMs = Date.now()): number {
    const ids = this.outbox.requeueUnconfirmed(nowMs - timeoutMs);
    if (ids.length === 0) return 0;
    this.cursor = Math.min(this.cursor, Math.min(...ids) - 1);
    this.log.warn('results without a receipt from the coordinator, sending them again', { count: ids.length, afterS: timeoutMs / 1000 });
    this.drain();
    return ids.length;
  }
}
