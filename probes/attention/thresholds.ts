import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { epError } from '../../core/errors.ts';

/** Limits behind every attention verdict; docs/attention.md says why each value was chosen. */
const Share = Type.Number({ minimum: 0, maximum: 1 });
const Js = Type.Number({ minimum: 0, maximum: Math.LN2 });
const SurvivalLimits = Type.Object({
  /** worst head's mean Jensen-Shannon divergence (nats) of attention rows against fp32 */
  maxJs: Js,
  minTopKOverlap: Share,
  minRolloutSpearman: Type.Number({ minimum: -1, maximum: 1 }),
  /** fall of the identifiability share against fp32 at any layer */
  maxIdentifiabilityDrop: Share,
}, { additionalProperties: false });

export const AttentionThresholds = Type.Object({
  identifiability: Type.Object({ supportedAt: Share }, { additionalProperties: false }),
  structure: Type.Object({ dominantWeight: Share, structuredEntropyRatio: Share, structuredDominantShare: Share }, { additionalProperties: false }),
  randomization: Type.Object({ minAttentionJs: Js, maxRolloutSpearman: Type.Number({ minimum: -1, maximum: 1 }) }, { additionalProperties: false }),
  shuffledControl: Type.Object({ structureKeptRatio: Type.Number({ minimum: 0 }) }, { additionalProperties: false }),
  survival: Type.Object({ topK: Type.Integer({ minimum: 1 }), survives: SurvivalLimits, fails: SurvivalLimits }, { additionalProperties: false }),
}, { additionalProperties: false });
export type AttentionThresholds = Static<typeof AttentionThresholds>;
export type SurvivalLimits = Static<typeof SurvivalLimits>;

export const DEFAULT_THRESHOLDS_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'configs', 'attention-thresholds.json');

export function loadAttentionThresholds(path = DEFAULT_THRESHOLDS_PATH): AttentionThresholds {
  if (!existsSync(path)) throw epError('EP_ATTENTION_THRESHOLDS_MISSING', { file: path });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw epError('EP_ATTENTION_THRESHOLDS_SYNTAX', { file: path, reason: (err as Error).message });
  }
  const first = Value.Errors(AttentionThresholds, raw).First();
  if (first) throw epError('EP_ATTENTION_THRESHOLDS_FIELD', { file: path, field: first.path || '(root)', problem: first.message });
  const t = raw as AttentionThresholds;
  const s = t.survival.survives;
  const f = t.survival.fails;
  // "survives" must be the stricter band, else a variant could both survive and fail
  if (s.maxJs > f.maxJs || s.minTopKOverlap < f.minTopKOverlap || s.minRolloutSpearman < f.minRolloutSpearman || s.maxIdentifiabilityDrop > f.maxIdentifiabilityDrop) {
    throw epError('EP_ATTENTION_THRESHOLDS_ORDER', { file: path });
  }
  return t;
}
