import { sha256Hex } from '../../core/onnx/model-io.ts';
import { hiddenOutput, WORD_EMBEDDINGS_OUTPUT } from '../../core/onnx/instrument.ts';
import { refuseDecoder } from '../../core/model/architecture-guard.ts';
import { InstrumentedRunner } from '../../core/runtime/instrumented-runner.ts';
import { bertFeeds, tensorFloats } from '../../core/runtime/encoder-runner.ts';
import type { ModelDir } from '../../core/model/model-dir.ts';
import type { Progress } from '../../core/progress.ts';
import { epError } from '../../core/errors.ts';
import { EmbeddingCache } from './embedding-cache.ts';

/** `static` = rows of the word-embedding table; `L0` = embedding block output; `L1..Ln` = layer outputs. */
export type Representation = string;

export interface Coverage {
  words: number;
  covered: number;
  /** words that split into several word pieces (their pieces are averaged) */
  multiPiece: number;
  /** words with an unknown piece: dropped, listed */
  missing: string[];
}

export interface ConceptEmbeddings {
  hidden: number;
  /** representation -> word -> vector */
  vectors: Map<Representation, Map<string, Float32Array>>;
  coverage: Coverage;
  cached: boolean;
}

export function representationNames(layers: number): Representation[] {
  return ['static', ...Array.from({ length: layers + 1 }, (_, l) => `L${l}`)];
}

export interface EmbedOptions {
  templates: string[];
  variant: string;
  batchSize?: number;
  progress?: Progress;
  cache?: EmbeddingCache | null;
}

/** Where the word's pieces sit in the encoded template: first match of the piece id sequence. */
export function findSpan(ids: readonly number[], pieces: readonly number[]): number {
  outer: for (let s = 0; s + pieces.length <= ids.length; s++) {
    for (let j = 0; j < pieces.length; j++) if (ids[s + j] !== pieces[j]) continue outer;
    return s;
  }
  return -1;
}

/**
 * Static and contextual concept embeddings: each word is put into every template, the model runs on
 * the batch, and the hidden states at the word's pieces are averaged over pieces and templates. The
 * static embedding is the mean of the word's rows of the embedding table (read from the graph's
 * word-embedding output, so any variant's table dequantisation is what the model itself computes).
 */
export async function conceptEmbeddings(md: ModelDir, words: readonly string[], opts: EmbedOptions): Promise<ConceptEmbeddings> {
  if (opts.templates.length === 0 || opts.templates.some((t) => !t.includes('{word}'))) {
    throw epError('EP_TEMPLATE_NO_WORD_SLOT', { templates: JSON.stringify(opts.templates) });
  }
  refuseDecoder(md.layers, md.onnxPath, 'the properties probe (concept embeddings read from bidirectional contexts)');
  const tok = md.tokenizer;
  const unk = tok.tokenId('[UNK]');
  const unique = [...new Set(words)];
  const missing: string[] = [];
  let multiPiece = 0;
  const usable: string[] = [];
  for (const w of unique) {
    const { ids } = tok.pieces(w);
    if (ids.length === 0 || (unk !== undefined && ids.includes(unk))) { missing.push(w); continue; }
    if (ids.length > 1) multiPiece++;
    usable.push(w);
  }
  const reps = representationNames(md.layers.layers);
  const key = { modelSha: md.model.sha256, variant: opts.variant, templatesHash: sha256Hex(JSON.stringify(opts.templates)).slice(0, 16) };
  const vectors = new Map<Representation, Map<string, Float32Array>>();
  const cache = opts.cache === undefined ? new EmbeddingCache() : opts.cache;
  let todo = usable;
  if (cache) {
    for (const r of reps) vectors.set(r, cache.get(key, r, usable));
    todo = usable.filter((w) => reps.some((r) => !vectors.get(r)!.has(w)));
  } else for (const r of reps) vectors.set(r, new Map());
  const coverage: Coverage = { words: unique.length, covered: usable.length, multiPiece, missing };
  if (todo.length === 0) {
    cache?.close();
    return { hidden: md.layers.wordEmbeddingTable?.hidden ?? vectors.get('L0')!.values().next().value!.length, vectors, coverage, cached: true };
  }
  const runner = await InstrumentedRunner.create(md);
  const { session } = runner;
  const outputs = [WORD_EMBEDDINGS_OUTPUT, ...Array.from({ length: md.layers.layers + 1 }, (_, l) => hiddenOutput(l))];
  if (!session.outputNames.includes(WORD_EMBEDDINGS_OUTPUT)) {
    await runner.release();
    throw epError('EP_MODEL_NO_WORD_EMBEDDING', { file: md.onnxPath });
  }
  const items: Array<{ word: string; ids: number[]; start: number; len: number }> = [];
  for (const w of todo) {
    const pieces = tok.pieces(w).ids;
    for (const t of opts.templates) {
      const enc = tok.encode(t.replaceAll('{word}', w));
      const start = findSpan(enc.ids, pieces);
      if (start < 0) { opts.progress?.warn(`'${w}' tokenises differently inside "${t}"; that template is skipped for it`); continue; }
      items.push({ word: w, ids: enc.ids, start, len: pieces.length });
    }
  }
  let hidden = 0;
  const sums = new Map<Representation, Map<string, Float64Array>>(reps.map((r) => [r, new Map()]));
  const counts = new Map<string, number>();
  const batch = opts.batchSize ?? 64;
  for (let b = 0; b < items.length; b += batch) {
    const chunk = items.slice(b, b + batch);
    const { feeds, seqLen } = bertFeeds(session.inputNames, chunk.map((c) => c.ids), tok.padId, session.inputMetadata);
    const res = await session.run(feeds, outputs);
    outputs.forEach((name, o) => {
      const rep = reps[o];
      const data = tensorFloats(res[name]);
      hidden = data.length / (chunk.length * seqLen);
      chunk.forEach((it, i) => {
        const acc = sums.get(rep)!.get(it.word) ?? new Float64Array(hidden);
        for (let p = it.start; p < it.start + it.len; p++) {
          const off = (i * seqLen + p) * hidden;
          for (let h = 0; h < hidden; h++) acc[h] += data[off + h] / it.len;
        }
        sums.get(rep)!.set(it.word, acc);
      });
    });
    chunk.forEach((it) => counts.set(it.word, (counts.get(it.word) ?? 0) + 1));
    opts.progress?.step(`embeddings ${opts.variant}`, Math.min(b + batch, items.length), items.length);
  }
  // the session holds the model's weights; release it before the caller fits mappers
  await runner.release();
  for (const r of reps) {
    const fresh = new Map<string, Float32Array>();
    for (const [w, acc] of sums.get(r)!) fresh.set(w, Float32Array.from(acc, (x) => x / counts.get(w)!));
    for (const [w, v] of fresh) vectors.get(r)!.set(w, v);
    cache?.put(key, r, fresh);
  }
  cache?.close();
  const lost = todo.filter((w) => !counts.has(w));
  for (const w of lost) { missing.push(w); coverage.covered--; }
  return { hidden, vectors, coverage, cached: false };
}
