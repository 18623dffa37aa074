import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../../core/errors.ts';
import type { ModelDir } from '../../../core/model/model-dir.ts';
import type { Progress } from '../../../core/progress.ts';
import { VARIANT_NAMES, type Variant, type VariantName } from '../../compress/variant-types.ts';

export type EnsureVariants = (md: ModelDir, names: VariantName[], opts?: { outDir?: string; progress?: Progress }) => Promise<Variant[]>;

const ENSURE_VARIANTS_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'compress', 'ensure-variants.ts');

/** Parses `--variants fp16,int8-dynamic`; `none` (or an empty list) means fp32 only. */
export function parseVariantNames(list: string): VariantName[] {
  const names = list.split(',').map((s) => s.trim()).filter((s) => s.length > 0 && s !== 'none');
  for (const n of names) {
    if (!(VARIANT_NAMES as readonly string[]).includes(n)) throw new UserError(`unknown variant "${n}"`, `choose from ${VARIANT_NAMES.join(', ')} (comma-separated), or none`);
  }
  return [...new Set(names)] as VariantName[];
}

/**
 * The compression stage's ensureVariants, loaded at run time: the attention probe is built beside it and
 * must still run fp32-only (`--variants none`) where the compression module is absent.
 */
export async function loadEnsureVariants(): Promise<EnsureVariants> {
  if (!existsSync(ENSURE_VARIANTS_PATH)) {
    throw new UserError('this build has no compression module (agent/compress/ensure-variants.ts), so variants cannot be made', 'run with --variants none to probe the fp32 model only');
  }
  const mod = (await import(ENSURE_VARIANTS_PATH)) as { ensureVariants: EnsureVariants };
  return mod.ensureVariants;
}
