import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { UserError } from '../../core/errors.ts';

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
  if (!existsSync(path)) throw new UserError(`attention thresholds file not found: ${path}`, 'restore configs/attention-thresholds.json from the repository');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UserError(`${path} is not valid JSON: ${(err as Error).message}`, 'fix the syntax; see docs/attention.md for the fields');
  }
  const first = Value.Errors(AttentionThresholds, raw).First();
  if (first) throw new UserError(`${path}: ${first.path || '(root)'} ${first.message}`, 'see docs/attention.md for each field and its allowed range');
  const t = raw as AttentionThresholds;
  const s = t.survival.survives;
  const f = t.survival.fails;
  // "survives" must be the stricter band, else a variant could both survive and fail
  if (s.maxJs > f.maxJs || s.minTopKOverlap < f.minTopKOverlap || s.minRolloutSpearman < f.minRolloutSpearman || s.maxIdentifiabilityDrop > f.maxIdentifiabilityDrop) {
    throw new UserError(`${path}: survival.survives limits must be at least as strict as survival.fails limits`, 'lower survives.maxJs / maxIdentifiabilityDrop or raise its minimum overlaps so that survives sits inside fails');
  }
  return t;
}
