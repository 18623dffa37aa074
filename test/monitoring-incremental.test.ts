/**
 * The regression monitor reads incrementally: the consistency-band scan only the records stored since
 * its last scan of each job (band-scan.ts JobSeriesCache), the series history each record once
 * (series-query.ts SeriesHistory). On planted data, evaluation after evaluation, both must give exactly
 * what a full re-read gives: the same regressions, band state and series, including when a row with a
 * lower id than the last one read turns up later (PostgreSQL replicas commit ids out of order).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SeededRandom } from '../core/numeric/seeded-random.ts';
import type { ProbeRecord } from '../core/results/probe-record.ts';
import type { BenchmarkData } from '../probes/benchmark/schema.ts';
import { syntheticBenchmarkRecord } from '../sim/synthetic-record.ts';
import { SqliteStore } from '../coordinator/store/sqlite-store.ts';
import type { ResultRow } from '../coordinator/store/store.ts';
import { bandExits, JobSeriesCache, type BandState } from '../coordinator/monitoring/band-scan.ts';
import { buildSeries, SeriesBuilder, type Series } from '../coordinator/monitoring/series.ts';
import { SeriesHistory, seriesRecords } from '../coordinator/monitoring/series-query.ts';

const tmp = mkdtempSync(join(tmpdir(), 'edgeprobe-band-scan-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const rng = new SeededRandom(7);
const BASE = Array.from({ length: 16 }, () => Array.from({ length: 32 }, () => rng.normal()));
let messages = 0;

/** One benchmark record of `device` in `job`: fingerprint BASE with relative noise `off`, at hour `hour`. */
function row(job: string, device: string, off: number, hour: number, batch = 1): ResultRow {
  const r = syntheticBenchmarkRecord(rng, 'tiny', 'fp32', batch);
  (r.data as BenchmarkData).fingerprint.vectors = BASE.map((v) => v.map((x) => x * (1 + off * rng.normal())));
  const record: ProbeRecord = { ...r, createdAt: new Date(Date.UTC(2026, 10, 2, hour)).toISOString() };
  return { messageId: `00000000-0000-4000-8000-${String(++messages).padStart(12, '0')}`, deviceId: device, seq: messages, sentAt: record.createdAt, jobId: job, recordKey: `k${messages}`, record };
}

test('the incremental band scan equals a full re-read of each touched job, evaluation after evaluation', async () => {
  const store = new SqliteStore(join(tmp, 'band.sqlite'));
  const sql = store.sql();
  const cache = new JobSeriesCache();
  const full: BandState = new Map();
  const inc: BandState = new Map();
  const reused: BandState = new Map();
  const reuseCache = new JobSeriesCache();
  const history = new SeriesHistory();
  let afterId = 0;
  const evaluate = async (step: string): Promise<number> => {
    const [{ last }] = await sql.all<{ last: number }>('SELECT MAX(id) AS last FROM results');
    const fromFull = await bandExits(sql, afterId, full);
    const fromCache = await bandExits(sql, afterId, inc, undefined, cache);
    assert.deepEqual(fromCache, fromFull, `${step}: the same regressions`);
    assert.deepEqual([...inc], [...full], `${step}: the same band state`);
    // as the monitor runs it: the series history parses the new records and hands them to the band scan
    const parsed = new Map();
    for (const deviceId of 'abcdefgh') await history.newest(sql, { deviceId, model: 'tiny', variant: 'fp32' }, 200, parsed);
    assert.deepEqual(await bandExits(sql, afterId, reused, undefined, reuseCache, parsed), fromFull, `${step}: the same regressions from the history's parse`);
    assert.deepEqual([...reused], [...full], `${step}: the same band state from the history's parse`);
    for (const job of ['j0', 'j1', 'j2']) {
      const all = await sql.all<{ device_id: string; record: string }>(`SELECT device_id, record FROM results WHERE job_id = ? AND probe = 'benchmark' ORDER BY id`, [job]);
      if (all.length) assert.deepEqual(await cache.series(sql, job), buildSeries(all.map((r) => ({ deviceId: r.device_id, jobId: job, record: JSON.parse(r.record) as ProbeRecord }))), `${step}: series of ${job}`);
    }
    afterId = last;
    return fromFull.length;
  };
  const devices = ['a', 'b', 'c', 'd'];
  // j0: everyone in the band; j1 arrives in three parts, with a second (larger-batch) record per device
  // and d's record far off only in j2. Each part is scanned before the next arrives.
  await store.ingestResults(devices.map((d) => row('j0', d, 1e-7, 0)), 1000);
  assert.equal(await evaluate('j0'), 0);
  await store.ingestResults(devices.slice(0, 2).map((d) => row('j1', d, 1e-7, 1)), 2000);
  assert.equal(await evaluate('j1 part 1'), 0);
  await store.ingestResults([...devices.slice(2).map((d) => row('j1', d, 1e-7, 1)), ...devices.map((d) => row('j1', d, 0.5, 1, 8))], 3000);
  assert.equal(await evaluate('j1 part 2'), 0);
  await store.ingestResults(devices.map((d) => row('j2', d, d === 'd' ? 0.1 : 1e-7, 2)), 4000);
  const lastBefore = cache.stats.fullReads;
  assert.equal(await evaluate('j2'), 1, 'd left the band in j2');
  assert.ok(cache.stats.incrementalReads >= 3, 'jobs seen before were read incrementally');

  // a record that commits after the scan read past its id: e joins j2 with a lower id than the last read
  await store.ingestResults([row('j2', 'e', 1e-7, 2), row('j2', 'f', 1e-7, 3)], 5000);
  await evaluate('j2 with e and f');
  const [{ lo }] = await sql.all<{ lo: number }>('SELECT MIN(id) - 1 AS lo FROM results');
  const late = row('j2', 'g', 0.2, 2);
  await store.ingestResults([late], 6000);
  await sql.run('UPDATE results SET id = ? WHERE message_id = ?', [lo, late.messageId]);
  await store.ingestResults([row('j2', 'h', 1e-7, 3)], 7000);
  const fullReads = cache.stats.fullReads;
  await evaluate('j2 with a late row');
  assert.ok(cache.stats.fullReads > fullReads, 'the late row made the cache re-read j2 in full');
  assert.ok(lastBefore >= 1);
  assert.ok(reuseCache.stats.recordsReused > 0 && reuseCache.stats.recordsReused === history.stats.recordsParsed, 'every record the history parsed was not parsed again');
  await store.close();
});

test('the series history parses each record once and gives the series a full read of the newest records gives', async () => {
  const store = new SqliteStore(join(tmp, 'history.sqlite'));
  const sql = store.sql();
  const history = new SeriesHistory();
  const LIMIT = 6; // smaller than the history, so the window slides
  const ids = ['a', 'b'].map((deviceId) => ({ deviceId, model: 'tiny', variant: 'fp32' }));
  // the detectors never read fingerprints (band-scan.ts does): the cached facts leave them out
  const noFingerprints = (series: Series[]): Series[] => series.map((s) => ({ ...s, runs: s.runs.map(({ fingerprint: _f, ...run }) => run) }));
  let stored = 0;
  for (let step = 0; step < 4; step++) {
    const rows: ResultRow[] = [];
    for (const { deviceId } of ids) {
      for (let k = 0; k < 3; k++) {
        const r = row(`h${step}-${k % 2}`, deviceId, 1e-7, step, 1 + k);
        if (k === 2 && deviceId === 'b') r.record = { ...r.record, verdict: { status: 'invalid', summary: 'planted' } };
        rows.push(r);
      }
    }
    await store.ingestResults(rows, 1000 * (step + 1));
    stored += rows.length;
    const b = new SeriesBuilder();
    for (const id of ids) for (const f of await history.newest(sql, id, LIMIT)) b.addFacts(f);
    const full = buildSeries((await Promise.all(ids.map((id) => seriesRecords(sql, id, { limit: LIMIT })))).flat());
    assert.deepEqual(b.series(), noFingerprints(full), `step ${step}`);
    if (step === 3) assert.ok(full.length === 2 && full.every((s) => s.runs.length >= 3), 'the window spans several runs');
  }
  assert.equal(history.stats.recordsParsed, stored, 'each record parsed once');
  await store.close();
});
