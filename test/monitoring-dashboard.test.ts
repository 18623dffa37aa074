/**
 * The dashboard's monitoring section in Chromium: the fleet's open alerts (and the header's count) and a
 * device's timeline with the run where its planted latency step starts marked, from /api/alerts and
 * /api/timeline of a real store.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SeededRandom } from '../core/numeric/seeded-random.ts';
import type { BenchmarkData } from '../probes/benchmark/schema.ts';
import { syntheticBenchmarkRecord } from '../sim/synthetic-record.ts';
import { startDashboardServer } from '../coordinator/dashboard/server.ts';
import { Monitor } from '../coordinator/monitoring/monitor.ts';
import { SqliteStore } from '../coordinator/store/sqlite-store.ts';
import { CHROMIUM, launchChromium } from './helpers/dashboard-browser.ts';

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} missing (apt-get install chromium)`;
const dir = mkdtempSync(join(tmpdir(), 'ep-mon-dash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('open alerts and a timeline with the regression marked', { skip }, async () => {
  const store = new SqliteStore(join(dir, 'fleet.sqlite'));
  const rng = new SeededRandom(1);
  const noise = [0.01, -0.01, 0.02, -0.015, 0.005, -0.02, 0.015, 0];
  let n = 0;
  for (const device of ['pi-01', 'pi-02']) {
    // the live page draws a page of registered devices (dashboard-views.ts); an agent registers before it reports
    store.registerDevice(device, { profile: { hostname: device, platform: 'linux', arch: 'arm64', cpuModel: 'c', cores: 4, memoryBytes: 2 ** 30, nodeVersion: 'v20', agentVersion: '0.1.0' }, allowed: { models: [], probes: ['benchmark'] } }, 'allow-list', Date.now());
    store.ingestResults(noise.map((e, i) => {
      const r = syntheticBenchmarkRecord(rng, 'bert', 'int8-dynamic', 1);
      (r.data as BenchmarkData).latencyMs.p50 = 20 * Math.exp(e) * (device === 'pi-01' && i >= 5 ? 1.3 : 1);
      return { messageId: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`, deviceId: device, seq: i, sentAt: r.createdAt, jobId: `sched-x-${i}`, recordKey: 'k0', record: { ...r, createdAt: new Date(Date.UTC(2026, 10, 1, i)).toISOString() } };
    }), Date.now());
  }
  assert.equal((await new Monitor(store, undefined).evaluate(Date.now())).length, 1);
  const server = await startDashboardServer({ store, host: '127.0.0.1', port: 0 });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.waitForSelector('[data-view="alerts"] tr[data-alert]');
    const row = await page.textContent('[data-view="alerts"] tr[data-alert]');
    assert.match(row ?? '', /pi-01.*bert.*int8-dynamic.*\+2\d\.\d%.*sched-x-4 → sched-x-5/);
    assert.equal(await page.textContent('#open-alerts'), '1 open alert');
    await page.waitForSelector('[data-view="timeline"][data-runs="8"] [data-regression="sched-x-5"]');
    assert.ok(await page.$('[data-view="timeline"] figure[data-chart="timeline"] canvas'));
    // the other device: its timeline, no regression
    await page.selectOption('select[aria-label="series"]', { label: 'pi-02 · bert · int8-dynamic' });
    await page.waitForSelector('[data-view="timeline"][data-runs="8"]');
    assert.equal(await page.$$eval('[data-view="timeline"] [data-regression]', (els) => els.length), 0);
  } finally {
    await browser.close();
    await server.close();
    store.close();
  }
});
