import type { ProbeRecord } from '../../core/results/probe-record.ts';
import type { ProbeContext } from '../../core/probes/contract.ts';
import { softwareFingerprint } from '../telemetry/software.ts';

/**
 * Probes name the model after its directory; the fleet names it as the agent config and the plan do. The
 * software that made the record goes with it, so monitoring can say what changed between two runs.
 */
export function asFleetRecord(record: ProbeRecord, ctx: ProbeContext): ProbeRecord {
  return { ...record, model: { ...record.model, name: ctx.modelName }, software: softwareFingerprint() };
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) { resolve(); return; }
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}
