/**
 * Alerts from stored runs, on both store engines: a planted latency step and a planted weight change that
 * flips a verdict raise exactly one alert each, an unchanged device none; evaluating again adds no
 * duplicate; acknowledge; deliveries over MQTT (retained) and a webhook with retries and the dead letter.
 * Staged rollouts on the same stores (coordinator/rollouts): waves, the failure and regression limits.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SeededRandom } from '../core/numeric/seeded-random.ts';
import type { ProbeRecord } from '../core/results/probe-record.ts';
import type { BenchmarkData } from '../probes/benchmark/schema.ts';
import { syntheticBenchmarkRecord } from '../sim/synthetic-record.ts';
import { PostgresStore } from '../coordinator/store/postgres-store.ts';
import { SqliteStore } from '../coordinator/store/sqlite-store.ts';
import type { FleetStore, ResultRow } from '../coordinator/store/store.ts';
import { Monitor } from '../coordinator/monitoring/monitor.ts';
import { deliverDue } from '../coordinator/monitoring/alert-delivery.ts';
import { needsPostgres, Postgres } from '../harness/postgres.ts';
import { startDashboardServer } from '../coordinator/dashboard/server.ts';
import type { Timeline } from '../coordinator/monitoring/timeline.ts';
import { submitJob } from '../coordinator/submit-job.ts';
import { RolloutStore } from '../coordinator/rollouts/rollouts.ts';
import { rolloutTable } from '../coordinator/rollouts/rollout-view.ts';
import { readCurrentRecords, syncRecordView } from '../coordinator/report/record-view.ts';
import { bakeMonitoring, renderMonitoringText } from '../coordinator/monitoring/monitoring-summary.ts';
import { buildFleetReport } from '../coordinator/report/fleet-report.ts';
import { rowKey } from '../coordinator/report/probe-records.ts';
import { dashboardPage, devicePage, fleetSummary, parsePageQuery } from '../coordinator/dashboard/dashboard-views.ts';
import { changedSince } from '../coordinator/dashboard/live-changes.ts';

const tmp = mkdtempSync(join(tmpdir(), 'edgeprobe-alerts-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const NOISE = [0.01, -0.01, 0.02, -0.015, 0.005, -0.02, 0.015, 0, -0.005, 0.01];
const SW = { edgeprobe: '0.1.0', onnxruntime: '1.30.0', node: 'v20.19.0', os: 'Debian GNU/Linux 12 (bookworm)', kernel: '6.6.51', arch: 'arm64' };
let messages = 0;

/** 10 runs of one device: `step` multiplies p50 from run 6 on; `swap` changes the variant's weights from run 6 on. */
function runs(deviceId: string, opts: { step?: number; swap?: boolean }): ResultRow[] {
  const rng = new SeededRandom(deviceId.length);
  return NOISE.map((e, i) => {
    const r: ProbeRecord = syntheticBenchmarkRecord(rng, 'bert', 'int8-dynamic', 1);
    const d = r.data as BenchmarkData;
    d.latencyMs.p50 = 20 * Math.exp(e) * (i >= 5 && opts.step ? opts.step : 1);
    const later = i >= 5 && opts.swap;
    const record = { ...r, createdAt: new Date(Date.UTC(2026, 10, 1, i)).toISOString(), software: SW, variant: { name: 'int8-dynamic', sha256: (later ? 'c' : '8').repeat(64) }, verdict: later ? { status: 'invalid' as const, summary: 'invalid: planted' } : r.verdict };
    const messageId = `00000000-0000-4000-8000-${String(++messages).padStart(12, '0')}`;
    return { messageId, deviceId, seq: i, sentAt: record.createdAt, jobId: `sched-${i}`, recordKey: 'k0', record };
  });
}

function alertSuite(engine: string, open: () => Promise<FleetStore>, skip: string | false): void {
  describe(`alerts (${engine})`, { skip }, () => {
    let store: FleetStore;
    before(async () => { store = await open(); });
    after(async () => { await store?.close(); });

    test('a planted step and a planted weight change raise one alert each; an unchanged device none; no duplicates', async () => {
      await store.ingestResults([...runs('slow-1', { step: 1.3 }), ...runs('swap-1', { swap: true }), ...runs('steady-1', {})], 1000);
      const published: Array<{ topic: string; payload: string; retain: boolean }> = [];
      const monitor = new Monitor(store, undefined, {});
      const raised = await monitor.evaluate(2000);
      const summary = raised.map((a) => [a.regression.deviceId, a.regression.kind, a.regression.before.jobId, a.regression.after.jobId]).sort();
      assert.deepEqual(summary, [['slow-1', 'latency-change', 'sched-4', 'sched-5'], ['swap-1', 'verdict-flip', 'sched-4', 'sched-5']]);
      const swap = raised.find((a) => a.regression.deviceId === 'swap-1')!;
      assert.deepEqual(swap.regression.changed, ['variant weights sha256 888888888888 -> cccccccccccc']);
      assert.deepEqual(await monitor.evaluate(3000), [], 'the same open regressions are not raised again');
      assert.equal((await monitor.alerts.list()).length, 2);

      await deliverDue(monitor.alerts, async (topic, payload, o) => { published.push({ topic, payload, retain: o.retain }); }, { maxAttempts: 3, backoffMs: 10, webhookTimeoutMs: 1000 }, 4000);
      assert.deepEqual(published.map((p) => [p.topic, p.retain]).sort(), raised.map((a) => [`edgeprobe/v1/alerts/${a.regression.deviceId}/${a.id}`, true]).sort());
      assert.equal(JSON.parse(published[0].payload).state, 'open');

      assert.equal(await monitor.alerts.acknowledge(swap.id, 'ops@example', 5000), true);
      assert.equal(await monitor.alerts.acknowledge(swap.id, 'ops@example', 5000), false, 'already acknowledged');
      assert.equal((await monitor.alerts.list({ state: 'open' })).length, 1);
      published.length = 0;
      await deliverDue(monitor.alerts, async (topic, payload, o) => { published.push({ topic, payload, retain: o.retain }); }, { maxAttempts: 3, backoffMs: 10, webhookTimeoutMs: 1000 }, 6000);
      assert.equal(published.length, 1, 'the acknowledgement is re-announced on the retained topic');
      assert.equal(JSON.parse(published[0].payload).state, 'acknowledged');
      assert.deepEqual(await monitor.evaluate(7000), [], 'an acknowledged regression is not raised again either');
    });

    test('a device that leaves its jobs\' consistency band: one alert, found job by job', async () => {
      const rng = new SeededRandom(11);
      const base = Array.from({ length: 16 }, () => Array.from({ length: 32 }, () => rng.normal()));
      const rows: ResultRow[] = [];
      for (const [j, job] of ['band-0', 'band-1', 'band-2'].entries()) {
        for (const d of ['band-a', 'band-b', 'band-c', 'band-d']) {
          const r = syntheticBenchmarkRecord(rng, 'tiny', 'fp32', 1);
          const off = d === 'band-d' && j === 2 ? 0.1 : 1e-7;
          (r.data as BenchmarkData).fingerprint.vectors = base.map((row) => row.map((x) => x * (1 + off * rng.normal())));
          rows.push({ messageId: `00000000-0000-4000-8000-${String(++messages).padStart(12, '0')}`, deviceId: d, seq: j, sentAt: r.createdAt, jobId: job, recordKey: 'k0', record: { ...r, createdAt: new Date(Date.UTC(2026, 10, 2, j)).toISOString() } });
        }
      }
      await store.ingestResults(rows, 8000);
      const raised = await new Monitor(store, undefined, {}).evaluate(9000);
      const band = raised.filter((a) => a.regression.kind === 'left-consistency-band');
      assert.deepEqual(band.map((a) => [a.regression.deviceId, a.regression.before.jobId, a.regression.after.jobId]), [['band-d', 'band-1', 'band-2']]);
    });

    test('the dashboard API: one series\' timeline in a window with its regression and alert; pages of alerts', async () => {
      const server = await startDashboardServer({ store, host: '127.0.0.1', port: 0 });
      const get = async (path: string) => { const r = await fetch(`${server.url.replace(/\/$/, '')}${path}`); return { status: r.status, body: await r.json() as Record<string, unknown> }; };
      try {
        const t = (await get('/api/timeline?device=slow-1&model=bert&variant=int8-dynamic')).body as unknown as Timeline;
        assert.equal(t.runs.length, 10);
        assert.ok(t.runs[9].figures.p50Ms > 20 * 1.25 && t.runs[0].software?.kernel === '6.6.51');
        assert.deepEqual(t.regressions.map((r) => [r.kind, r.after.jobId]), [['latency-change', 'sched-5']]);
        assert.deepEqual(t.alerts.map((a) => a.regression.after.jobId), ['sched-5']);
        assert.equal(JSON.stringify(t).includes('"vectors"'), false, 'no fingerprints on the timeline');
        // records were received at 1000 ms; a window after that is empty, one around it is not
        assert.equal(((await get('/api/timeline?device=slow-1&model=bert&variant=int8-dynamic&since=1970-01-01T00:00:02Z')).body as unknown as Timeline).runs.length, 0);
        assert.equal(((await get('/api/timeline?device=slow-1&model=bert&variant=int8-dynamic&until=1970-01-01T00:00:02Z&limit=3')).body as unknown as Timeline).runs.length, 3);
        assert.equal((await get('/api/timeline?device=slow-1')).status, 400);
        const page = (await get('/api/alerts?state=open&limit=1')).body as { alerts: unknown[]; open: number };
        assert.deepEqual([page.alerts.length, page.open], [1, 2], "slow-1 and band-d are open, swap-1 acknowledged");
        assert.equal(((await get('/api/alerts?limit=1&offset=1')).body as { alerts: unknown[] }).alerts.length, 1);
      } finally {
        await server.close();
      }
    });

    test('webhook: retried with back-off until it answers; out of attempts it is the dead letter with its last error', async () => {
      let calls = 0;
      const bodies: string[] = [];
      const failFirst = 2;
      const server: Server = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => { body += c; });
        req.on('end', () => {
          calls++;
          bodies.push(body);
          res.statusCode = req.url === '/broken' || calls <= failFirst ? 500 : 200;
          res.end();
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      try {
        await store.ingestResults(runs('hook-1', { step: 1.5 }), 10_000);
        const good = new Monitor(store, undefined, { webhookUrl: `${base}/hook`, maxAttempts: 4, backoffMs: 100 });
        const [alert] = await good.evaluate(10_000);
        assert.equal(alert.regression.deviceId, 'hook-1');
        const publish = async () => undefined;
        const o = { webhookUrl: `${base}/hook`, maxAttempts: 4, backoffMs: 100, webhookTimeoutMs: 2000 };
        await deliverDue(good.alerts, publish, o, 10_000); // webhook attempt 1 fails (500); retry at +100 ms
        await deliverDue(good.alerts, publish, o, 10_050); // not yet due
        assert.equal(calls, 1);
        await deliverDue(good.alerts, publish, o, 10_100); // attempt 2 fails; retry at +200 ms
        await deliverDue(good.alerts, publish, o, 10_300); // attempt 3 answers 200
        const hook = (await good.alerts.deliveries(alert.id)).find((d) => d.channel === 'webhook')!;
        assert.deepEqual([hook.state, hook.attempts, calls], ['delivered', 3, 3]);
        assert.equal(JSON.parse(bodies[2]).alertId, alert.id);

        await store.ingestResults(runs('dead-1', { step: 1.5 }), 20_000);
        const dead = new Monitor(store, undefined, { webhookUrl: `${base}/broken`, maxAttempts: 2, backoffMs: 100 });
        const fresh = await dead.evaluate(20_000);
        assert.deepEqual(fresh.map((a) => a.regression.deviceId), ['dead-1']);
        const ob = { webhookUrl: `${base}/broken`, maxAttempts: 2, backoffMs: 100, webhookTimeoutMs: 2000 };
        await deliverDue(dead.alerts, publish, ob, 20_000);
        await deliverDue(dead.alerts, publish, ob, 20_100);
        await deliverDue(dead.alerts, publish, ob, 99_000);
        const letter = (await dead.alerts.deliveries(fresh[0].id)).find((d) => d.channel === 'webhook')!;
        assert.deepEqual([letter.state, letter.attempts], ['dead', 2]);
        assert.match(letter.lastError ?? '', /HTTP 500/);
      } finally {
        await new Promise((r) => server.close(r));
      }
    });

    test('the text report\'s monitoring part: the open alerts with their runs, p50 per run with the regression\'s run starred', async () => {
      const text = renderMonitoringText(await bakeMonitoring(store, []));
      assert.match(text, /^Monitoring: \d+ open alerts?/);
      assert.match(text, /slow-1 · bert · int8-dynamic: latency-change sched-4 -> sched-5: p50 /);
      // slow-1's ten runs, +30% from the sixth: the sixth is starred (p50 = 20 e^0.02... x 1.3, hand-checked: 20 x e^-0.02 x 1.3 = 25.49)
      assert.match(text, /slow-1 · bert · int8-dynamic \(10 runs\): 20\.20 19\.80 20\.40 19\.70 20\.10 \*25\.49 /);
    });

    test('the record view (report, /api/data, HTML export) gives what reading every result gives, incrementally, with unreadable and invalid rows counted', async () => {
      const mystery = { ...runs('view-1', {})[0], messageId: '00000000-0000-4000-8000-900000000001', recordKey: 'k9' };
      mystery.record = { ...mystery.record, probe: 'mystery' as never };
      await store.ingestResults([mystery, ...runs('view-1', { swap: true }).slice(0, 7)], 30_000);
      const same = async () => {
        const all = await store.results();
        const view = await readCurrentRecords(store.sql());
        assert.deepEqual(buildFleetReport(view.results, await store.devices(), undefined, view.read), buildFleetReport(all, await store.devices()));
        assert.equal(view.stored, all.length);
        return view;
      };
      const first = await same();
      const row = first.read.counts.get(rowKey('view-1', 'bert', 'int8-dynamic'))!;
      assert.deepEqual(row, { records: 8, invalid: 2, unreadable: 1 }, 'runs 6 and 7 of the swap are invalid; the mystery probe unreadable');
      assert.ok(first.results.length < (await store.results()).length / 5, 'only the current records are read');
      // more runs after the view was brought up to date: only they are indexed
      assert.equal(await syncRecordView(store.sql()), 0, 'the read above brought it up to date');
      await store.ingestResults(runs('view-2', { step: 1.3 }), 31_000);
      assert.equal(await syncRecordView(store.sql()), 10, 'only the new runs are indexed');
      const [{ n }] = await store.sql().all<{ n: number }>('SELECT COUNT(*) AS n FROM results');
      const second = await same();
      assert.equal(second.stored, Number(n));
    });

    test('views that scale: a sorted, filtered device page; that page\'s report rows as from every result; the fleet\'s verdict counts in SQL; a change names its devices', async () => {
      const T = Date.UTC(2026, 11, 1);
      const ids = ['view-1', 'view-2', 'view_x', 'view%y'];
      for (const [i, d] of ids.entries()) await store.registerDevice(d, { profile: PROFILE, allowed: { models: [], probes: ['benchmark'] } }, 'allow-list', T + i * 1000);
      await store.setOnline('view_x', false, T + 9000);
      const sql = store.sql();
      const page = async (q: Record<string, string>) => {
        const p = parsePageQuery(q);
        assert.ok(typeof p !== 'string', String(p));
        return devicePage(sql, p);
      };
      // LIKE wildcards in the filter are literal: '_' matches only view_x, '%' only view%y
      assert.deepEqual((await page({ q: 'view_' })).devices.map((d) => d.deviceId), ['view_x']);
      assert.deepEqual((await page({ q: 'view%' })).devices.map((d) => d.deviceId), ['view%y']);
      const all = await page({ q: 'view', limit: '2', sort: 'lastSeen', order: 'desc' });
      // view_x was seen last (setOnline at T+9000), then view%y (T+3000)
      assert.equal(all.total, 4);
      assert.deepEqual(all.devices.map((d) => d.deviceId), ['view_x', 'view%y']);
      assert.deepEqual((await page({ q: 'view', limit: '2', offset: '2', sort: 'lastSeen', order: 'desc' })).devices.map((d) => d.deviceId), ['view-2', 'view-1']);
      assert.deepEqual((await page({ q: 'view', online: 'false' })).devices.map((d) => d.deviceId), ['view_x']);
      assert.match(String(parsePageQuery({ limit: '5000' })), /limit is 1\.\.200/);
      assert.match(String(parsePageQuery({ sort: 'profile' })), /sort is one of/);
      // the page's rows are what the report of every result gives for those devices
      const p = parsePageQuery({ q: 'view-1' });
      assert.ok(typeof p !== 'string');
      const data = await dashboardPage(sql, p);
      const every = buildFleetReport(await store.results(), await store.devices());
      assert.deepEqual(data.report.rows, every.rows.filter((r) => r.deviceId === 'view-1'));
      assert.deepEqual(data.devices.map((d) => d.deviceId), ['view-1']);
      // the summary's verdict counts, derived here from every stored result: the last record per device x model x variant x probe
      const latest = new Map<string, { deviceId: string; model: string; variant: string; probe: string; status: string }>();
      for (const r of await store.results()) {
        if (r.record.probe === ('mystery' as never)) continue; // unreadable: never current
        latest.set(JSON.stringify([r.deviceId, r.record.model.name, r.record.variant.name, r.record.probe]), { deviceId: r.deviceId, model: r.record.model.name, variant: r.record.variant.name, probe: r.record.probe, status: r.record.verdict.status });
      }
      const expected = new Map<string, Record<string, number>>();
      for (const l of latest.values()) {
        const k = `${l.model} ${l.variant} ${l.probe}`;
        const c = expected.get(k) ?? {};
        c[l.status] = (c[l.status] ?? 0) + 1;
        expected.set(k, c);
      }
      const summary = await fleetSummary(sql);
      assert.deepEqual(new Map(summary.verdicts.map((v) => [`${v.model} ${v.variant} ${v.probe}`, v.byStatus])), expected);
      assert.equal(summary.devices, (await store.devices()).length);
      const int8 = summary.verdicts.find((v) => v.variant === 'int8-dynamic' && v.probe === 'benchmark')!;
      assert.equal(int8.worst.status, 'invalid', 'view-1\'s current run is the planted invalid one');
      assert.equal(int8.worst.summary, 'invalid: planted');
      // a live event names the devices whose results arrived since the last one
      const before = await store.dataVersion();
      await store.ingestResults(runs('view-3', {}).slice(0, 2), 40_000);
      const changed = await changedSince(sql, before, await store.dataVersion());
      assert.deepEqual(changed.devices, ['view-3']);
    });

    test('a staged rollout: waves wait for the interval and the previous wave; a wave above its failure limit aborts and later waves are never sent; the regression limit; a healthy rollout completes', async () => {
      // submitJob stamps the rollout with the wall clock: the rounds below are that clock plus seconds
      let T = Date.now();
      const ids = ['ro-1', 'ro-2', 'ro-3', 'ro-4', 'ro-5'];
      for (const d of ids) {
        await store.registerDevice(d, { profile: PROFILE, allowed: { models: [], probes: ['benchmark'] } }, 'allow-list', T);
        await store.setOnline(d, true, T);
      }
      const plan = { models: [{ name: 'bert' }], variants: ['fp32' as const], probes: ['benchmark' as const] };
      const progress = async (job: string, d: string, state: 'completed' | 'failed', at: number) => store.recordProgress(d, ++progressSeq, { jobId: job, attempt: 1, state, done: 1, total: 1 }, at);
      const sent = async (at: number) => (await store.claimDispatches(at)).map((x) => x.deviceId).sort();
      // 1 canary, then waves of 50% of 5 = 3: [ro-1] [ro-2 ro-3 ro-4] [ro-5]; any wave above 50% failures aborts
      const job = await submitJob(store, ids, plan, { timeoutS: 60, maxAttempts: 1, rollout: { firstWave: 1, waveSize: '50%', intervalS: 10, maxFailureRate: 0.5 } });
      T = Date.now();
      const rollouts = new RolloutStore(store.sql());
      assert.deepEqual((await store.jobTargets(job)).map((t) => [t.wave, t.state]), [[0, 'queued'], [1, 'held'], [1, 'held'], [1, 'held'], [2, 'held']]);
      assert.deepEqual(await sent(T), ['ro-1']);
      assert.deepEqual(await rollouts.advance(T + 1), [], 'the canary is still running');
      await progress(job, 'ro-1', 'completed', T + 2000);
      assert.deepEqual(await rollouts.advance(T + 5000), [], 'the interval (10 s from the wave\'s start) has not passed');
      // a restarted coordinator reads everything from the store: a new instance carries on
      const released = await new RolloutStore(store.sql()).advance(T + 10_000);
      assert.deepEqual(released.map((e) => [e.action, e.wave]), [['released', 1]]);
      assert.deepEqual(await sent(T + 10_000), ['ro-2', 'ro-3', 'ro-4']);
      await progress(job, 'ro-2', 'failed', T + 11_000);
      assert.deepEqual(await rollouts.advance(T + 11_500), [], '1 of 3 failed: 33% is within the limit');
      await progress(job, 'ro-3', 'failed', T + 12_000);
      // 2 of 3 failed can only grow: aborted at once, before ro-4 finishes
      const aborted = await rollouts.advance(T + 12_500);
      assert.deepEqual(aborted.map((e) => [e.action, e.detail]), [['aborted', 'wave 2 of 3: 2 of 3 devices failed (66.7%, limit 50%)']]);
      assert.deepEqual(await rollouts.advance(T + 60_000), [], 'aborted once');
      const ro5 = (await store.jobTargets(job)).find((t) => t.deviceId === 'ro-5')!;
      assert.deepEqual([ro5.state, ro5.attempt, ro5.detail], ['cancelled', 0, 'rollout aborted: wave 2 of 3: 2 of 3 devices failed (66.7%, limit 50%)']);
      assert.deepEqual(await sent(T + 60_000), [], 'the last wave is never sent');
      const [r] = await rollouts.list(job);
      assert.deepEqual([r.state, r.wave, r.waves], ['aborted', 1, 3]);
      await progress(job, 'ro-4', 'completed', T + 61_000);

      // the regression limit: the canary completed but raised an alert on this job
      const job2 = await submitJob(store, ['ro-1', 'ro-2'], plan, { timeoutS: 60, maxAttempts: 1, rollout: { firstWave: 1, waveSize: 1, intervalS: 0, maxFailureRate: 1, maxRegressionRate: 0 } });
      assert.deepEqual(await sent(T + 70_000), ['ro-1']);
      await progress(job2, 'ro-1', 'completed', T + 71_000);
      await store.sql().run(`INSERT INTO alerts (alert_key, kind, device_id, model_name, variant_name, metric, before_job, after_job, regression, state, created_ms)
        VALUES (?, 'latency-change', 'ro-1', 'bert', 'fp32', 'p50', 'earlier', ?, '{}', 'open', ?)`, [`k-${job2}`, job2, T + 71_500]);
      assert.deepEqual((await rollouts.advance(T + 72_000)).map((e) => [e.action, e.detail]), [['aborted', 'wave 1 of 2: 1 of 1 devices regressed (100%, limit 0%)']]);

      // healthy: both waves complete
      const job3 = await submitJob(store, ['ro-2', 'ro-3'], plan, { timeoutS: 60, maxAttempts: 1, rollout: { firstWave: 1, waveSize: 1, intervalS: 0, maxFailureRate: 0 } });
      assert.deepEqual(await sent(T + 80_000), ['ro-2']);
      await progress(job3, 'ro-2', 'completed', T + 81_000);
      assert.deepEqual((await rollouts.advance(T + 82_000)).map((e) => e.action), ['released']);
      assert.deepEqual(await sent(T + 82_000), ['ro-3']);
      await progress(job3, 'ro-3', 'completed', T + 83_000);
      assert.deepEqual((await rollouts.advance(T + 84_000)).map((e) => [e.action, e.detail]), [['completed', '2 wave(s) done']]);
      assert.deepEqual((await rollouts.list()).map((x) => x.state).sort(), ['aborted', 'aborted', 'completed']);
      // the dashboard's and the HTML export's rollout table, newest change first: waves whose devices all finished, failures, why it stopped
      assert.deepEqual((await rolloutTable(store.sql())).map((x) => [x.jobId, x.plan, x.state, `${x.wavesDone}/${x.waves}`, x.rate, `${x.failures}/${x.devices}`, x.detail]), [
        [job3, 'bert · fp32 · benchmark', 'completed', '2/2', 'first 1, then 1 every 0 s; abort above 0% failures', '0/2', '2 wave(s) done'],
        [job2, 'bert · fp32 · benchmark', 'aborted', '1/2', 'first 1, then 1 every 0 s; abort above 100% failures or 0% regressions', '0/2', 'wave 1 of 2: 1 of 1 devices regressed (100%, limit 0%)'],
        [job, 'bert · fp32 · benchmark', 'aborted', '2/3', 'first 1, then 50% every 10 s; abort above 50% failures', '2/5', 'wave 2 of 3: 2 of 3 devices failed (66.7%, limit 50%)'],
      ]);
    });
  });
}

const PROFILE = { hostname: 'h', platform: 'linux', arch: 'arm64', cpuModel: 'c', cores: 4, memoryBytes: 1, nodeVersion: 'v20', agentVersion: '0.1.0' };
let progressSeq = 0;

alertSuite('sqlite', async () => new SqliteStore(join(tmp, 'alerts.sqlite')), false);
let pgServer: Postgres | undefined;
after(async () => { await pgServer?.dispose(); });
alertSuite('postgres', async () => {
  pgServer = await Postgres.start();
  return PostgresStore.open(await pgServer.createdb('alerts'));
}, needsPostgres);
