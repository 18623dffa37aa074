/**
 * The PUBACKs the coordinator holds back until the messages they acknowledge are committed (the
 * caller's contract: a round is closed only after every message of its PUBACKs is on the ingest
 * chain, and sent only after that chain's commit). Each round owns its own list, so the round being
 * committed and the round being collected can never share a count: an earlier version counted the
 * held PUBACKs of all open rounds together and, with an asynchronous store (PostgreSQL), sent the
 * next round's PUBACKs before its rows existed.
 */
export class AckRounds {
  private collecting: Array<() => void> = [];
  // bumped when the connection closes: PUBACKs of an older connection must never be sent on a new one
  private generation = 0;

  /** PUBACKs held in the round being collected */
  get pending(): number {
    return this.collecting.length;
  }

  hold(send: () => void): void {
    this.collecting.push(send);
  }

  /** Ends the collecting round; the returned round sends its PUBACKs once, on its own connection only. */
  close(): { size: number; send: () => void } {
    const mine = this.collecting;
    const generation = this.generation;
    this.collecting = [];
    return {
      size: mine.length,
      send: () => {
        if (generation !== this.generation) return; // the broker redelivers those messages
        for (const send of mine.splice(0)) send();
      },
    };
  }

  /** The connection is gone: every held PUBACK (collecting or committing) is void. */
  connectionLost(): void {
    this.generation++;
    this.collecting = [];
  }
}
