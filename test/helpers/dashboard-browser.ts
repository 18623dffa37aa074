import { mkdirSync, mkdtempSync } from 'node:fs';
import { resolveCoordinatorSettings } from '../../coordinator/config/coordinator-config.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { deviceProfile } from '../../agent/telemetry/device-info.ts';
import { createDaemonLog } from '../../core/daemon-log.ts';
import { encodeMessage, makeMessage } from '../../core/protocol/codec.ts';
import type { PayloadOf } from '../../core/protocol/messages.ts';
import { deviceTopic } from '../../core/protocol/topics.ts';
import type { ProbeRecord } from '../../core/results/probe-record.ts';
import { Ingest } from '../../coordinator/ingest.ts';
import type { FleetStore } from '../../coordinator/store/store.ts';
import { PROJECT_ROOT } from '../../harness/shared-data.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(PROJECT_ROOT, 'test-artifacts');

/** Debian's Chromium through playwright-core, headless, with no background traffic and a fresh profile. */
export async function launchChromium(): Promise<BrowserContext> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'ep-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Feeds a store the way the coordinator does: every message encoded, decoded and validated by the real
 * Ingest (so the dashboard's live-update hook fires exactly as in production), minus the broker.
 */
export class DeviceFeeder {
  readonly ingest: Ingest;
  private seq = new Map<string, number>();

  constructor(readonly store: FleetStore) {
    this.ingest = new Ingest(store, createDaemonLog('test-ingest', false, () => {}), resolveCoordinatorSettings({ broker: 'mqtt://127.0.0.1:1883', db: ':memory:' }));
  }

  private async send<T extends 'register' | 'progress' | 'results' | 'heartbeat'>(deviceId: string, type: T, payload: PayloadOf<T>): Promise<void> {
    const seq = (this.seq.get(deviceId) ?? 0) + 1;
    this.seq.set(deviceId, seq);
    await this.ingest.handle(deviceTopic(deviceId, type), Buffer.from(encodeMessage(makeMessage(deviceId, seq, type, payload))));
  }

  async register(deviceId: string): Promise<void> {
    const p = deviceProfile();
    await this.send(deviceId, 'register', { profile: { ...p, hostname: deviceId }, allowed: { models: [], probes: ['benchmark', 'attention', 'compare'] } });
  }

  async progress(deviceId: string, jobId: string, state: PayloadOf<'progress'>['state'], done: number, total: number, detail?: string): Promise<void> {
    await this.send(deviceId, 'progress', { jobId, attempt: 1, state, done, total, ...(detail ? { detail } : {}) });
  }

  async results(deviceId: string, jobId: string, records: readonly ProbeRecord[]): Promise<void> {
    for (const [i, record] of records.entries()) await this.send(deviceId, 'results', { jobId, recordKey: `${record.model.name}/${record.variant.name}/${record.probe}/${i}`, record });
    await this.ingest.flush();
  }
}
