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

  constructor(private readonly client: MqttClient, private readonly outbox: Outbox, private readonly log: DaemonLog, private readonly window = 64) {}

  drain(): void {
    if (!this.client.connected) return;
    const room = this.window - this.inflight;
    if (room <= 0) return;
    for (const row of this.outbox.pending(this.cursor, room)) {
      this.cursor = row.id;
      this.inflight++;
      const kind = parseTopic(row.topic)?.kind;
      const retain = kind !== undefined && RETAINED_KINDS.includes(kind);
      this.client.publish(row.topic, row.body, { qos: 1, retain }, (err) => {
        this.inflight--;
        if (err) {
          // not acknowledged: rewind so the next drain offers it again (the coordinator dedupes by message id)
          this.cursor = Math.min(this.cursor, row.id - 1);
          this.log.warn('publish failed, will retry', { messageId: row.messageId, error: err.message });
          return;
        }
        this.outbox.acknowledge(row.id);
        this.drain();
      });
    }
  }

  /** After a reconnect mqtt.js resends its own in-flight packets; anything it dropped is offered again. */
  reset(): void {
    if (this.inflight === 0) this.cursor = 0;
  }
}
