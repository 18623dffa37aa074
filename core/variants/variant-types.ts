import { Type } from '@sinclair/typebox';

/**
 * Variants edgeprobe makes from an FP32 model; `fp32` is the source itself. The one list of their names:
 * plans, configs, the CLI, the report's and the dashboard's order all take it from here.
 */
export const VARIANT_NAMES = ['fp32', 'fp16', 'int8-dynamic', 'int8-weight', 'int8-static', 'int4-weight'] as const;
export type VariantName = (typeof VARIANT_NAMES)[number];

export const VariantNameSchema = Type.Union(VARIANT_NAMES.map((v) => Type.Literal(v)), { description: `a variant: ${VARIANT_NAMES.join(', ')}` });

/**
 * A user-supplied variant (a file compressed by another tool) is named by its user: lower-case letters,
 * digits, '.', '_' and '-', starting with a letter, and never a built-in name (so `fp32` always means
 * the source and a built-in name always means edgeprobe's own recipe). Where a plan lists variants, a
 * user name must also be declared in the plan's `userVariants`, so a misspelt built-in is still refused.
 */
export const USER_VARIANT_PATTERN = `^(?!(?:${VARIANT_NAMES.join('|')})$)[a-z][a-z0-9._-]{0,39}$`;
export type UserVariantName = string & { readonly userVariant: true };
export type AnyVariantName = VariantName | UserVariantName;
export const UserVariantNameSchema = Type.String({ pattern: USER_VARIANT_PATTERN, description: 'a user-supplied variant name (lower-case letters, digits, . _ -; not a built-in name)' });
/** Where a record or plan names a variant: a built-in name (checked exactly) or a user variant's name. */
export const AnyVariantNameSchema = Type.Union([VariantNameSchema, UserVariantNameSchema]);

export function isBuiltinVariant(name: string): name is VariantName {
  return (VARIANT_NAMES as readonly string[]).includes(name);
}

export function isUserVariantName(name: string): name is UserVariantName {
  return new RegExp(USER_VARIANT_PATTERN).test(name);
}

/** fp32 first, then the variants in the list's order, names not in the list last (alphabetically). */
export function byVariant(a: string, b: string): number {
  const rank = (v: string): number => {
    const i = (VARIANT_NAMES as readonly string[]).indexOf(v);
    return i < 0 ? VARIANT_NAMES.length : i;
  };
  return rank(a) - rank(b) || a.localeCompare(b);
}

export interface VariantManifest {
  variant: AnyVariantName;
  method: string;
  parameters: Record<string, unknown>;
  source: { path: string; sha256: string; bytes: number };
  sha256: string;
  bytes: number;
  /** how the variant computes on the execution provider it was checked on, e.g. "fp16 weights, cast to fp32 at load (CPU EP)" */
  compute: string;
  createdAt: string;
  edgeprobeVersion: string;
  /** quantization detected in the variant's graph (core/onnx/quantization-detect.ts): forms and a one-line summary */
  quantization?: { forms: string[]; summary: string };
  /** set for a user-supplied file: where it came from */
  userSupplied?: { path: string };
}

export interface Variant {
  name: AnyVariantName;
  onnxPath: string;
  manifest: VariantManifest;
}
