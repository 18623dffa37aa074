import type { ModelDir } from '../../core/model/model-dir.ts';
import type { ResolvedVariantSettings } from '../../core/variants/recipe-settings.ts';
import { VARIANT_NAMES, type Variant, type VariantName } from '../../core/variants/variant-types.ts';

/**
 * Makes the variants a plan asks for. The default is agent/compress's `ensureVariants` (loaded on first
 * use, like the probes); tests may swap in another provider.
 */
export interface VariantProvider {
  names: readonly VariantName[];
  /** `outDir`: where built variants are cached (the agent passes a directory under its state dir); `settings`: the plan's variantSettings */
  ensure(md: ModelDir, names: VariantName[], opts?: { outDir?: string; settings?: ResolvedVariantSettings }): Promise<Variant[]>;
}

export const compressionProvider: VariantProvider = {
  names: VARIANT_NAMES,
  async ensure(md, names, opts = {}) {
    const { ensureVariants } = await import('../compress/ensure-variants.ts');
    return ensureVariants(md, names, { outDir: opts.outDir, ...opts.settings });
  },
};

let current: VariantProvider = compressionProvider;

export function setVariantProvider(p: VariantProvider): void {
  current = p;
}

export function variantProvider(): VariantProvider {
  return current;
}
