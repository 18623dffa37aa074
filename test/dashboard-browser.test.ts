import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { AttentionMapService } from '../probes/attention/attention-maps.ts';
import { buildDashboardData } from '../coordinator/dashboard/dashboard-data.ts';
import { bakeAttentionMaps, renderHtmlReport } from '../coordinator/dashboard/html-report.ts';
import { startDashboardServer, type DashboardServer } from '../coordinator/dashboard/server.ts';
import { SqliteStore } from '../coordinator/store/sqlite-store.ts';
import { submitJob } from '../coordinator/submit-job.ts';
import { Monitor } from '../coordinator/monitoring/monitor.ts';
import { bakeMonitoring } from '../coordinator/monitoring/monitoring-summary.ts';
import { RolloutStore } from '../coordinator/rollouts/rollouts.ts';
import { rolloutTable } from '../coordinator/rollouts/rollout-view.ts';
import { SeededRandom } from '../core/numeric/seeded-random.ts';
import type { BenchmarkData } from '../probes/benchmark/schema.ts';
import { syntheticBenchmarkRecord } from '../sim/synthetic-record.ts';
import { ARTIFACTS, CHROMIUM, DeviceFeeder, launchChromium } from './helpers/dashboard-browser.ts';
import { FIXTURE_VARIANTS, runRealProbes, runRealProperties, type RealRecords } from './helpers/dashboard-fixtures.ts';

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} missing (apt-get install chromium)`;

describe('dashboard in Chromium, store filled by real probe runs', { skip }, () => {
  let recs: RealRecords;
  let store: SqliteStore;
  let feeder: DeviceFeeder;
  let server: DashboardServer;
  let maps: AttentionMapService;
  let browser: BrowserContext;
  let page: Page;
  let jobId: string;
  let job3: string;
  const dir = mkdtempSync(join(tmpdir(), 'ep-dash-'));

  before(async () => {
    recs = await runRealProbes();
    store = new SqliteStore(join(dir, 'fleet.sqlite'));
    feeder = new DeviceFeeder(store);
    await feeder.register('pi-01');
    await feeder.register('pi-02');
    jobId = await submitJob(store, ['pi-01', 'pi-02'], { models: [{ name: recs.md.name }], variants: [...FIXTURE_VARIANTS], probes: ['benchmark', 'attention', 'divergence'] }, { timeoutS: 600, maxAttempts: 1 });
    await feeder.results('pi-01', jobId, [...recs.benchmark, ...recs.attention, ...recs.compare]);
    await feeder.progress('pi-01', jobId, 'completed', 12, 12, '12 items');
    await feeder.results('pi-02', jobId, recs.benchmarkSecondDevice);
    await feeder.progress('pi-02', jobId, 'running', 2, 12, 'benchmark finished');
    maps = new AttentionMapService({ [recs.md.name]: recs.md.dir }, recs.variantsDir);
    server = await startDashboardServer({ store, host: '127.0.0.1', port: 0, changes: feeder.ingest.changes, maps });
    browser = await launchChromium();
    page = await browser.newPage();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await maps?.close();
    store?.close();
  });

  const attentionStatus = (variant: string) => recs.attention.find((r) => r.variant.name === variant)!.verdict.status;

  test('every view renders the devices, verdicts and figures of the stored records', async () => {
    await page.goto(server.url);
    await page.waitForSelector('body[data-rendered]');
    // headline: one row per variant, the badge is the record's own verdict
    for (const v of FIXTURE_VARIANTS.filter((x) => x !== 'fp32')) {
      const badge = page.locator(`table.verdicts tr[data-variant="${v}"] [data-verdict]`).first();
      assert.equal(await badge.getAttribute('data-verdict'), attentionStatus(v), `headline verdict of ${v}`);
    }
    const broken = FIXTURE_VARIANTS.filter((v) => v !== 'fp32' && attentionStatus(v) === 'fails');
    assert.ok(broken.length > 0, 'the fixture has a variant whose attention explanation fails (int8 on the peaked model)');
    for (const v of broken) assert.match(await page.locator(`table.verdicts tr[data-variant="${v}"] td.advice`).innerText(), /do not explain with this variant/);
    const lost = await page.locator('[data-headline="bad"]').innerText();
    for (const v of broken) assert.ok(lost.includes(v), `headline "Loses its explanations" names ${v}: ${lost}`);
    const kept = FIXTURE_VARIANTS.filter((v) => v !== 'fp32' && attentionStatus(v) === 'survives');
    for (const v of kept) assert.ok((await page.locator('[data-headline="good"]').innerText()).includes(v));
    // fleet and matrix: both devices
    for (const d of ['pi-01', 'pi-02']) {
      assert.equal(await page.locator(`#fleet tr[data-device="${d}"]`).count(), 1, `fleet row ${d}`);
      assert.ok(await page.locator(`#matrix td[data-device="${d}"]`).count() >= 2, `matrix cells ${d}`);
    }
    // per-layer charts: one dataset per variant (survival: the three compressed variants)
    const datasets = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('figure.chart')].map((f) => {
      const chart = (window as unknown as { Chart: { getChart(c: Element): { data: { datasets: Array<{ label: string; data: unknown[] }> } } } }).Chart.getChart(f.querySelector('canvas')!);
      return [f.getAttribute('data-chart'), chart.data.datasets.map((d) => `${d.label}:${d.data.length}`)];
    })));
    const L = (recs.attention[0].data as { layers: number }).layers;
    assert.deepEqual(datasets[`identifiability-${recs.md.name}`], FIXTURE_VARIANTS.map((v) => `${v}:${L + 1}`));
    assert.deepEqual(datasets[`rollout-${recs.md.name}`], FIXTURE_VARIANTS.map((v) => `${v}:${L + 1}`));
    assert.deepEqual(datasets[`survival-${recs.md.name}`], FIXTURE_VARIANTS.filter((v) => v !== 'fp32').map((v) => `${v}:${L}`));
    // layer x variant heat map: the jump layer of each variant is outlined
    const drift = page.locator(`table[data-heat="drift-${recs.md.name}"]`);
    assert.equal(await drift.locator('tbody tr').count(), L + 1);
    const jumps = recs.compare.filter((c) => (c.data as { jump: { jumpLayer: number | null } }).jump.jumpLayer !== null).length;
    assert.equal(await drift.locator('td.marked').count(), jumps);
    // attention heat maps computed on demand: fp32 beside the variant, S x S cells
    await page.waitForSelector('table[data-heat="map-variant"]', { timeout: 20_000 });
    const tokens = await page.locator('table[data-heat="map-fp32"] tbody tr').count();
    assert.match(await page.locator('#maps .sha-check').innerText(), /same variant file as the devices/);
    assert.ok(tokens >= 3);
    assert.equal(await page.locator('table[data-heat="map-fp32"] tbody td').count(), tokens * tokens);
    // properties: absent here, said so; jobs with progress
    assert.match(await page.locator('#properties').innerText(), /No property-inference records yet/);
    assert.equal(await page.locator(`#jobs tr[data-device="pi-02"] progress`).getAttribute('value'), '2');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-full.png'), fullPage: true });
    await page.locator('#verdicts').screenshot({ path: join(ARTIFACTS, 'dashboard-verdicts.png') });
    await page.locator('#attention').screenshot({ path: join(ARTIFACTS, 'dashboard-attention.png') });
    await page.locator('#maps').screenshot({ path: join(ARTIFACTS, 'dashboard-maps.png') });
    await page.locator('#matrix').screenshot({ path: join(ARTIFACTS, 'dashboard-matrix.png') });
    await page.locator('#divergence').screenshot({ path: join(ARTIFACTS, 'dashboard-drift.png') });
  });

  test('a new result and job progress appear without a reload (server-sent events)', async () => {
    const rendered = Number(await page.locator('body').getAttribute('data-rendered'));
    await feeder.register('pi-03');
    // its own job: ingest stores results only for a job that targets their sender
    job3 = await submitJob(store, ['pi-03'], { models: [{ name: recs.md.name }], variants: [...FIXTURE_VARIANTS], probes: ['benchmark'] }, { timeoutS: 600, maxAttempts: 1 });
    await feeder.results('pi-03', job3, recs.benchmarkSecondDevice);
    await feeder.progress('pi-02', jobId, 'running', 7, 12, 'attention running');
    await page.waitForSelector('#fleet tr[data-device="pi-03"]', { timeout: 5000 });
    await page.waitForFunction(() => document.querySelector('#jobs tr[data-device="pi-02"] progress')?.getAttribute('value') === '7', undefined, { timeout: 5000 });
    assert.ok(await page.locator('#matrix td[data-device="pi-03"]').count() >= 1);
    assert.ok(Number(await page.locator('body').getAttribute('data-rendered')) > rendered, 're-rendered in place');
    await page.locator('#fleet').screenshot({ path: join(ARTIFACTS, 'dashboard-live-update.png') });
    // a staged rollout: the live page's rollout table (its own call, /api/rollouts)
    const rolled = await submitJob(store, ['pi-03'], { models: [{ name: recs.md.name }], variants: ['fp32'], probes: ['benchmark'] }, { timeoutS: 600, maxAttempts: 1, rollout: { firstWave: 1, waveSize: 1, intervalS: 30, maxFailureRate: 0.2 } });
    await page.reload();
    const row = page.locator(`#rollouts tr[data-rollout="${rolled}"]`);
    await row.waitFor({ timeout: 10_000 });
    assert.deepEqual(await row.locator('td').allInnerTexts().then((t) => t.slice(1, 7)),
      [`${recs.md.name} · fp32 · benchmark`, 'running', '0/1', 'first 1, then 1 every 30 s; abort above 20% failures', '0 of 1 devices', '–']);
  });

  test('the device table is paged and filtered by the server; a change to a device off the page refetches only the summary and the jobs', async () => {
    await page.fill('#fleet input[name="q"]', 'pi-02');
    await page.press('#fleet input[name="q"]', 'Enter');
    await page.waitForFunction(() => /of 1 /.test(document.querySelector('#fleet [data-page-info]')?.textContent ?? ''), undefined, { timeout: 5000 });
    assert.deepEqual(await page.locator('#fleet tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-device'))), ['pi-02']);
    assert.match(await page.locator('#fleet').innerText(), /3 registered device\(s\)/, 'the counts are the fleet\'s, not the page\'s');
    assert.equal(await page.locator('#matrix td[data-device="pi-01"]').count(), 0, 'the views draw the page\'s devices');
    const asked: string[] = [];
    page.on('request', (r) => { const u = new URL(r.url()); if (u.pathname.startsWith('/api/')) asked.push(u.pathname); });
    await feeder.progress('pi-03', job3, 'running', 1, 5, 'benchmark running');
    await page.waitForSelector('body[data-last-change="pi-03"]', { timeout: 5000 });
    // job3's own row: pi-03 also has the newer rollout job of the test before
    await page.waitForFunction((j) => document.querySelector(`#jobs tr[data-job="${j}"][data-device="pi-03"] progress`)?.getAttribute('value') === '1', job3, { timeout: 5000 });
    assert.ok(asked.includes('/api/summary') && asked.includes('/api/jobs'), asked.join(' '));
    assert.ok(!asked.includes('/api/data'), `pi-03 is not on the page: no page refetch (${asked.join(' ')})`);
    await page.fill('#fleet input[name="q"]', '');
    await page.press('#fleet input[name="q"]', 'Enter');
    await page.waitForSelector('#fleet tr[data-device="pi-01"]', { timeout: 5000 });
  });

  test('beyond loopback a token is required: refused without, served with it (header or login cookie)', async () => {
    const open = await startDashboardServer({ store, host: '0.0.0.0', port: 0 });
    try {
      assert.ok(open.policy.generated && open.policy.token && open.policy.token.length >= 16, 'a token is generated for a non-loopback bind');
      const base = `http://127.0.0.1:${new URL(open.url).port}`;
      assert.equal((await fetch(`${base}/api/data`)).status, 401);
      assert.equal((await fetch(`${base}/`)).status, 401);
      assert.equal((await fetch(`${base}/api/events`)).status, 401);
      assert.equal((await fetch(`${base}/api/data`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status, 401);
      assert.equal((await fetch(`${base}/api/data`, { headers: { authorization: `Bearer ${open.policy.token}` } })).status, 200);
      const p = await browser.newPage();
      const denied = await p.goto(`${base}/`);
      assert.equal(denied?.status(), 401);
      await p.goto(`${base}/login?token=${encodeURIComponent(open.policy.token!)}`);
      await p.waitForSelector('#fleet tr[data-device="pi-01"]');
      assert.equal(new URL(p.url()).search, '', 'the token leaves the address bar');
      await p.close();
    } finally {
      await open.close();
    }
  });

  test('the static HTML report opens from file:// with the network off and shows the same figures', async () => {
    const baked = await bakeAttentionMaps(maps, recs.md.name, FIXTURE_VARIANTS, (recs.attention[0].data as { layers: number }).layers, 'The cat sat on the mat.');
    // monitoring baked from a store with a planted latency step (7 runs, +30% from the 6th), as `report --html` bakes it
    const mon = new SqliteStore(join(dir, 'monitoring.sqlite'));
    const rng = new SeededRandom(5);
    mon.ingestResults([0.01, -0.01, 0.02, -0.015, 0.005, -0.02, 0.015].map((e, i) => {
      const r = syntheticBenchmarkRecord(rng, 'tiny', 'fp32', 1);
      (r.data as BenchmarkData).latencyMs.p50 = 20 * Math.exp(e) * (i >= 5 ? 1.3 : 1);
      return { messageId: `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`, deviceId: 'planted-1', seq: i, sentAt: r.createdAt, jobId: `planted-${i}`, recordKey: 'k0', record: { ...r, createdAt: new Date(Date.UTC(2026, 10, 1, i)).toISOString() } };
    }), Date.now());
    await new Monitor(mon, undefined, {}).evaluate(Date.now());
    const monitoring = await bakeMonitoring(mon, []);
    // a rollout whose canary failed, as `report --html` bakes the rollout table
    const ro = new DeviceFeeder(mon);
    for (const d of ['canary', 'fleet-1']) await ro.register(d);
    const aborted = await submitJob(mon, ['canary', 'fleet-1'], { models: [{ name: 'tiny' }], variants: ['fp32'], probes: ['benchmark'] }, { timeoutS: 600, maxAttempts: 1, rollout: { firstWave: 1, waveSize: 1, intervalS: 0, maxFailureRate: 0 } });
    await mon.claimDispatches(Date.now());
    await ro.progress('canary', aborted, 'failed', 0, 1, 'model sha256 mismatch');
    await new RolloutStore(mon.sql()).advance(Date.now());
    const rollouts = await rolloutTable(mon.sql());
    mon.close();
    const html = renderHtmlReport({ ...buildDashboardData(store.results(), store.devices(), store.jobTargets(), { baked }), monitoring, rollouts });
    const file = join(dir, 'report.html');
    writeFileSync(file, html);
    const p = await browser.newPage();
    await browser.setOffline(true);
    const requests: string[] = [];
    p.on('request', (r) => { if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url()); });
    const errors: string[] = [];
    p.on('pageerror', (e) => errors.push(e.message));
    await p.goto(`file://${file}`);
    await p.waitForSelector('body[data-rendered]');
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, [], 'no network request');
    for (const v of FIXTURE_VARIANTS.filter((x) => x !== 'fp32')) {
      assert.equal(await p.locator(`table.verdicts tr[data-variant="${v}"] [data-verdict]`).first().getAttribute('data-verdict'), attentionStatus(v));
    }
    for (const d of ['pi-01', 'pi-02', 'pi-03']) assert.equal(await p.locator(`#fleet tr[data-device="${d}"]`).count(), 1);
    // the baked monitoring: the open alert and its series' timeline, the regression's run named
    await p.waitForSelector('#monitoring [data-view="timeline"][data-runs]');
    assert.equal(await p.locator('#monitoring [data-view="timeline"]').getAttribute('data-runs'), '7');
    assert.equal(await p.locator('#monitoring [data-view="alerts"] tr[data-alert]').count(), 1);
    assert.match(await p.locator('#monitoring [data-view="alerts"] tr[data-alert]').innerText(), /planted-4 → planted-5/);
    assert.equal(await p.locator('#monitoring li[data-regression="planted-5"]').count(), 1);
    assert.equal(await p.locator('#monitoring figure.chart canvas').count(), 1, 'the p50 timeline is drawn');
    // the baked rollout table: aborted in its first wave, the reason shown
    assert.deepEqual(await p.locator(`#rollouts tr[data-rollout="${aborted}"] td`).allInnerTexts().then((t) => t.slice(1, 7)),
      ['tiny · fp32 · benchmark', 'aborted', '1/2', 'first 1, then 1 every 0 s; abort above 0% failures', '1 of 2 devices', 'wave 1 of 2: 1 of 1 devices failed (100%, limit 0%)']);
    // every other chart is the same as on the live page
    const charts = 'section:not(#monitoring) figure.chart canvas';
    assert.equal(await p.locator(charts).count(), await page.locator(charts).count(), 'same charts as the live page');
    assert.ok(await p.locator('table[data-heat="map-variant"] tbody td').count() > 0, 'baked heat maps');
    assert.match(await p.locator('#status').innerText(), /static report/);
    await p.screenshot({ path: join(ARTIFACTS, 'report-full.png'), fullPage: true });
    await p.locator('#maps').screenshot({ path: join(ARTIFACTS, 'report-maps.png') });
    await browser.setOffline(false);
    await p.close();
  });

  test('the properties view lays out real properties-probe records like the paper\'s table', async () => {
    const props = await runRealProperties(recs.md, dir);
    const sample = props.map((record, i) => ({ messageId: `props-${i}`, deviceId: 'pi-01', seq: 1000 + i, sentAt: '', jobId, recordKey: `p${i}`, receivedAt: '', record }));
    const file = join(dir, 'properties.html');
    writeFileSync(file, renderHtmlReport(buildDashboardData([...store.results(), ...sample], store.devices(), store.jobTargets())));
    const p = await browser.newPage();
    await p.goto(`file://${file}`);
    await p.waitForSelector('body[data-rendered]');
    const header = await p.locator('#properties table.paper-table thead th').allInnerTexts();
    assert.deepEqual(header.slice(5, 15), ['Sys', 'Prior', 'Prior-freq', 'Upper', 'Shuffle', 'Shuf-Upper', 'Rand', 'Rand-marg', 'Cat-shuffle', 'Cat-destroyed']);
    assert.deepEqual(await p.locator('#properties table.paper-table tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-norms'))), ['test-features', 'test-ratings']);
    assert.equal(await p.locator('#properties figure.chart').count(), 2);
    // a random-weight model has no semantics to find, so the verdict is whatever the real run found; the cell shows it
    const status = props.every((r) => r.verdict.status === 'passes-controls') ? 'passes controls' : 'fails controls';
    assert.equal(await p.locator('table.verdicts tr[data-variant="fp32"] td').nth(4).innerText(), status);
    await p.locator('#properties').screenshot({ path: join(ARTIFACTS, 'dashboard-properties.png') });
    await p.close();
  });
});
