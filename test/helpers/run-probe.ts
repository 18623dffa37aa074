import assert from 'node:assert/strict';
import { compressionProvider } from '../../agent/jobs/variant-provider.ts';
import type { ModelDir } from '../../core/model/model-dir.ts';
import type { ProbeContext } from '../../core/probes/contract.ts';
import type { JobPlan } from '../../core/protocol/plan.ts';
import { MAX_MESSAGE_BYTES } from '../../core/protocol/messages.ts';
import type { ProbeRecord } from '../../core/results/probe-record.ts';
import type { Variant } from '../../core/variants/variant-types.ts';
import { checkRecord, probeContract, probeSettings } from '../../probes/index.ts';

/**
 * Runs one probe's contract runner for (model, variant) in this process, as the agent's executor does, and
 * checks each record as the agent does before queueing it (contract schema, message size).
 */
export async function runProbe<D>(kind: string, ref: ModelDir, variant: Variant, plan: JobPlan, variantsDir: string): Promise<Array<ProbeRecord & { data: D }>> {
  const [fp32] = await compressionProvider.ensure(ref, ['fp32'], { outDir: variantsDir });
  const contract = probeContract(kind)!;
  const base = { reference: ref, model: ref, variant, fp32, modelName: ref.name, plan, signal: new AbortController().signal, note: () => {} };
  const ctx: ProbeContext = { ...base, settings: probeSettings(contract, plan) };
  const out: Array<ProbeRecord & { data: D }> = [];
  for await (const r of (await contract.runner())(ctx)) {
    const checked = checkRecord(r);
    assert.ok(checked.ok, checked.ok ? '' : checked.reason);
    assert.ok(Buffer.byteLength(JSON.stringify(r)) < MAX_MESSAGE_BYTES / 16, `${kind} record stays small`);
    out.push(r as ProbeRecord & { data: D });
  }
  return out;
}
