import type * as ortTypes from 'onnxruntime-node';
import { ort } from './ort-session.ts';

export interface BatchFeeds { feeds: Record<string, ortTypes.Tensor>; seqLen: number; lengths: number[] }

/**
 * Pads token-id sequences into the BERT input triple. Only the inputs the graph declares are fed
 * (DistilBERT-style exports have no token_type_ids).
 */
export function bertFeeds(inputNames: readonly string[], sequences: readonly number[][], padId: number): BatchFeeds {
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
    else throw new Error(`model input ${name} is not one of input_ids, attention_mask, token_type_ids`);
  }
  return { feeds, seqLen, lengths: sequences.map((s) => s.length) };
}

export function tensorFloats(t: ortTypes.Tensor): Float32Array {
  if (t.type !== 'float32') throw new Error(`expected a float32 output, got ${t.type}`);
  return t.data as Float32Array;
}
