import type { ModelDir } from '../../core/model/model-dir.ts';
import type { JobPlan } from '../../core/protocol/plan.ts';
import type { ProbeKind, ProbeRecord } from '../../core/results/probe-record.ts';
import type { Variant } from '../../core/variants/variant-types.ts';

/** What a probe gets for one (model, variant) item of a plan. */
export interface ProbeContext {
  /** the FP32 source model (the reference for survival probes) */
  reference: ModelDir;
  /** the variant under test, loaded (tokenizer and config from the source directory) */
  model: ModelDir;
  variant: Variant;
  /** the source model as a variant (reference for drift, speed-up and survival) */
  fp32: Variant;
  /** the model's name in the agent config (what the plan and the report call it) */
  modelName: string;
  plan: JobPlan;
  signal: AbortSignal;
  /** the agent's norms directory (agent config `normsDir`), for the properties probe */
  normsDir?: string;
  /** free-text progress inside the item, forwarded as job progress */
  note(detail: string): void;
}

/**
 * A probe yields its records one by one; each is queued for delivery as soon as it is yielded, so a
 * crash after record k resumes with record k+1 (records are keyed by their index within the item).
 */
export type ProbeRunner = (ctx: ProbeContext) => AsyncIterable<ProbeRecord>;

/**
 * Loaded on first use: an idle agent should not pay for onnxruntime or a probe's dependencies.
 * A new probe is one line here (docs/fleet.md, "Probe runners").
 */
const registry = new Map<ProbeKind, () => Promise<ProbeRunner>>([
  ['benchmark', async () => (await import('../../probes/benchmark/runner.ts')).benchmarkRunner],
  ['attention', async () => (await import('../../probes/attention/runner.ts')).attentionRunner],
  ['compare', async () => (await import('../../probes/divergence/runner.ts')).compareRunner],
  ['properties', async () => (await import('../../probes/properties/runner.ts')).propertiesRunner],
]);

export function registerProbe(kind: ProbeKind, load: () => Promise<ProbeRunner>): void {
  registry.set(kind, load);
}

export function registeredProbes(): ProbeKind[] {
  return [...registry.keys()];
}

export async function probeRunner(kind: ProbeKind): Promise<ProbeRunner> {
  const load = registry.get(kind);
  if (!load) throw new Error(`no runner registered for probe ${kind}`);
  return load();
}
