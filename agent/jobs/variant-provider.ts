import type { ModelDir } from '../../core/model/model-dir.ts';
import { VARIANT_NAMES, type Variant, type VariantName } from '../../core/variants/variant-types.ts';

/**
 * Makes the variants a plan asks for. The default is agent/compress's `ensureVariants` (loaded on first
 * use, like the probes); tests may swap in another provider.
 */
export interface VariantProvider {
  names: readonly VariantName[];
  /** `outDir`: where built variants are cached (the agent passes a directory under its state dir) */
  ensure(md: ModelDir, names: VariantName[], opts?: { outDir?: string }): Promise<Variant[]>;
}

export const compressionProvider: VariantProvider = {
  names: VARIANT_NAMES,
  async ensure(md, names, opts = {}) {
    const { ensureVariants } = await import('../compress/ensure-variants.ts');
    return ensureVariants(md, names, { outDir: opts.outDir });
  },
};

let current: VariantProvider = compressionProvider;

export function setVariantProvider(p: VariantProvider): void {
  current = p;
}

export function variantProvider(): VariantProvider {
  return current;
}
