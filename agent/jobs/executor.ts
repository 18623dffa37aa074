import { resolveVariantSettings } from '../../core/variants/recipe-settings.ts';
import { join } from 'node:path';
import { errorMessage } from '../../core/errors.ts';
import { explainMissingRuntime } from '../../core/missing-package.ts';
import type { DaemonLog } from '../../core/daemon-log.ts';
import { loadModelDir } from '../../core/model/model-dir.ts';
import { requireFp32Source } from '../../core/model/source-check.ts';
import { requireRunnableInputs } from '../../core/model/input-shapes.ts';
import { payloadProblem } from '../../core/protocol/codec.ts';
import { checkRecord, probeContract, probeSettings } from '../../probes/index.ts';
import type { JobState } from '../../core/protocol/messages.ts';
import { deviceTopic } from '../../core/protocol/topics.ts';
import type { AgentAllowList } from '../config/agent-config.ts';
import { resolveAllowedModel } from '../config/model-source.ts';
import type { JobStore, StoredJob } from '../state/job-store.ts';
import type { Outbox } from '../state/outbox.ts';
import { isBuiltinVariant } from '../../core/variants/variant-types.ts';
import { planUserVariants } from './user-variant-files.ts';
import { variantProvider } from './variant-provider.ts';

export interface ExecutorDeps {
  deviceId: string;
  config: AgentAllowList;
  jobs: JobStore;
  outbox: Outbox;
  log: DaemonLog;
  /** where this agent caches the variants it builds (one subdirectory per source model) */
  variantsDir: string;
  /** called after messages were queued, so the publisher sends them now */
  queued(): void;
}

/**
 * Runs a plan item by item (model x variant x probe). Each record is queued in the same transaction
 * that marks it done, and each finished item gets a marker, so a restarted agent skips what was
 * already queued: nothing is lost and nothing is produced twice.
 */
export async function executeJob(job: StoredJob, deps: ExecutorDeps, signal: AbortSignal): Promise<JobState> {
  const { jobs, outbox, deviceId } = deps;
  const plan = job.plan;
  const builtins = plan.variants.filter(isBuiltinVariant);
  // a user variant belongs to one model; the built-in ones are made for every model
  const variantCount = (model: string): number => builtins.length + (plan.userVariants ?? []).filter((u) => u.model === model).length;
  const total = plan.models.reduce((s, m) => s + variantCount(m.name), 0) * plan.probes.length;
  let done = 0;
  const failures: string[] = [];
  const progress = (state: JobState, detail?: string, alsoInTransaction?: () => void): void => {
    const payload = { jobId: job.jobId, attempt: job.attempt, state, done, total, ...(detail ? { detail: detail.slice(0, 2000) } : {}) };
    outbox.enqueue(deviceTopic(deviceId, 'progress'), 'progress', payload, alsoInTransaction);
    deps.queued();
  };
  jobs.setState(job.jobId, 'running');
  progress('running', 'started');

  for (const m of plan.models) {
    const allowed = deps.config.models.find((a) => a.name === m.name)!;
    let reference;
    let variants;
    let fp32;
    try {
      const resolved = await resolveAllowedModel(allowed);
      // the config may leave a generated model unpinned; a plan's pin is still honoured
      if (m.sha256 && m.sha256 !== resolved.sha256) throw new Error(`model ${m.name} has sha256 ${resolved.sha256}, the plan pins ${m.sha256}`);
      reference = loadModelDir(resolved.dir, { onnxPath: resolved.onnxPath });
      requireFp32Source(reference);
      requireRunnableInputs(reference.model.proto.graph, reference.onnxPath);
      const outDir = join(deps.variantsDir, reference.model.sha256.slice(0, 16));
      [fp32] = await variantProvider().ensure(reference, ['fp32'], { outDir });
      // checked when the plan arrived (planVariantsProblem), so this resolves without error
      const settings = resolveVariantSettings(plan.variantSettings ?? {}, { int4: 'int4BlockSize', int8: 'int8Calibration' });
      variants = [...await variantProvider().ensure(reference, builtins, { outDir, settings }), ...await planUserVariants(reference, m.name, plan.userVariants, deps.config.userVariantsDir)];
    } catch (caught) {
      const err = explainMissingRuntime(caught);
      failures.push(`${m.name}: ${errorMessage(err)}`);
      done += variantCount(m.name) * plan.probes.length;
      progress('running', `model ${m.name} failed: ${errorMessage(err)}`);
      continue;
    }
    for (const variant of variants) {
      const model = variant.onnxPath === reference.onnxPath ? reference : loadModelDir(reference.dir, { onnxPath: variant.onnxPath });
      for (const probe of plan.probes) {
        if (signal.aborted) return 'cancelled';
        const item = `${m.name}/${variant.name}/${probe}`;
        if (jobs.hasRecord(job.jobId, `${item}/done`)) { done++; continue; }
        try {
          const contract = probeContract(probe);
          if (!contract) throw new Error(`no probe ${probe} in this agent build`);
          const runner = await contract.runner();
          let index = 0;
          const ctx = { settings: probeSettings(contract, plan), reference, model, variant, fp32, modelName: m.name, plan, signal, normsDir: deps.config.normsDir, note: (d: string) => progress('running', `${item}: ${d}`) };
          for await (const record of runner(ctx)) {
            const recordKey = `${item}/${index++}`;
            if (jobs.hasRecord(job.jobId, recordKey)) continue;
            // the coordinator checks `data` against the same contract: a record it would refuse is a bug here, not a result
            const checked = checkRecord(record);
            if (!checked.ok) throw new Error(`probe ${probe} produced a record its contract refuses: ${checked.reason}`);
            const payload = { jobId: job.jobId, recordKey, record: checked.value };
            const problem = payloadProblem('results', payload);
            if (problem) throw new Error(`probe ${probe} produced an invalid record: ${problem}`);
            outbox.enqueue(deviceTopic(deviceId, 'results'), 'results', payload, () => jobs.markRecord(job.jobId, recordKey));
            deps.queued();
          }
          if (signal.aborted) return 'cancelled';
          jobs.markRecord(job.jobId, `${item}/done`);
        } catch (caught) {
          const err = explainMissingRuntime(caught);
          failures.push(`${item}: ${errorMessage(err)}`);
          deps.log.warn('item failed', { job: job.jobId, item, error: errorMessage(err) });
        }
        done++;
        progress('running', `${item} finished`);
      }
    }
  }
  const state: JobState = failures.length === 0 ? 'completed' : 'failed';
  const detail = failures.length === 0 ? `${total} items` : failures.join('; ');
  // the final state and its message commit together: a crash here cannot finish a job silently
  progress(state, detail, () => jobs.setState(job.jobId, state, detail));
  return state;
}
