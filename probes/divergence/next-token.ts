import { epError } from '../../core/errors.ts';
import type { ModelDir } from '../../core/model/model-dir.ts';
import { bertFeeds, tensorFloats } from '../../core/runtime/encoder-runner.ts';
import { createSession } from '../../core/runtime/ort-session.ts';
import { addPrediction, emptyCounts, summarize } from './task-agreement.ts';
import type { TaskAgreement } from './task-eval.ts';

/** Natural-log probability of `target` under the logits row at `off` (log-softmax, max-shifted). */
export function logProb(logits: ArrayLike<number>, vocab: number, off: number, target: number): number {
  let max = -Infinity;
  for (let v = 0; v < vocab; v++) max = Math.max(max, logits[off + v]);
  let sum = 0;
  for (let v = 0; v < vocab; v++) sum += Math.exp(logits[off + v] - max);
  return logits[off + target] - max - Math.log(sum);
}

/**
 * Next-token agreement of a causal LM's variants with the reference on token sequences: at every position
 * but the last of each sequence, top-1 agreement and top-5 overlap of the two next-token distributions,
 * top-1 accuracy against the token that follows, and perplexity exp(mean -ln p(next token)) of each side.
 * The reference runs beside each variant (two sessions at a time); batches are sized so one logits
 * tensor stays under ~64 MB at the model's vocabulary.
 */
export async function nextTokenAgreement(ref: ModelDir, variants: ReadonlyArray<{ name: string; onnxPath: string }>, sequences: readonly number[][]): Promise<TaskAgreement[]> {
  const usable = sequences.filter((s) => s.length >= 2);
  if (usable.length === 0) return [];
  const refSession = await createSession(ref.onnxPath, ref.onnxPath);
  const out: TaskAgreement[] = [];
  try {
    if (!refSession.outputNames.includes('logits')) throw epError('EP_MODEL_NO_LOGITS', { file: ref.onnxPath });
    const longest = Math.max(...usable.map((s) => s.length));
    const vocab = ref.layers.wordEmbeddingTable?.vocab ?? ref.tokenizer.vocabSize;
    const batchSize = Math.max(1, Math.min(16, Math.floor(16e6 / (longest * vocab))));
    for (const v of variants) {
      const session = await createSession(v.onnxPath, v.onnxPath);
      const acc = emptyCounts();
      let nllRef = 0;
      let nllVar = 0;
      try {
        for (let i = 0; i < usable.length; i += batchSize) {
          const batch = usable.slice(i, i + batchSize);
          const { feeds, seqLen } = bertFeeds(session.inputNames, batch, ref.tokenizer.padId, session.inputMetadata);
          const [r, x] = [await refSession.run(feeds), await session.run(feeds)];
          const V = r.logits.dims[2];
          const rl = tensorFloats(r.logits);
          const vl = tensorFloats(x.logits);
          batch.forEach((seq, b) => {
            for (let p = 0; p + 1 < seq.length; p++) {
              const off = (b * seqLen + p) * V;
              addPrediction(acc, rl, vl, V, off, seq[p + 1]);
              nllRef -= logProb(rl, V, off, seq[p + 1]);
              nllVar -= logProb(vl, V, off, seq[p + 1]);
            }
          });
        }
      } finally {
        await session.release();
      }
      const s = summarize(acc, true);
      out.push({ task: 'next-token', variant: v.name, ...s, perplexityFp32: Math.exp(nllRef / s.items), perplexity: Math.exp(nllVar / s.items) });
    }
  } finally {
    await refSession.release();
  }
  return out;
}
