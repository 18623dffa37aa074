import type { InferenceSession, Tensor } from 'onnxruntime-node';
import type { ModelDir } from '../model/model-dir.ts';
import { attentionOutput, hiddenOutput, instrumentModel, preNormOutput, type InstrumentOptions } from '../onnx/instrument.ts';
import type { LayerMap } from '../onnx/layer-detect.ts';
import type { ModelProto } from '../onnx/proto.ts';
import { encodeOnnx } from '../onnx/model-io.ts';
import { bertFeeds, tensorFloats } from './encoder-runner.ts';
import { createSession, type SessionOptions } from './ort-session.ts';

/** One instrumented forward pass over a padded batch. */
export interface InstrumentedBatch {
  seqLen: number;
  lengths: number[];
  /** hidden[l]: [batch, seqLen, hidden] for l = 0..L */
  hidden: Float32Array[];
  /** attention[l-1]: [batch, heads, seqLen, seqLen] for l = 1..L */
  attention: Float32Array[];
  heads: number;
  hiddenSize: number;
  /** LayerNorm inputs, when the runner was created with preNorm */
  preNorm: Float32Array[];
  /** every graph output by name (the model's own outputs such as `logits` included) */
  raw: Record<string, Tensor>;
}

/** A session over the instrumented form of a model (or of one of its variants). */
export class InstrumentedRunner {
  private constructor(readonly session: InferenceSession, readonly layers: LayerMap, readonly padId: number, private readonly opts: InstrumentOptions) {}

  static async create(md: ModelDir, opts: InstrumentOptions & { session?: SessionOptions } = {}): Promise<InstrumentedRunner> {
    return InstrumentedRunner.fromProto(md.model.proto, md.onnxPath, md.tokenizer.padId, opts);
  }

  /** For a graph that exists only in memory (a randomized copy for a sanity check); `label` names it in errors. */
  static async fromProto(proto: ModelProto, label: string, padId: number, opts: InstrumentOptions & { session?: SessionOptions } = {}): Promise<InstrumentedRunner> {
    const { model, layers } = instrumentModel(proto, label, opts);
    const session = await createSession(encodeOnnx(model), `${label} (instrumented)`, opts.session);
    return new InstrumentedRunner(session, layers, padId, opts);
  }

  async run(idSequences: readonly number[][]): Promise<InstrumentedBatch> {
    const { feeds, seqLen, lengths } = bertFeeds(this.session.inputNames, idSequences, this.padId, this.session.inputMetadata);
    const raw = await this.session.run(feeds);
    const L = this.layers.layers;
    const hidden = Array.from({ length: L + 1 }, (_, l) => tensorFloats(raw[hiddenOutput(l)]));
    const attention = Array.from({ length: L }, (_, i) => tensorFloats(raw[attentionOutput(i + 1)]));
    const preNorm = this.opts.preNorm ? this.layers.preNorm.map((_, i) => tensorFloats(raw[preNormOutput(i)])) : [];
    const heads = raw[attentionOutput(1)].dims[1];
    const hiddenSize = raw[hiddenOutput(0)].dims[2];
    return { seqLen, lengths, hidden, attention, heads, hiddenSize, preNorm, raw };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
