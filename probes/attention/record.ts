import type { AttentionProbeData } from './schema.ts';
export { AttentionProbeData, finiteOrNull } from './schema.ts';
import type { ProbeRecord, VerdictStatus } from '../../core/results/probe-record.ts';

export interface RecordParts {
  model: { name: string; sha256: string };
  variant: { name: string; sha256: string };
  status: VerdictStatus;
  summary: string;
  layers?: number[];
  health: { ok: boolean; reasons: string[] };
  durationS: number;
  data: AttentionProbeData;
}

export function attentionRecord(p: RecordParts): ProbeRecord {
  return {
    recordVersion: 2,
    probe: 'attention',
    model: p.model,
    variant: p.variant,
    verdict: { status: p.health.ok ? p.status : 'invalid', summary: p.health.ok ? p.summary : `invalid: ${p.health.reasons.join('; ')}`, ...(p.layers && p.layers.length ? { layers: p.layers } : {}) },
    numericGate: p.health,
    durationS: p.durationS,
    createdAt: new Date().toISOString(),
    data: p.data,
  };
}
