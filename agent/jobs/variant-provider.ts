import { statSync } from 'node:fs';
import { UserError } from '../../core/errors.ts';
import type { ModelDir } from '../../core/model/model-dir.ts';
import type { Variant, VariantName } from '../compress/variant-types.ts';

/**
 * Makes the variants a plan asks for. The compression stage plugs in `ensureVariants`
 * (agent/compress/ensure-variants.ts) with all four names; until then an agent offers fp32 only.
 */
export interface VariantProvider {
  names: readonly VariantName[];
  ensure(md: ModelDir, names: VariantName[]): Promise<Variant[]>;
}

export const fp32OnlyProvider: VariantProvider = {
  names: ['fp32'],
  async ensure(md, names) {
    const other = names.find((n) => n !== 'fp32');
    if (other) throw new UserError(`variant ${other} is not available in this agent build`, 'plan fp32, or use an agent with the compression stage');
    const bytes = statSync(md.onnxPath).size;
    const source = { path: md.onnxPath, sha256: md.model.sha256, bytes };
    return [{
      name: 'fp32',
      onnxPath: md.onnxPath,
      manifest: {
        variant: 'fp32', method: 'source', parameters: {}, source, sha256: md.model.sha256, bytes,
        compute: 'fp32 (source model)', createdAt: new Date().toISOString(), edgeprobeVersion: '0.1.0',
      },
    }];
  },
};

let current: VariantProvider = fp32OnlyProvider;

export function setVariantProvider(p: VariantProvider): void {
  current = p;
}

export function variantProvider(): VariantProvider {
  return current;
}
