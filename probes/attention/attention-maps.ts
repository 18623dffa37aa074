import { ensureVariants } from '../../agent/compress/ensure-variants.ts';
import { loadUserVariant, type UserVariantSpec } from '../../agent/compress/user-variants.ts';
import type { Variant } from '../../core/variants/variant-types.ts';
import { VARIANT_NAMES, type VariantName } from '../../core/variants/variant-types.ts';
import { jsDivergence } from '../../core/numeric/distributions.ts';
import { epError } from '../../core/errors.ts';
import { loadModelDir, type ModelDir } from '../../core/model/model-dir.ts';
import { InstrumentedRunner } from '../../core/runtime/instrumented-runner.ts';
import type { AttentionMapPair, AttentionMapSource } from './schema.ts';

export type { AttentionMapPair };

/**
 * Attention heat maps for one sentence and layer, fp32 beside a variant, computed ON THE COORDINATOR.
 *
 * Why here and not in the records: a full map set is heads x S x S floats per layer, sentence and
 * variant (bert-base, 12 layers x 12 heads x 128^2 = 2.4 M numbers), far beyond the 256 KiB MQTT message
 * limit, and a fixed sentence set would not answer "show me this sentence". The maps depend only on the
 * model and variant bytes, not on the device (cross-device drift is what the benchmark fingerprints
 * measure), so the coordinator recomputes them from its own copy of the model, rebuilding the variant
 * with the same deterministic compression code the agents use, and reports whether the variant's sha256
 * equals the one the devices recorded. A user-supplied variant (a file compressed outside edgeprobe) cannot be
 * rebuilt, so the coordinator is given its own copy (`userFiles`), checked to pair with the model on start.
 */
const MAX_TOKENS = 48;
const MAX_SENTENCE_CHARS = 500;

export class AttentionMapService implements AttentionMapSource {
  private readonly runners = new Map<string, Promise<{ runner: InstrumentedRunner; sha256: string }>>();
  private readonly models = new Map<string, ModelDir>();
  private readonly userVariants = new Map<string, Variant>();
  /** one computation at a time: a burst of requests queues instead of loading many sessions at once */
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * `dirs`: model name (as the agents' configs and the records call it) -> local model directory;
   * `userFiles`: model name -> that model's user-supplied variant files (name as the records call it, path)
   */
  constructor(dirs: Record<string, string>, private readonly variantsDir?: string, userFiles: Record<string, UserVariantSpec[]> = {}) {
    for (const [name, dir] of Object.entries(dirs)) this.models.set(name, loadModelDir(dir));
    for (const [model, specs] of Object.entries(userFiles)) {
      const md = this.models.get(model);
      if (!md) throw epError('EP_MAPS_MODEL_UNKNOWN', { model, known: this.modelNames().join(', ') || 'none' });
      for (const spec of specs) this.userVariants.set(`${model}\u0000${spec.name}`, loadUserVariant(md, spec));
    }
  }

  /** Variant names maps can be computed for, per model: the built-in ones and the user files given. */
  variantNames(model: string): string[] {
    return [...VARIANT_NAMES, ...[...this.userVariants.keys()].filter((k) => k.startsWith(`${model}\u0000`)).map((k) => k.slice(model.length + 1))];
  }

  modelNames(): string[] {
    return [...this.models.keys()];
  }

  private runner(model: string, variant: string): Promise<{ runner: InstrumentedRunner; sha256: string }> {
    const key = `${model}\u0000${variant}`;
    let p = this.runners.get(key);
    if (!p) {
      const md = this.models.get(model)!;
      p = (async () => {
        const [v] = this.userVariants.has(key) ? [this.userVariants.get(key)!] : await ensureVariants(md, [variant as VariantName], this.variantsDir ? { outDir: this.variantsDir } : {});
        const vmd = v.onnxPath === md.onnxPath ? md : loadModelDir(md.dir, { onnxPath: v.onnxPath });
        return { runner: await InstrumentedRunner.create(vmd), sha256: vmd.model.sha256 };
      })();
      p.catch(() => this.runners.delete(key));
      this.runners.set(key, p);
    }
    return p;
  }

  /** Throws a coded error for an unknown model/variant or a layer out of range (the server answers 400). */
  maps(model: string, variant: string, sentence: string, layer: number): Promise<AttentionMapPair> {
    const run = this.queue.then(() => this.compute(model, variant, sentence, layer));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async compute(model: string, variant: string, sentence: string, layer: number): Promise<AttentionMapPair> {
    const md = this.models.get(model);
    if (!md) throw epError('EP_MAPS_MODEL_UNKNOWN', { model, known: this.modelNames().join(', ') || 'none' });
    if (!this.variantNames(model).includes(variant)) throw epError('EP_VARIANT_UNKNOWN', { name: variant, source: 'the attention-map request', valid: this.variantNames(model).join(', ') });
    const L = md.layers.layers;
    if (!Number.isInteger(layer) || layer < 1 || layer > L) throw epError('EP_MAPS_LAYER_OUT_OF_RANGE', { layer, layers: L });
    const text = sentence.trim();
    if (!text) throw epError('EP_MAPS_SENTENCE_EMPTY');
    if (text.length > MAX_SENTENCE_CHARS) throw epError('EP_MAPS_SENTENCE_TOO_LONG', { chars: text.length, max: MAX_SENTENCE_CHARS, tokens: MAX_TOKENS });
    const enc = md.tokenizer.encode(text);
    const ids = enc.ids.slice(0, MAX_TOKENS);
    const tokens = enc.tokens.slice(0, MAX_TOKENS);
    const [ref, cmp] = await Promise.all([this.runner(model, 'fp32'), this.runner(model, variant)]);
    const [a, b] = await Promise.all([ref.runner.run([ids]), cmp.runner.run([ids])]);
    const S = a.seqLen;
    const split = (att: Float32Array): number[][][] => Array.from({ length: a.heads }, (_, h) =>
      Array.from({ length: S }, (_, q) => Array.from(att.subarray((h * S + q) * S, (h * S + q + 1) * S))));
    const fp32 = split(a.attention[layer - 1]);
    const compressed = split(b.attention[layer - 1]);
    const jsPerHead = fp32.map((rows, h) => rows.reduce((s, row, q) => s + jsDivergence(row, compressed[h][q]), 0) / S);
    return { model, variant, layer, tokens, heads: a.heads, fp32, compressed, jsPerHead, variantSha256: cmp.sha256 };
  }

  async close(): Promise<void> {
    for (const p of this.runners.values()) await (await p.catch(() => null))?.runner.release();
    this.runners.clear();
  }
}
