import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { epError } from '../../core/errors.ts';
import type { ModelDir } from '../../core/model/model-dir.ts';
import type { PlanUserVariant } from '../../core/protocol/plan.ts';
import type { Variant } from '../../core/variants/variant-types.ts';
import { loadUserVariant, userVariantName } from '../compress/user-variants.ts';
import { fetchVerified } from '../config/model-source.ts';

/**
 * The plan's user-supplied variants of one model, as local files checked against their pins: a `file`
 * is looked up by bare name in the agent's userVariantsDir (the plan check already refused plans when
 * there is none), a `url` is downloaded there under its sha256. loadUserVariant re-hashes the file, so a
 * file edited after download is refused too.
 */
export async function planUserVariants(reference: ModelDir, modelName: string, declared: readonly PlanUserVariant[] | undefined, dir: string | undefined): Promise<Variant[]> {
  const mine = (declared ?? []).filter((u) => u.model === modelName);
  if (mine.length === 0) return [];
  if (!dir) throw epError('EP_AGENT_NO_USER_VARIANTS_DIR', { name: mine[0].name });
  const out: Variant[] = [];
  for (const u of mine) {
    let path: string;
    if ('file' in u) {
      path = join(dir, u.file);
    } else {
      mkdirSync(dir, { recursive: true });
      path = join(dir, `${u.sha256}.onnx`);
      await fetchVerified(u.url, u.sha256, path);
    }
    out.push(loadUserVariant(reference, { name: userVariantName(u.name, 'the plan'), path, sha256: u.sha256 }));
  }
  return out;
}
