import { Type } from '@sinclair/typebox';

/**
 * Variants edgeprobe makes from an FP32 model; `fp32` is the source itself. The one list of their names:
 * plans, configs, the CLI, the report's and the dashboard's order all take it from here.
 */
export const VARIANT_NAMES = ['fp32', 'fp16', 'int8-dynamic', 'int8-weight'] as const;
export type VariantName = (typeof VARIANT_NAMES)[number];

export const VariantNameSchema = Type.Union(VARIANT_NAMES.map((v) => Type.Literal(v)), { description: `a variant: ${VARIANT_NAMES.join(', ')}` });

/** fp32 first, then the variants in the list's order, names not in the list last (alphabetically). */
export function byVariant(a: string, b: string): number {
  const rank = (v: string): number => {
    const i = (VARIANT_NAMES as readonly string[]).indexOf(v);
    return i < 0 ? VARIANT_NAMES.length : i;
  };
  return rank(a) - rank(b) || a.localeCompare(b);
}

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
