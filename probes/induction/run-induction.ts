import { performance } from 'node:perf_hooks';
import { epError } from '../../core/errors.ts';
import { requireDecoder } from '../../core/model/architecture-guard.ts';
import { loadModelDir, type ModelDir } from '../../core/model/model-dir.ts';
import type { ProbeRecord, VerdictStatus } from '../../core/results/probe-record.ts';
import { tensorFloats } from '../../core/runtime/encoder-runner.ts';
import { InstrumentedRunner } from '../../core/runtime/instrumented-runner.ts';
import { causalEntropyRatio } from './causal-structure.ts';
import { causalUniformInductionScore, copyingAccuracy, inductionScores, repeatedSequences, type RepeatedBatch } from './induction-score.ts';
import type { InductionData, ResolvedInductionSettings } from './schema.ts';

interface Measured { scores: number[][]; causalEntropy: number[][]; copying: number; heads: number; layers: number; gate: { ok: boolean; reasons: string[] } }

/** One instrumented pass of a model file over the repeated sequences (one batch: they are all 2n + 1 long). */
async function measure(md: ModelDir, batch: RepeatedBatch, label: string): Promise<Measured> {
  const runner = await InstrumentedRunner.fromProto(md.model.proto, label, md.tokenizer.padId);
  try {
    const out = await runner.run(batch.sequences);
    const logits = out.raw.logits;
    if (!logits || logits.dims.length !== 3) throw epError('EP_MODEL_NO_LOGITS', { file: label });
    const B = batch.sequences.length;
    const S = 2 * batch.half + 1;
    const reasons: string[] = [];
    const finite = (name: string, a: Float32Array): void => { if (!a.every(Number.isFinite)) reasons.push(`${name} has NaN or Inf`); };
    out.attention.forEach((a, l) => finite(`attention of layer ${l + 1}`, a));
    const lv = tensorFloats(logits);
    finite('logits', lv);
    return {
      scores: out.attention.map((a) => inductionScores(a, B, out.heads, batch.half)),
      causalEntropy: out.attention.map((a) => causalEntropyRatio(a, B, out.heads, S)),
      copying: copyingAccuracy(lv, batch, logits.dims[2]),
      heads: out.heads,
      layers: out.attention.length,
      gate: { ok: reasons.length === 0, reasons },
    };
  } finally {
    await runner.release();
  }
}

/** Token ids the sequences are drawn from: the whole vocabulary but the tokenizer's special tokens. */
function candidateTokens(md: ModelDir): number[] {
  const t = md.tokenizer;
  const special = new Set([t.clsId, t.sepId, t.padId, t.maskId, t.tokenId('[UNK]')].filter((x) => x !== undefined));
  const vocab = md.layers.wordEmbeddingTable?.vocab ?? t.vocabSize;
  return Array.from({ length: Math.min(vocab, t.vocabSize) }, (_, i) => i).filter((i) => !special.has(i));
}

const round = (x: number): number => Math.round(x * 1e6) / 1e6;

/**
 * The induction probe of one model: fp32 always (it defines which heads are induction heads), then each
 * variant judged head by head against fp32. One record per (model, variant).
 */
export async function runInductionProbe(ref: ModelDir, variants: ReadonlyArray<{ name: string; onnxPath: string }>, s: ResolvedInductionSettings): Promise<ProbeRecord[]> {
  requireDecoder(ref.layers, ref.onnxPath, 'induction');
  const half = Math.min(s.half, Math.floor((ref.tokenizer.maxLength - 1) / 2));
  if (half < 4) throw epError('EP_INDUCTION_TOO_SHORT', { positions: ref.tokenizer.maxLength, needed: 9 });
  const candidates = candidateTokens(ref);
  const batch = repeatedSequences(s.seed, s.sequences, Math.min(half, candidates.length), candidates, ref.tokenizer.clsId);
  const uniformScore = causalUniformInductionScore(batch.half);
  const started = performance.now();
  const base = await measure(ref, batch, `${ref.name} fp32`);
  const found = (m: Measured) => m.scores.flatMap((hs, l) => hs.map((score, head) => ({ layer: l + 1, head, score: round(score) })).filter((h) => h.score >= s.threshold));
  const data = (m: Measured): InductionData => ({
    reference: ref.model.sha256, sequences: batch.sequences.length, half: batch.half, seed: s.seed, layers: m.layers, heads: m.heads,
    threshold: s.threshold, uniformScore: round(uniformScore), scores: m.scores.map((r) => r.map(round)), inductionHeads: found(m),
    copyingAccuracy: round(m.copying), candidates: candidates.length, causalEntropy: m.causalEntropy.map((r) => r.map(round)),
  });
  const record = (variant: { name: string; sha256: string }, m: Measured, status: VerdictStatus, summary: string, d: InductionData, t0: number, layers?: number[]): ProbeRecord => ({
    recordVersion: 2, probe: 'induction', model: { name: ref.name, sha256: ref.model.sha256 }, variant,
    verdict: { status: m.gate.ok ? status : 'invalid', summary: m.gate.ok ? summary : `invalid: ${m.gate.reasons.join('; ')}`, ...(layers?.length ? { layers } : {}) },
    numericGate: m.gate, durationS: (performance.now() - t0) / 1000, createdAt: new Date().toISOString(), data: d,
  });
  const heads0 = found(base);
  const list = (hs: Array<{ layer: number; head: number }>): string => hs.map((h) => `L${h.layer}H${h.head}`).join(', ');
  const chance = `chance ${(1 / candidates.length).toFixed(3)}`;
  const records = [record({ name: 'fp32', sha256: ref.model.sha256 }, base, 'measured',
    `${heads0.length} induction head(s) with score >= ${s.threshold}${heads0.length ? ` (${list(heads0)})` : ''}; uniform causal attention scores ${uniformScore.toFixed(3)}; copying accuracy ${base.copying.toFixed(3)} (${chance})`,
    data(base), started, [...new Set(heads0.map((h) => h.layer))])];
  for (const v of variants) {
    if (v.name === 'fp32') continue;
    const t0 = performance.now();
    const vmd = loadModelDir(ref.dir, { onnxPath: v.onnxPath });
    const m = await measure(vmd, batch, `${ref.name} ${v.name}`);
    const heads = heads0.map((h) => {
      const score = round(m.scores[h.layer - 1]?.[h.head] ?? 0);
      return { layer: h.layer, head: h.head, fp32Score: h.score, score, survives: score >= s.threshold };
    });
    const lost = heads.filter((h) => !h.survives);
    const status: VerdictStatus = heads.length === 0 ? 'measured' : lost.length === 0 ? 'survives' : lost.length === heads.length ? 'fails' : 'degrades';
    const summary = heads.length === 0
      ? `fp32 has no induction head (score >= ${s.threshold}), so there is none to survive; copying accuracy ${m.copying.toFixed(3)}`
      : `${heads.length - lost.length} of ${heads.length} fp32 induction head(s) keep score >= ${s.threshold}${lost.length ? `; lost ${lost.map((h) => `L${h.layer}H${h.head} (${h.fp32Score.toFixed(3)} -> ${h.score.toFixed(3)})`).join(', ')}` : ''}; copying accuracy ${m.copying.toFixed(3)} (fp32 ${base.copying.toFixed(3)}, ${chance})`;
    records.push(record({ name: v.name, sha256: vmd.model.sha256 }, m, status, summary,
      { ...data(m), survival: { reference: 'fp32', copyingAccuracyFp32: round(base.copying), heads } }, t0, [...new Set(lost.map((h) => h.layer))]));
  }
  return records;
}
