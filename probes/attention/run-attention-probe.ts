import { performance } from 'node:perf_hooks';
import type { ModelDir } from '../../core/model/model-dir.ts';
import { loadModelDir } from '../../core/model/model-dir.ts';
import { requireSameReading } from '../../core/model/architecture-guard.ts';
import type { Progress } from '../../core/progress.ts';
import type { ProbeRecord } from '../../core/results/probe-record.ts';
import type { Variant } from '../../core/variants/variant-types.ts';
import { collectActivations, type Activations } from './activations.ts';
import { compareActivations } from './survival.ts';
import { encodeCorpus, type Corpus } from '../../core/corpus/sentence-corpus.ts';
import { numericGate } from '../../core/runtime/numeric-gate-sweep.ts';
import { identifiabilityCurve, unidentifiablePositions } from './identifiability.ts';
import { learnedIdentifiability } from './learned-identifiability.ts';
import { cascadingRandomization, redrawnWeightsRule } from './randomization.ts';
import { attentionBaseline } from './causal-rows.ts';
import { attentionRecord, finiteOrNull, type AttentionProbeData } from './record.ts';
import { mixingCurve } from './rollout.ts';
import { shuffledControl } from './shuffled-control.ts';
import { attentionStructure } from './structure.ts';
import { DEFAULT_THRESHOLDS_PATH, loadAttentionThresholds, type AttentionThresholds } from './thresholds.ts';
import { structuredHeads } from './structured-heads.ts';
import { survivalVerdict, tokenRelationVerdict } from './verdicts.ts';
import { attentionReferenceValidity, survivalWithReference } from './reference-validity.ts';

export interface AttentionProbeOptions {
  corpus: Corpus;
  /** compressed variants to judge against fp32 (an fp32 entry is ignored: the source model is always run) */
  variants?: Variant[];
  seed: number;
  thresholdsPath?: string;
  /** cascading randomization and shuffled-input control on fp32 (default true) */
  sanityChecks?: boolean;
  progress?: Progress;
}

/** Everything measured on one model run that does not need a second run. */
function analyse(acts: Activations, seed: number, t: AttentionThresholds) {
  const learned = learnedIdentifiability(acts, seed);
  return {
    nearest: identifiabilityCurve(acts),
    learned,
    mixing: mixingCurve(acts),
    structure: attentionStructure(acts, t.structure.dominantWeight),
  };
}

/**
 * The attention probe: fp32 first (identifiability, mixing, structure, sanity checks), then each variant
 * on the same sentences, judged against fp32. Returns one record per (model, variant).
 */
export async function runAttentionProbe(md: ModelDir, opts: AttentionProbeOptions): Promise<ProbeRecord[]> {
  // a decoder is measured on its residual stream (the pre-norm hidden states) against causal-uniform rows (causal-rows.ts)
  const arch = md.layers.architecture;
  const architecture = {
    kind: arch.kind, causalMask: arch.causalMask,
    hiddenStates: arch.norm === 'pre-norm' ? 'residual stream (block outputs after the residual Add)' : 'each block\'s last LayerNorm output',
  };
  const thresholdsFile = opts.thresholdsPath ?? DEFAULT_THRESHOLDS_PATH;
  const t = loadAttentionThresholds(thresholdsFile);
  const progress = opts.progress;
  const sentences = encodeCorpus(opts.corpus, md.tokenizer);
  const sequences = sentences.map((s) => s.ids);
  const padId = md.tokenizer.padId;
  const model = { name: md.name, sha256: md.model.sha256 };
  const corpusInfo = {
    source: opts.corpus.source, ...(opts.corpus.path ? { path: opts.corpus.path } : {}),
    sentences: sequences.length, tokens: sequences.reduce((s, q) => s + q.length, 0), seed: opts.seed,
  };
  const records: ProbeRecord[] = [];

  const started = performance.now();
  const ref = await collectActivations(md.model.proto, `${md.name} fp32`, sequences, padId, { progress, stage: 'fp32' });
  progress?.info('fp32: identifiability (nearest and learned), rollout, structure');
  const base = analyse(ref, opts.seed, t);
  const sanity = opts.sanityChecks ?? true;
  const randomization = sanity ? await cascadingRandomization(md.model.proto, md.layers, sequences, padId, ref, opts.seed, t, progress) : undefined;
  const shuffled = sanity ? await shuffledControl(md.model.proto, sequences, padId, ref, base.structure, opts.seed, t, progress) : undefined;
  const relation = tokenRelationVerdict(base.nearest, base.structure, randomization, shuffled, t, base.mixing, attentionBaseline(ref));
  const referenceValidity = attentionReferenceValidity(relation, randomization, ref.layers);
  const common = (a: ReturnType<typeof analyse>, acts: Activations): Omit<AttentionProbeData, 'tokenRelation'> => ({
    corpus: corpusInfo,
    layers: acts.layers,
    heads: acts.heads,
    architecture,
    baseline: attentionBaseline(acts),
    identifiability: {
      nearest: a.nearest.map(finiteOrNull), learned: a.learned.curve.map(finiteOrNull), trainSentences: a.learned.trainSentences, heldOutSentences: a.learned.heldOutSentences,
      ...(acts.causal ? { excludedPositions: unidentifiablePositions(acts) } : {}),
    },
    mixing: a.mixing,
    structure: a.structure,
    structuredHeads: structuredHeads(a.structure, t),
    thresholdsFile,
  });
  // numeric gate gate: the probe's own NaN/Inf check plus a sequence-length sweep of every exposed tensor
  const refGate = await numericGate(md, 'fp32', ref.gate);
  records.push(attentionRecord({
    model, variant: { name: 'fp32', sha256: md.model.sha256 },
    status: relation.status, summary: relation.summary, layers: relation.unsupportedLayers,
    gate: refGate, durationS: (performance.now() - started) / 1000,
    data: {
      ...common(base, ref),
      tokenRelation: { supportedUpToLayer: relation.supportedUpToLayer, structuredButUnidentifiable: relation.structuredButUnidentifiable, unsupportedLayers: relation.unsupportedLayers, sanityPassed: relation.sanityPassed },
      ...(randomization && shuffled ? {
        sanity: {
          randomization: randomization.map((s) => ({ ...s, rolloutSpearman: finiteOrNull(s.rolloutSpearman) })),
          attentionPassed: randomization.every((s) => s.attentionChanged),
          rolloutPassed: randomization.every((s) => s.rolloutChanged),
          redrawnWeights: redrawnWeightsRule(arch.kind),
          shuffled: { layers: shuffled.layers.map((l) => ({ ...l, structureKept: finiteOrNull(l.structureKept), alignedJs: finiteOrNull(l.alignedJs) })), structureKeptLayers: shuffled.structureKeptLayers },
        },
      } : {}),
    },
  }));

  for (const variant of opts.variants ?? []) {
    if (variant.name === 'fp32') continue;
    const vStart = performance.now();
    const vmd = loadModelDir(md.dir, { onnxPath: variant.onnxPath });
    // maps and hidden states are compared tensor by tensor: a variant read as another architecture is refused
    requireSameReading(md.layers, vmd.layers, variant.name, variant.onnxPath);
    const acts = await collectActivations(vmd.model.proto, `${md.name} ${variant.name}`, sequences, padId, { progress, stage: variant.name });
    progress?.info(`${variant.name}: identifiability, rollout, structure, comparison with fp32`);
    const a = analyse(acts, opts.seed, t);
    const cmp = compareActivations(ref, acts, t.survival.topK);
    const verdict = survivalVerdict(variant.name, cmp, base.nearest, a.nearest, t);
    const joined = survivalWithReference(verdict, referenceValidity);
    const rel = tokenRelationVerdict(a.nearest, a.structure, undefined, undefined, t, a.mixing, attentionBaseline(acts));
    records.push(attentionRecord({
      model, variant: { name: variant.name, sha256: vmd.model.sha256 },
      status: joined.status, summary: `${joined.summary} ${rel.summary}`, layers: [...verdict.failedLayers, ...verdict.degradedLayers].sort((x, y) => x - y),
      gate: await numericGate(vmd, variant.name, acts.gate), durationS: (performance.now() - vStart) / 1000,
      data: {
        ...common(a, acts),
        tokenRelation: { supportedUpToLayer: rel.supportedUpToLayer, structuredButUnidentifiable: rel.structuredButUnidentifiable, unsupportedLayers: rel.unsupportedLayers, sanityPassed: null },
        survival: {
          reference: 'fp32', topK: t.survival.topK, referenceValidity,
          layers: verdict.layers.map((l, k) => ({ ...l, rolloutSpearman: finiteOrNull(l.rolloutSpearman), jsPerHead: cmp[k].jsPerHead, topKPerHead: cmp[k].topKPerHead })),
        },
      },
    }));
  }
  progress?.done();
  return records;
}
