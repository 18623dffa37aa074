import type { LayerComparison } from './survival.ts';
import type { RandomizationStep } from './randomization.ts';
import type { MixingCurve } from './rollout.ts';
import type { ShuffledControl } from './shuffled-control.ts';
import type { LayerStructure } from './structure.ts';
import { looksStructured } from './structured-heads.ts';
import type { AttentionBaseline } from './causal-rows.ts';
import type { AttentionThresholds, SurvivalLimits } from './thresholds.ts';

export type SurvivalStatus = 'survives' | 'degrades' | 'fails';

/**
 * Verdict on the reading "attention weight i->j is a relation between input tokens i and j" for one model:
 * it holds up to the last layer L where, in every layer 1..L, at least `supportedAt` of positions are
 * still identifiable as their own token. Layers past that whose maps still look structured are flagged:
 * they are the ones a reader would misread.
 */
export interface TokenRelationVerdict {
  status: SurvivalStatus;
  summary: string;
  supportedUpToLayer: number;
  /** layers past supportedUpToLayer (identity gone) whose attention still looks structured */
  structuredButUnidentifiable: number[];
  /** layers where identity is gone */
  unsupportedLayers: number[];
  sanityPassed: boolean | null;
}

export function tokenRelationVerdict(
  identifiability: readonly number[], structure: readonly LayerStructure[], randomization: readonly RandomizationStep[] | undefined,
  shuffled: ShuffledControl | undefined, t: AttentionThresholds, mixing?: MixingCurve, baseline?: AttentionBaseline,
): TokenRelationVerdict {
  const L = structure.length;
  let upTo = 0;
  while (upTo < L && identifiability[upTo + 1] >= t.identifiability.supportedAt) upTo++;
  const unsupported = structure.filter((s) => s.layer > upTo).map((s) => s.layer);
  const flagged = structure.filter((s) => s.layer > upTo && looksStructured(s, t)).map((s) => s.layer);
  const attFailed = randomization?.filter((s) => !s.attentionChanged) ?? [];
  const rollFailed = randomization?.filter((s) => !s.rolloutChanged) ?? [];
  const sanityPassed = randomization ? attFailed.length === 0 && rollFailed.length === 0 : null;
  const steps = (xs: readonly RandomizationStep[]): string => xs.map((s) => `${s.randomizedFrom}-${L}`).join(', ');
  const parts = [`attention-as-token-relation is supported up to layer ${upTo} of ${L} (identifiability >= ${t.identifiability.supportedAt})`];
  if (flagged.length > 0) parts.push(`layers ${flagged.join(', ')} look structured but token identity is gone`);
  const causal = baseline?.kind === 'causal-uniform';
  if (causal) parts.push('structure and rollout judged against causal-uniform attention (row i over its i+1 positions; rows the mask fixes left out)');
  if (mixing) parts.push(`rollout leaves each position ${(100 * mixing.selfContribution[L]).toFixed(1)}% of its own token by layer ${L} (${mixing.effectiveSources[L].toFixed(1)} effective source tokens${causal ? `; causal-uniform attention would leave ${(100 * baseline.selfContribution[L]).toFixed(1)}%` : ''})`);
  if (sanityPassed === null) parts.push('sanity checks not run');
  if (sanityPassed === true) parts.push('cascading randomization changes attention maps and rollout at every step');
  if (attFailed.length > 0) parts.push(`attention maps FAIL the randomization check: they barely change when layers ${steps(attFailed)} are randomized`);
  if (rollFailed.length > 0) parts.push(`rollout FAILS the randomization check: its token ranking is kept (Spearman > ${t.randomization.maxRolloutSpearman}) when layers ${steps(rollFailed)} are randomized`);
  if (shuffled && shuffled.structureKeptLayers.length > 0) parts.push(`on shuffled word order layers ${shuffled.structureKeptLayers.join(', ')} look as structured as on real text`);
  const status: SurvivalStatus = sanityPassed === false ? 'fails' : upTo === L ? 'survives' : 'degrades';
  return { status, summary: `${parts.join('; ')}.`, supportedUpToLayer: upTo, structuredButUnidentifiable: flagged, unsupportedLayers: unsupported, sanityPassed };
}

export interface SurvivalLayer {
  layer: number;
  /** worst head's mean attention-row JS divergence against fp32 */
  maxJs: number;
  /** worst head's mean top-k overlap */
  minTopKOverlap: number;
  rolloutSpearman: number;
  /** fp32 identifiability minus the variant's at this layer */
  identifiabilityDrop: number;
  status: SurvivalStatus;
}

export interface SurvivalVerdict {
  status: SurvivalStatus;
  summary: string;
  layers: SurvivalLayer[];
  degradedLayers: number[];
  failedLayers: number[];
}

function within(x: Omit<SurvivalLayer, 'status' | 'layer'>, lim: SurvivalLimits): boolean {
  // a rollout Spearman is NaN when a rollout row is constant (e.g. uniform attention): no evidence either way
  const rhoOk = !Number.isFinite(x.rolloutSpearman) || x.rolloutSpearman >= lim.minRolloutSpearman;
  return x.maxJs <= lim.maxJs && x.minTopKOverlap >= lim.minTopKOverlap && rhoOk && x.identifiabilityDrop <= lim.maxIdentifiabilityDrop;
}

/** Whether a variant's attention explanation survives compression, layer by layer, against fp32. */
export function survivalVerdict(variant: string, cmp: readonly LayerComparison[], refIdent: readonly number[], varIdent: readonly number[], t: AttentionThresholds): SurvivalVerdict {
  const layers = cmp.map((c): SurvivalLayer => {
    const x = {
      maxJs: Math.max(...c.jsPerHead),
      minTopKOverlap: Math.min(...c.topKPerHead),
      rolloutSpearman: c.rolloutSpearman,
      identifiabilityDrop: refIdent[c.layer] - varIdent[c.layer],
    };
    const status: SurvivalStatus = within(x, t.survival.survives) ? 'survives' : within(x, t.survival.fails) ? 'degrades' : 'fails';
    return { layer: c.layer, ...x, status };
  });
  const failedLayers = layers.filter((l) => l.status === 'fails').map((l) => l.layer);
  const degradedLayers = layers.filter((l) => l.status === 'degrades').map((l) => l.layer);
  const status: SurvivalStatus = failedLayers.length > 0 ? 'fails' : degradedLayers.length > 0 ? 'degrades' : 'survives';
  const worst = layers.reduce((a, b) => (b.maxJs > a.maxJs ? b : a));
  const detail = `worst attention JS ${worst.maxJs.toExponential(2)} nats (layer ${worst.layer}), min top-${t.survival.topK} overlap ${Math.min(...layers.map((l) => l.minTopKOverlap)).toFixed(3)}`;
  const summary = status === 'survives'
    ? `${variant}: the attention explanation survives compression in all ${layers.length} layers (${detail}).`
    : status === 'degrades'
      ? `${variant}: the attention explanation degrades in layers ${degradedLayers.join(', ')} (${detail}).`
      : `${variant}: the attention explanation fails in layers ${failedLayers.join(', ')}${degradedLayers.length ? ` and degrades in ${degradedLayers.join(', ')}` : ''} (${detail}).`;
  return { status, summary, layers, degradedLayers, failedLayers };
}
