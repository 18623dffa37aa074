/** Variants edgeprobe makes from an FP32 model; `fp32` is the source itself. */
export const VARIANT_NAMES = ['fp32', 'fp16', 'int8-dynamic', 'int8-weight'] as const;
export type VariantName = (typeof VARIANT_NAMES)[number];

export interface VariantManifest {
  variant: VariantName;
  method: string;
  parameters: Record<string, unknown>;
  source: { path: string; sha256: string; bytes: number };
  sha256: string;
  bytes: number;
  /** how the variant computes on the execution provider it was checked on, e.g. "fp16 weights, cast to fp32 at load (CPU EP)" */
  compute: string;
  createdAt: string;
  edgeprobeVersion: string;
}

export interface Variant {
  name: VariantName;
  onnxPath: string;
  manifest: VariantManifest;
}
