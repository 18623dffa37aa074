import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { executeJob } from '../agent/jobs/executor.ts';
import { JobStore } from '../agent/state/job-store.ts';
import { Outbox } from '../agent/state/outbox.ts';
import { openStateDb } from '../agent/state/state-db.ts';
import { buildDashboardData } from '../coordinator/dashboard/dashboard-data.ts';
import { buildFleetReport, cellValue } from '../coordinator/report/fleet-report.ts';
import { renderFleetReport, renderFleetReportCsv } from '../coordinator/report/render.ts';
import { loadPlanFile } from '../coordinator/submit-job.ts';
import { builtInCorpus } from '../core/corpus/sentence-corpus.ts';
import { createDaemonLog } from '../core/daemon-log.ts';
import { isEdgeprobeError } from '../core/errors.ts';
import { loadModelDir } from '../core/model/model-dir.ts';
import { encodeMessage, makeMessage } from '../core/protocol/codec.ts';
import { deviceTopic } from '../core/protocol/topics.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';
import { probeKinds, registerProbe } from '../probes/index.ts';
import { tokenCountContract } from './fixtures/probes/token-count/contract.ts';
import { ingestOutbox } from './helpers/ingest-outbox.ts';

// A probe is one folder (test/fixtures/probes/token-count: contract.ts + runner.ts) and one registry line.
// Here the line is `registerProbe(...)`, the run-time form of the line in probes/index.ts; everything
// below runs the real plan loader, agent executor, outbox, coordinator ingest, report and dashboard code.
registerProbe(tokenCountContract);

describe('adding a probe: one folder and one registry line', () => {
  const work = mkdtempSync(join(tmpdir(), 'edgeprobe-add-probe-'));
  after(() => rmSync(work, { recursive: true, force: true }));
  const log = createDaemonLog('t', false, () => {});
  const planFile = (plan: unknown): string => {
    const p = join(work, `plan-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(p, JSON.stringify(plan));
    return p;
  };
  const plan = { models: [{ name: 'tiny' }], variants: ['fp32'], probes: ['benchmark', 'token-count'], settings: { benchmark: { runs: 2, batchSizes: [1], seqLen: 8 }, 'token-count': { sentences: 4 } } };

  test('plans may name it, and its settings are checked against its schema', () => {
    assert.ok(probeKinds().includes('token-count'));
    assert.deepEqual(loadPlanFile(planFile(plan)).probes, ['benchmark', 'token-count']);
    const refused = (p: unknown): string => {
      try { loadPlanFile(planFile(p)); } catch (err) { assert.ok(isEdgeprobeError(err)); assert.equal(err.code, 'EP_PLAN_PROBE_SETTINGS'); return err.message; }
      assert.fail('the plan was accepted');
    };
    assert.match(refused({ ...plan, settings: { 'token-count': { sentences: 0 } } }), /settings\.token-count\/sentences/, 'names the field');
    assert.match(refused({ ...plan, settings: { 'token-count': { words: 3 } } }), /settings\.token-count/);
    assert.match(refused({ ...plan, probes: ['token-count', 'no-such-probe'] }), /probe no-such-probe is not one edgeprobe knows/);
  });

  test('the agent runs it, the coordinator stores it, the report and the dashboard show it', async () => {
    const dir = ensureGeneratedModel('tiny', { dir: join(work, 'tiny') });
    const md = loadModelDir(dir);
    const db = openStateDb(join(work, 'agent'));
    const jobs = new JobStore(db);
    const outbox = new Outbox(db, 'pi-01');
    const p = loadPlanFile(planFile(plan));
    jobs.insert('j1', 1, p, 'accepted');
    const state = await executeJob(jobs.get('j1')!, {
      deviceId: 'pi-01', config: { models: [{ name: 'tiny', generated: 'tiny' }], probes: ['benchmark', 'token-count'] }, jobs, outbox, log,
      variantsDir: join(work, 'variants'), queued: () => {},
    }, new AbortController().signal);
    assert.equal(state, 'completed', jobs.get('j1')!.detail ?? '');

    // what the agent queued goes through the coordinator's real ingest into a real SQLite store
    const { store, ingest } = await ingestOutbox(outbox, 'pi-01', work, log);
    const results = store.results();
    const mine = results.filter((r) => r.record.probe === 'token-count');
    assert.equal(mine.length, 1);

    // the figure, computed independently here: mean token count of the same four built-in sentences
    const expected = builtInCorpus(1, 4).sentences.reduce((n, s) => n + md.tokenizer.encode(s).ids.length, 0) / 4;
    const report = buildFleetReport(results, store.devices());
    const row = report.rows.find((r) => r.variant === 'fp32')!;
    assert.equal(cellValue(row, 'token-count', 'meanTokens'), expected);
    assert.equal(row.verdicts['token-count'].status, 'measured');
    assert.match(renderFleetReport(report), /mean tokens/);
    assert.match(renderFleetReport(report), new RegExp(expected.toFixed(2).replace('.', '\\.')));
    assert.match(renderFleetReportCsv(report).split('\n')[0], /,meanTokens,tokenSentences,/);

    const dash = buildDashboardData(results, store.devices(), store.jobTargets());
    assert.ok(dash.probes.some((x) => x.kind === 'token-count'), 'the dashboard draws a section for it');
    assert.deepEqual(dash.views['token-count'], [{ deviceId: 'pi-01', variant: 'fp32', meanTokens: expected }]);

    // a record of the new kind with data outside its schema is refused at ingest, like any bad input
    const bad = { ...mine[0].record, data: { sentences: 0, meanTokens: -1 } };
    const before = ingest.stats.rejected;
    await ingest.handle(deviceTopic('pi-01', 'results'), Buffer.from(encodeMessage(makeMessage('pi-01', 99, 'results', { jobId: 'j1', recordKey: 'bad', record: bad }))));
    await ingest.flush();
    assert.equal(ingest.stats.rejected, before + 1);
    assert.equal(store.results().length, results.length, 'nothing of it stored');
    store.close();
    db.close();
  });
});
