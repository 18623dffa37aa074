import type { AttentionProbeData } from './schema.ts';
export { AttentionProbeData, finiteOrNull } from './schema.ts';
import type { ProbeRecord, VerdictStatus } from '../../core/results/probe-record.ts';

export interface RecordParts {
  model: { name: string; sha256: string };
  variant: { name: string; sha256: string };
  status: VerdictStatus;
  summary: string;
  layers?: number[];
  gate: { ok: boolean; reasons: string[] };
  durationS: number;
  data: AttentionProbeData;
}

export function attentionRecord(p: RecordParts): ProbeRecord {
  return {
    recordVersion: 2,
    probe: 'attention',
    model: p.model,
    variant: p.variant,
    verdict: { status: p.gate.ok ? p.status : 'invalid', summary: p.gate.ok ? p.summary : `invalid: ${p.gate.reasons.join('; ')}`, ...(p.layers && p.layers.length ? { layers: p.layers } : {}) },
    numericGate: p.gate,
    durationS: p.durationS,
    createdAt: new Date().toISOString(),
    data: p.data,
  };
}
