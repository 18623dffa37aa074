import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AttentionProbeData } from '../probes/attention/schema.ts';
import { attentionReferenceValidity, survivalWithReference } from '../probes/attention/reference-validity.ts';
import type { SurvivalVerdict, TokenRelationVerdict } from '../probes/attention/verdicts.ts';
import { buildDashboardData } from '../coordinator/dashboard/dashboard-data.ts';
import type { StoredResult } from '../coordinator/store/store.ts';
import type { ProbeRecord, VerdictStatus } from '../core/results/probe-record.ts';

const survives: SurvivalVerdict = { status: 'survives', summary: 'fp16: the attention explanation survives compression in all 2 layers (worst JS 1e-9).', layers: [], degradedLayers: [], failedLayers: [] };
const relation = (sanityPassed: boolean | null): TokenRelationVerdict => ({ status: sanityPassed === false ? 'fails' : 'survives', summary: '', supportedUpToLayer: 2, structuredButUnidentifiable: [], unsupportedLayers: [], sanityPassed });
const step = (from: number, attentionChanged: boolean, rolloutChanged: boolean) => ({ randomizedFrom: from, parameters: 1, attentionJs: 0.1, rolloutJs: 0.1, rolloutSpearman: 0.95, attentionChanged, rolloutChanged });

test('survival against an fp32 explanation that fails a sanity check is its own state, naming the check', () => {
  const ref = attentionReferenceValidity(relation(false), [step(1, true, true), step(2, true, false)], 2);
  assert.equal(ref.valid, false);
  assert.match(ref.failedChecks[0], /rollout .*layers 2-2 re-drawn/);
  const joined = survivalWithReference(survives, ref);
  assert.equal(joined.status, 'survives-invalid-reference');
  assert.match(joined.summary, /survives compression in all 2 layers .*, but the fp32 explanation fails its randomization check for rollout/);
  // a degrading variant keeps its worse status, and still says the reference is invalid
  const degrades = survivalWithReference({ ...survives, status: 'degrades', summary: 'fp16: degrades in layers 2.' }, ref);
  assert.equal(degrades.status, 'degrades');
  assert.match(degrades.summary, /fp32 explanation fails/);
  // a valid reference keeps 'survives'; an unchecked one says its validity is unknown
  assert.equal(survivalWithReference(survives, attentionReferenceValidity(relation(true), [step(1, true, true)], 2)).status, 'survives');
  const unknown = survivalWithReference(survives, attentionReferenceValidity(relation(null), undefined, 2));
  assert.equal(unknown.status, 'survives');
  assert.match(unknown.summary, /validity is unknown/);
});

function attentionResult(deviceId: string, variant: string, status: VerdictStatus, id: number): StoredResult {
  // the smallest data the attention contract accepts (the dashboard reads only records that pass it)
  const data: AttentionProbeData = {
    corpus: { source: 'built-in', sentences: 2, tokens: 10, seed: 1 }, layers: 2, heads: 1,
    identifiability: { nearest: [1, 1, 1], learned: [1, 1, 1], trainSentences: 1, heldOutSentences: 1 }, mixing: { selfContribution: [1, 1, 1], effectiveSources: [1, 1, 1] },
    structure: [], tokenRelation: { supportedUpToLayer: 2, structuredButUnidentifiable: [], unsupportedLayers: [], sanityPassed: null }, thresholdsFile: 't.json',
  };
  const record: ProbeRecord = {
    recordVersion: 2, probe: 'attention', model: { name: 'm', sha256: 'a'.repeat(64) }, variant: { name: variant, sha256: 'b'.repeat(64) },
    verdict: { status, summary: `${variant} ${status}` }, durationS: 1, createdAt: '2026-01-01T00:00:00Z', data,
  };
  return { id, deviceId, jobId: null, recordKey: `${deviceId}-${variant}`, record, receivedAt: '2026-01-01T00:00:00Z' } as unknown as StoredResult;
}

test('dashboard: a variant that survives against an invalid fp32 explanation is never summarised as keeping it', () => {
  const data = buildDashboardData([
    attentionResult('pi-01', 'fp32', 'fails', 1), attentionResult('pi-01', 'fp16', 'survives', 2),
    attentionResult('pi-02', 'fp32', 'fails', 3), attentionResult('pi-02', 'fp16', 'survives-invalid-reference', 4),
  ], [], []);
  const fp16 = data.explanations.find((e) => e.variant === 'fp16')!;
  // the worst device decides, and surviving against an invalid reference is worse than surviving
  assert.equal(fp16.verdicts.attention.status, 'survives-invalid-reference');
  assert.match(fp16.verdicts.attention.summary, /^pi-02/);
  // and worse than degrading: what is kept was never valid
  const mixed = buildDashboardData([attentionResult('a', 'fp16', 'degrades', 1), attentionResult('b', 'fp16', 'survives-invalid-reference', 2)], [], []);
  assert.equal(mixed.explanations[0].verdicts.attention.status, 'survives-invalid-reference');
});
