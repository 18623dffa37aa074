import type { Progress } from '../../core/progress.ts';
import { attentionOutput, hiddenOutput } from '../../core/onnx/instrument.ts';
import type { ModelProto } from '../../core/onnx/proto.ts';
import { bertFeeds, tensorFloats } from '../../core/runtime/encoder-runner.ts';
import { InstrumentedRunner } from '../../core/runtime/instrumented-runner.ts';

/** What one model computed for one sentence, cut to its real tokens (no padding). */
export interface SentenceActivations {
  n: number;
  /** hidden[l] is [n, hiddenSize] row-major, l = 0 (embeddings output) .. L */
  hidden: Float32Array[];
  /** attention[l - 1] is [heads, n, n] row-major for layer l = 1 .. L */
  attention: Float32Array[];
}

export interface Activations {
  layers: number;
  heads: number;
  hiddenSize: number;
  /**
   * a decoder's causal mask: row i of every map spreads over positions 0..i only, so structure, rollout and
   * comparisons are judged against causal-uniform rows (probes/attention/causal-rows.ts); absent = encoder
   */
  causal?: boolean;
  sentences: SentenceActivations[];
  /** NaN/Inf in the exposed tensors: every number computed from them would be meaningless */
  gate: { ok: boolean; reasons: string[] };
}

export interface CollectOptions {
  /** skip copying hidden states when only attention is needed (randomization checks) */
  keepHidden?: boolean;
  /** padded tokens per batch; sentences are sorted by length so padding stays small */
  batchTokens?: number;
  progress?: Progress;
  stage?: string;
}

/**
 * Runs an instrumented copy of `model` over token sequences and keeps, per sentence, the hidden
 * states and attention maps edgeprobe exposes. One session serves all batches; it is released at the end.
 */
export async function collectActivations(model: ModelProto, label: string, sequences: number[][], padId: number, opts: CollectOptions = {}): Promise<Activations> {
  const runner = await InstrumentedRunner.fromProto(model, label, padId);
  const { session, layers } = runner;
  const keepHidden = opts.keepHidden ?? true;
  const order = sequences.map((s, i) => ({ i, n: s.length })).sort((a, b) => a.n - b.n);
  const batchTokens = opts.batchTokens ?? 2048;
  const sentences = new Array<SentenceActivations>(sequences.length);
  let heads = 0;
  let hiddenSize = layers.wordEmbeddingTable?.hidden ?? 0;
  let bad = 0;
  const stage = opts.stage ?? `attention: ${label}`;
  try {
    let done = 0;
    while (done < order.length) {
      const maxLen = order[Math.min(order.length - 1, done)].n;
      let end = done + 1;
      // grow the batch while the padded size (longest member x count) stays within budget
      while (end < order.length && order[end].n * (end - done + 1) <= Math.max(batchTokens, maxLen)) end++;
      const members = order.slice(done, end);
      const { feeds, seqLen } = bertFeeds(session.inputNames, members.map((m) => sequences[m.i]), padId, session.inputMetadata);
      const out = await session.run(feeds);
      const hiddenData = keepHidden ? layers.hidden.map((_, l) => out[hiddenOutput(l)]) : [];
      const attData = layers.attention.map((_, l) => out[attentionOutput(l + 1)]);
      heads = attData[0].dims[1];
      const S = seqLen;
      members.forEach((m, b) => {
        const n = m.n;
        const hidden = hiddenData.map((t) => {
          hiddenSize = t.dims[2];
          const H = hiddenSize;
          return tensorFloats(t).slice(b * S * H, b * S * H + n * H);
        });
        const attention = attData.map((t) => {
          const src = tensorFloats(t);
          const dst = new Float32Array(heads * n * n);
          for (let h = 0; h < heads; h++) {
            for (let r = 0; r < n; r++) {
              const off = ((b * heads + h) * S + r) * S;
              dst.set(src.subarray(off, off + n), (h * n + r) * n);
            }
          }
          return dst;
        });
        for (const arr of [...hidden, ...attention]) for (let k = 0; k < arr.length; k++) if (!Number.isFinite(arr[k])) { bad++; break; }
        sentences[m.i] = { n, hidden, attention };
      });
      done = end;
      opts.progress?.step(stage, done, order.length);
    }
  } finally {
    await runner.release();
  }
  const gate = bad === 0 ? { ok: true, reasons: [] } : { ok: false, reasons: [`${label}: ${bad} exposed tensor slices contain NaN or Inf`] };
  return { layers: layers.layers, heads, hiddenSize, causal: layers.architecture.kind === 'decoder', sentences, gate };
}
