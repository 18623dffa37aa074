import type { ModelDir } from '../../core/model/model-dir.ts';
import type { Variant } from '../../core/variants/variant-types.ts';

/** `--variant NAME=PATH`: a file compressed outside edgeprobe, measured beside its fp32 source under NAME. */
export const USER_VARIANT_OPTION = {
  type: 'string',
  array: true,
  describe: 'a compressed file of this model made by another tool, as NAME=PATH (repeatable); judged against the fp32 model under NAME, with the quantization found in it',
} as const;

/**
 * The model is the fp32 reference (refused when it is itself quantized) and the user's files are loaded
 * as its variants. Loaded lazily, like the commands' engines.
 */
export async function referenceAndUserVariants(md: ModelDir, flag: unknown): Promise<Variant[]> {
  const { requireFp32Source } = await import('../../core/model/source-check.ts');
  const { requireRunnableInputs } = await import('../../core/model/input-shapes.ts');
  const { loadUserVariant, parseUserVariantFlags } = await import('../../agent/compress/user-variants.ts');
  const specs = parseUserVariantFlags(flag);
  requireRunnableInputs(md.model.proto.graph, md.onnxPath);
  requireFp32Source(md);
  return specs.map((s) => loadUserVariant(md, s));
}
