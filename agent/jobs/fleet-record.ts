import type { ProbeRecord } from '../../core/results/probe-record.ts';
import type { ProbeContext } from '../../core/probes/contract.ts';
import { softwareFingerprint } from '../telemetry/software.ts';

/**
 * Probes name the model after its directory; the fleet names it as the agent config and the plan do. The
 * software that made the record goes with it, so monitoring can say what changed between two runs.
 */
export function asFleetRecord(record: ProbeRecord, ctx: ProbeContext): ProbeRecord {
  // the quantization found in the file the record measured (user files and built-ins alike)
  const q = record.variant.name === ctx.variant.name ? ctx.variant.manifest.quantization : record.variant.name === 'fp32' ? ctx.fp32?.manifest.quantization : undefined;
  return { ...record, model: { ...record.model, name: ctx.modelName }, ...(q ? { variant: { ...record.variant, quantization: q } } : {}), software: softwareFingerprint() };
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) { resolve(); return; }
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}
