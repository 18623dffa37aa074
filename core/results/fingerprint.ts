import { createHash } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { RandomProjection } from '../numeric/random-projection.ts';
import { meanRows } from '../numeric/vectors.ts';

/**
 * A small, device-independent summary of a model's outputs on fixed inputs: the coordinator compares
 * fingerprints of the same model, variant and inputs across devices (cross-device consistency) and
 * against fp32 on one device (compression drift). Computed by the benchmark (probes/benchmark) on a device,
 * read by the report (coordinator/report).
 */
export const FINGERPRINT_DIMS = 32;
const FINGERPRINT_SEED = 20_240_601;
/** Only the first sentences enter the fingerprint, which keeps a benchmark record small. */
export const FINGERPRINT_SENTENCES = 16;

export const Fingerprint = Type.Object({
  method: Type.String(),
  /** sha256 of the sentences the fingerprint was computed on: only equal inputs are compared */
  inputsSha256: Type.String(),
  dims: Type.Integer(),
  /** per sentence: the mean-pooled output projected to `dims` seeded Gaussian directions */
  vectors: Type.Array(Type.Array(Type.Number())),
  /** sha256 of the raw float32 pooled outputs: equal hashes mean bit-identical outputs */
  exactSha256: Type.String(),
});
export type Fingerprint = Static<typeof Fingerprint>;

/**
 * Fingerprint from per-sentence output rows: `rows[i]` is sentence i's [tokens x width] output
 * (batch 1, so no padding enters the mean), `sentences[i]` its text.
 */
// node:crypto directly rather than core/onnx/model-io's sha256Hex: the report reads this module's types and
// helpers on the coordinator, which should not load the ONNX protobuf classes for a hash
const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

export function computeFingerprint(sentences: readonly string[], rows: ReadonlyArray<ArrayLike<number>>, width: number, outputName: string): Fingerprint {
  const n = Math.min(FINGERPRINT_SENTENCES, sentences.length, rows.length);
  const proj = new RandomProjection(width, FINGERPRINT_DIMS, FINGERPRINT_SEED);
  const vectors: number[][] = [];
  const pooledBytes: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const pooled = meanRows(rows[i], width, 0, rows[i].length / width);
    vectors.push(proj.project(pooled));
    pooledBytes.push(new Uint8Array(pooled.buffer, pooled.byteOffset, pooled.byteLength));
  }
  return {
    method: `mean-pooled ${outputName}, ${FINGERPRINT_DIMS} seeded Gaussian projections per sentence (seed ${FINGERPRINT_SEED})`,
    inputsSha256: sha256(JSON.stringify(sentences.slice(0, n))),
    dims: FINGERPRINT_DIMS,
    vectors,
    exactSha256: sha256(Buffer.concat(pooledBytes)),
  };
}
