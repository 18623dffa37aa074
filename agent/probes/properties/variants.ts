import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../../core/errors.ts';
import { loadModelDir, type ModelDir } from '../../../core/model/model-dir.ts';
import type { Progress } from '../../../core/progress.ts';
import { VARIANT_NAMES, type Variant, type VariantName } from '../../compress/variant-types.ts';

type EnsureVariants = (md: ModelDir, names: VariantName[], opts?: { outDir?: string; progress?: Progress }) => Promise<Variant[]>;

export function parseVariantNames(spec: string | undefined): VariantName[] {
  if (!spec) return ['fp32'];
  const names = spec === 'all' ? [...VARIANT_NAMES] : spec.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!(VARIANT_NAMES as readonly string[]).includes(n)) throw new UserError(`--variants: unknown variant '${n}'`, `use a comma list of ${VARIANT_NAMES.join(', ')} or all`);
  // fp32 first: the other variants are compared against it
  return [...new Set<VariantName>(['fp32', ...(names as VariantName[])])];
}

/**
 * The model directory of each variant. fp32 is the source itself; compressed variants come from the
 * compression stage's ensureVariants, loaded at run time so this probe works on branches without it.
 */
export async function variantModelDirs(md: ModelDir, names: VariantName[], progress?: Progress): Promise<Array<{ name: VariantName; md: ModelDir }>> {
  if (names.length === 1 && names[0] === 'fp32') return [{ name: 'fp32', md }];
  const url = new URL('../../compress/ensure-variants.ts', import.meta.url);
  if (!existsSync(fileURLToPath(url))) {
    throw new UserError(`compressed variants (${names.filter((n) => n !== 'fp32').join(', ')}) need the compression stage (agent/compress/ensure-variants.ts), which this build lacks`, 'run with --variants fp32, or use a build that includes model compression');
  }
  const mod = (await import(url.href)) as { ensureVariants: EnsureVariants };
  const variants = await mod.ensureVariants(md, names, { progress });
  return variants.map((v) => ({ name: v.name, md: v.name === 'fp32' ? md : loadModelDir(md.dir, { onnxPath: v.onnxPath }) }));
}
