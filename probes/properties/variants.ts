import { loadModelDir, type ModelDir } from '../../core/model/model-dir.ts';
import type { Progress } from '../../core/progress.ts';
import { ensureVariants, parseVariantNames as parseNames } from '../../agent/compress/ensure-variants.ts';
import type { AnyVariantName, Variant, VariantName } from '../../core/variants/variant-types.ts';

/** `--variants` for the properties probe: default fp32 alone; fp32 always first, as the others are compared against it. */
export function parseVariantNames(spec: string | undefined): VariantName[] {
  return [...new Set<VariantName>(['fp32', ...(spec ? parseNames(spec) : [])])];
}

/** The model directory of each variant: fp32 is the source itself, compressed ones come from ensureVariants. */
export async function variantModelDirs(md: ModelDir, names: VariantName[], progress?: Progress, user: Variant[] = []): Promise<Array<{ name: AnyVariantName; md: ModelDir }>> {
  const own = names.length === 1 && names[0] === 'fp32' ? [{ name: 'fp32' as const, onnxPath: md.onnxPath }] : await ensureVariants(md, names, { progress });
  return [...own, ...user].map((v) => ({ name: v.name, md: v.name === 'fp32' ? md : loadModelDir(md.dir, { onnxPath: v.onnxPath }) }));
}
