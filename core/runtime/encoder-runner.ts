import type * as ortTypes from 'onnxruntime-node';
import { epError } from '../errors.ts';
import { ort } from './ort-session.ts';

/** The encoder inputs edgeprobe knows how to fill; decoder exports may also take an (empty) key/value cache. */
export const KNOWN_INPUTS = ['input_ids', 'attention_mask', 'token_type_ids', 'position_ids', 'past_key_values.*', 'use_cache_branch'];

/**
 * A decoder's key/value-cache input (optimum / HF names: `past_key_values.{l}.key|value`, older `past.{l}`...).
 * edgeprobe always runs a whole sequence at once (prefill), so the cache is fed empty: [batch, heads, 0, headDim].
 */
export function isPastInput(name: string): boolean {
  return /^past(_key_values?)?[._]/.test(name);
}

/**
 * Declared [batch, kvHeads, pastSequence, headDim] of a cache input: heads and head width must be fixed numbers,
 * and the past length free. A fixed past length (a static-cache export) means the graph cannot run without a
 * cache of exactly that many positions, so it is refused by the same error rather than by onnxruntime mid-run.
 */
export function pastShape(name: string, dims: ReadonlyArray<number | string> | undefined, file = 'the model'): [number, number] {
  const heads = dims?.[1];
  const width = dims?.[3];
  const past = dims?.[2];
  if (dims?.length !== 4 || typeof heads !== 'number' || typeof width !== 'number' || (typeof past === 'number' && past > 0)) {
    throw epError('EP_MODEL_KV_CACHE_SHAPE', { file, input: name, shape: `[${(dims ?? []).join(', ')}]` });
  }
  return [heads, width];
}

export interface BatchFeeds { feeds: Record<string, ortTypes.Tensor>; seqLen: number; lengths: number[] }

/**
 * Pads token-id sequences into the BERT input triple. Only the inputs the graph declares are fed
 * (DistilBERT-style exports have no token_type_ids); exports that take `position_ids` get 0..n-1 per row,
 * which is what the model computes itself when it has no such input.
 */
export function bertFeeds(inputNames: readonly string[], sequences: readonly number[][], padId: number, metadata?: readonly ortTypes.InferenceSession.ValueMetadata[]): BatchFeeds {
  const batch = sequences.length;
  const seqLen = Math.max(...sequences.map((s) => s.length));
  const ids = new BigInt64Array(batch * seqLen).fill(BigInt(padId));
  const mask = new BigInt64Array(batch * seqLen);
  sequences.forEach((s, b) => s.forEach((id, i) => { ids[b * seqLen + i] = BigInt(id); mask[b * seqLen + i] = 1n; }));
  const dims = [batch, seqLen];
  const feeds: Record<string, ortTypes.Tensor> = {};
  for (const name of inputNames) {
    if (name === 'input_ids') feeds[name] = new ort.Tensor('int64', ids, dims);
    else if (name === 'attention_mask') feeds[name] = new ort.Tensor('int64', mask, dims);
    else if (name === 'token_type_ids') feeds[name] = new ort.Tensor('int64', new BigInt64Array(batch * seqLen), dims);
    else if (name === 'position_ids') feeds[name] = new ort.Tensor('int64', BigInt64Array.from({ length: batch * seqLen }, (_, i) => BigInt(i % seqLen)), dims);
    else if (name === 'use_cache_branch') feeds[name] = new ort.Tensor('bool', [false], [1]);
    else if (isPastInput(name)) {
      const meta = metadata?.find((m) => m.name === name);
      const [heads, width] = pastShape(name, meta?.isTensor ? meta.shape : undefined);
      const fp16 = meta?.isTensor && meta.type === 'float16';
      feeds[name] = fp16 ? new ort.Tensor('float16', new Uint16Array(0), [batch, heads, 0, width]) : new ort.Tensor('float32', new Float32Array(0), [batch, heads, 0, width]);
    }
    else throw epError('EP_MODEL_INPUT_UNKNOWN', { input: name, known: KNOWN_INPUTS.join(', ') });
  }
  return { feeds, seqLen, lengths: sequences.map((s) => s.length) };
}

export function tensorFloats(t: ortTypes.Tensor): Float32Array {
  if (t.type !== 'float32') throw new Error(`expected a float32 output, got ${t.type}`);
  return t.data as Float32Array;
}
