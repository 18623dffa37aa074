import { existsSync, readFileSync } from 'node:fs';
import { epError } from '../../core/errors.ts';
import type { ModelDir } from '../../core/model/model-dir.ts';
import { refuseDecoder } from '../../core/model/architecture-guard.ts';
import type { Progress } from '../../core/progress.ts';
import { bertFeeds, tensorFloats } from '../../core/runtime/encoder-runner.ts';
import { createSession } from '../../core/runtime/ort-session.ts';
import { topK } from '../../core/numeric/vectors.ts';
import { addPrediction, addRanked, emptyCounts, summarize, type AgreementSummary } from './task-agreement.ts';

/** One fill-mask item: token ids with one [MASK], its position, and the gold token id when known. */
export interface FillMaskItem { ids: number[]; maskIndex: number; target?: number }

export type TaskKind = 'fill-mask' | 'classification' | 'next-token';

/** `perplexity` and `perplexityFp32` are set for next-token agreement (causal LMs) */
export interface TaskAgreement extends AgreementSummary { task: TaskKind; variant: string; perplexity?: number; perplexityFp32?: number }

/** What task head a model has, from its `logits` output: [batch, seq, vocab] is masked-LM (next-token for a decoder), [batch, labels] classification. */
export function taskKind(md: ModelDir): TaskKind | null {
  const out = md.model.proto.graph.output.find((o) => o.name === 'logits');
  if (!out) return null;
  // a decoder's logits are next-token predictions, never a masked-LM head
  if (md.layers.architecture.kind === 'decoder') return 'next-token';
  const rank = out.type?.tensorType?.shape?.dim?.length;
  if (rank === 3) return 'fill-mask';
  if (rank === 2) return 'classification';
  // exporters sometimes omit shapes: a masked-LM head ends in a vocabulary-wide MatMul, so trust the config
  return md.config.raw.architectures && JSON.stringify(md.config.raw.architectures).includes('MaskedLM') ? 'fill-mask' : 'classification';
}

/**
 * Reads fill-mask items: JSON lines with `input_ids`, `mask_index`, `target_id` (the format of
 * fill_mask_eval.jsonl), or with `text` containing [MASK] (tokenized here) and optional `target`.
 */
export function readFillMaskItems(path: string, md: ModelDir, limit?: number): FillMaskItem[] {
  if (!existsSync(path)) throw epError('EP_FILLMASK_MISSING', { file: path });
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim());
  if (lines.length === 0) throw epError('EP_FILLMASK_EMPTY', { file: path });
  const maskId = md.tokenizer.maskId;
  const items = lines.slice(0, limit).map((line, i): FillMaskItem => {
    let o: { input_ids?: number[]; mask_index?: number; target_id?: number; text?: string; target?: string };
    try {
      o = JSON.parse(line) as typeof o;
    } catch {
      throw epError('EP_FILLMASK_LINE_SYNTAX', { file: path, line: i + 1 });
    }
    if (Array.isArray(o.input_ids) && typeof o.mask_index === 'number') return { ids: o.input_ids, maskIndex: o.mask_index, target: o.target_id };
    if (typeof o.text === 'string' && maskId !== undefined) {
      const ids = md.tokenizer.encode(o.text).ids;
      const maskIndex = ids.indexOf(maskId);
      if (maskIndex < 0) throw epError('EP_FILLMASK_NO_MASK', { file: path, line: i + 1 });
      const target = o.target !== undefined ? md.tokenizer.tokenId(o.target) : undefined;
      return { ids, maskIndex, target };
    }
    throw epError('EP_FILLMASK_LINE_SHAPE', { file: path, line: i + 1 });
  });
  return items;
}

/**
 * Fill-mask agreement of each variant with the reference on the same items. The reference runs once and
 * keeps only its top-5 ids per item; then one variant session at a time, so memory stays at two models
 * (a vocabulary-wide logits tensor per batch is tens of MB, and devices are small).
 */
export async function fillMaskAgreement(ref: ModelDir, variants: ReadonlyArray<{ name: string; onnxPath: string }>, items: readonly FillMaskItem[], progress?: Progress, batchSize = 16): Promise<TaskAgreement[]> {
  refuseDecoder(ref.layers, ref.onnxPath, 'fill-mask agreement (it would read causal next-token logits as a masked-LM head)');
  const hasTargets = items.every((it) => it.target !== undefined);
  const refTop = await maskedTop5(ref, ref.onnxPath, items, batchSize, (done) => progress?.step('fill-mask fp32 reference', done, items.length));
  const out: TaskAgreement[] = [];
  for (const v of variants) {
    const top = await maskedTop5(ref, v.onnxPath, items, batchSize, (done) => progress?.step(`fill-mask ${v.name}`, done, items.length));
    const counts = emptyCounts();
    items.forEach((it, i) => addRanked(counts, refTop[i], top[i], it.target));
    out.push({ task: 'fill-mask', variant: v.name, ...summarize(counts, hasTargets) });
  }
  return out;
}

/** Top-5 token ids at each item's masked position, from one model file. */
async function maskedTop5(md: ModelDir, onnxPath: string, items: readonly FillMaskItem[], batchSize: number, onBatch: (done: number) => void): Promise<number[][]> {
  const session = await createSession(onnxPath, onnxPath);
  const out: number[][] = [];
  try {
    for (let i = 0; i < items.length; i += batchSize) {
      const batch = items.slice(i, i + batchSize);
      const { feeds, seqLen } = bertFeeds(session.inputNames, batch.map((b) => b.ids), md.tokenizer.padId, session.inputMetadata);
      const logits = (await session.run(feeds)).logits;
      const V = logits.dims[2];
      const data = tensorFloats(logits);
      batch.forEach((it, b) => out.push(topK(data, Math.min(5, V), V, (b * seqLen + it.maskIndex) * V)));
      onBatch(Math.min(i + batchSize, items.length));
    }
  } finally {
    await session.release();
  }
  return out;
}

/** Label agreement of each variant with the reference on user texts, for a classification head. */
export async function classificationAgreement(ref: ModelDir, variants: ReadonlyArray<{ name: string; onnxPath: string }>, texts: readonly string[], batchSize = 16): Promise<TaskAgreement[]> {
  const refSession = await createSession(ref.onnxPath, ref.onnxPath);
  const ids = texts.map((t) => ref.tokenizer.encode(t).ids);
  const out: TaskAgreement[] = [];
  for (const v of variants) {
    const session = await createSession(v.onnxPath, v.onnxPath);
    const acc = emptyCounts();
    for (let i = 0; i < ids.length; i += batchSize) {
      const { feeds } = bertFeeds(session.inputNames, ids.slice(i, i + batchSize), ref.tokenizer.padId, session.inputMetadata);
      const [r, x] = [await refSession.run(feeds), await session.run(feeds)];
      const C = r.logits.dims[1];
      const rl = tensorFloats(r.logits);
      const vl = tensorFloats(x.logits);
      for (let b = 0; b < r.logits.dims[0]; b++) addPrediction(acc, rl, vl, C, b * C);
    }
    await session.release();
    out.push({ task: 'classification', variant: v.name, ...summarize(acc, false) });
  }
  await refSession.release();
  return out;
}

/**
 * Fill-mask items made from plain sentences when a masked-LM model has no item file: the middle word
 * piece of each sentence is masked and is the gold target (top-1 accuracy = the model restores it).
 */
export function fillMaskItemsFromSentences(md: ModelDir, sentences: readonly string[], limit: number): FillMaskItem[] {
  const maskId = md.tokenizer.maskId;
  if (maskId === undefined) return [];
  const items: FillMaskItem[] = [];
  for (const s of sentences) {
    if (items.length >= limit) break;
    const ids = md.tokenizer.encode(s).ids;
    if (ids.length < 3) continue;
    const maskIndex = Math.floor(ids.length / 2); // never [CLS] (0) or [SEP] (last) for length >= 3
    items.push({ ids: ids.map((id, i) => (i === maskIndex ? maskId : id)), maskIndex, target: ids[maskIndex] });
  }
  return items;
}
