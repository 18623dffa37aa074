import { encodeMessage, makeMessage } from '../../core/protocol/codec.ts';
import type { Message, MessageType, PayloadOf } from '../../core/protocol/messages.ts';
import type { StateDb } from './state-db.ts';

export interface OutboxRow { id: number; messageId: string; topic: string; body: string }

/**
 * Messages are written here before they are published and deleted only when the broker acknowledged
 * them (PUBACK), so a crash or an outage at any point loses nothing; a resend after a crash can
 * duplicate, which the coordinator absorbs by message id.
 */
export class Outbox {
  private readonly nextSeqStmt;
  private readonly insertStmt;
  private readonly deleteStmt;
  private readonly pendingStmt;
  private readonly pendingNoResultsStmt;
  private readonly countStmt;
  private readonly brokerAckStmt;
  private readonly receiptStmt;
  private readonly requeueStmt;

  constructor(private readonly db: StateDb, private readonly deviceId: string) {
    this.nextSeqStmt = db.prepare<[], { value: number }>("UPDATE meta SET value = value + 1 WHERE key = 'seq' RETURNING value");
    this.insertStmt = db.prepare('INSERT INTO outbox (message_id, topic, body, created_at) VALUES (?, ?, ?, ?)');
    this.deleteStmt = db.prepare('DELETE FROM outbox WHERE id = ?');
    this.pendingStmt = db.prepare<[number, number], OutboxRow>('SELECT id, message_id AS messageId, topic, body FROM outbox WHERE id > ? AND acked_ms IS NULL ORDER BY id LIMIT ?');
    this.pendingNoResultsStmt = db.prepare<[number, number], OutboxRow>(`SELECT id, message_id AS messageId, topic, body FROM outbox
      WHERE id > ? AND acked_ms IS NULL AND topic NOT LIKE '%/results' ORDER BY id LIMIT ?`);
    this.countStmt = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM outbox');
    this.brokerAckStmt = db.prepare('UPDATE outbox SET acked_ms = ? WHERE id = ?');
    this.receiptStmt = db.prepare('DELETE FROM outbox WHERE message_id = ?');
    this.requeueStmt = db.prepare<[number], { id: number }>('UPDATE outbox SET acked_ms = NULL WHERE acked_ms IS NOT NULL AND acked_ms < ? RETURNING id');
  }

  /** The next sequence number, persisted so it keeps increasing across restarts. */
  nextSeq(): number {
    return this.nextSeqStmt.get()!.value;
  }

  /** A message with a fresh id and sequence number (not stored: for heartbeats and status). */
  message<T extends MessageType>(type: T, payload: PayloadOf<T>): Message<T> {
    return makeMessage(this.deviceId, this.nextSeq(), type, payload);
  }

  /**
   * Stores a message for delivery. `alsoInTransaction` runs in the same transaction (e.g. marking a
   * job record as queued), so a crash cannot leave one without the other.
   */
  enqueue<T extends MessageType>(topic: string, type: T, payload: PayloadOf<T>, alsoInTransaction?: () => void,
    envelope: Pick<Message, 'registrationToken'> = {}): Message<T> {
    return this.db.transaction(() => {
      const msg = { ...this.message(type, payload), ...envelope };
      this.insertStmt.run(msg.messageId, topic, encodeMessage(msg), msg.sentAt);
      alsoInTransaction?.();
      return msg;
    })();
  }

  acknowledge(id: number): void {
    this.deleteStmt.run(id);
  }

  /**
   * The broker acknowledged a row: results wait for the coordinator's receipt (a broker crash can lose
   * what it acknowledged but had not saved yet), everything else is done.
   */
  brokerAcknowledged(row: Pick<OutboxRow, 'id' | 'topic'>, nowMs = Date.now()): void {
    if (row.topic.endsWith('/results')) this.brokerAckStmt.run(nowMs, row.id);
    else this.deleteStmt.run(row.id);
  }

  /** The coordinator confirmed these message ids (stored, or rejected for good): they are deleted. */
  receipt(messageIds: readonly string[]): number {
    return this.db.transaction(() => messageIds.reduce((n, id) => n + this.receiptStmt.run(id).changes, 0))();
  }

  /** Results acknowledged by the broker before `beforeMs` and still without a receipt are offered again; returns their ids. */
  requeueUnconfirmed(beforeMs: number): number[] {
    return this.requeueStmt.all(beforeMs).map((r) => r.id);
  }

  /** Pending messages after `afterId`, oldest first; without results while the coordinator has not accepted the registration. */
  pending(afterId: number, limit: number, withResults = true): OutboxRow[] {
    return (withResults ? this.pendingStmt : this.pendingNoResultsStmt).all(afterId, limit);
  }

  count(): number {
    return this.countStmt.get()!.n;
  }
}
