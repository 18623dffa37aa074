import { join } from 'node:path';
import { epError } from '../../core/errors.ts';
import { runPropertiesProbes } from './properties-probe.ts';
import type { ProbeRunner } from '../../core/probes/contract.ts';
import type { ResolvedPropertiesSettings } from './schema.ts';
import { asFleetRecord } from '../../agent/jobs/fleet-record.ts';

const NAMED_SETS = new Set(['mcrae', 'buchanan', 'binder']);

/**
 * The 'properties' probe for one (model, variant) item: every norm set the plan names, from the agent's
 * own norms directory. A compressed variant is run beside fp32 so its record says whether the verdict or
 * the ranking of layers changed (fp32's concept embeddings come from the probe's SQLite cache).
 */
export const propertiesRunner: ProbeRunner<ResolvedPropertiesSettings> = async function* properties(ctx) {
  const p = ctx.settings;
  if (!p) throw epError('EP_PLAN_PROPERTIES_MISSING');
  if (!ctx.normsDir) throw epError('EP_AGENT_NO_NORMS_DIR');
  const norms = p.norms.map((n) => (NAMED_SETS.has(n) ? n : join(ctx.normsDir!, n)));
  const isRef = ctx.variant.name === 'fp32';
  ctx.note(`properties on ${p.norms.join(', ')}${isRef ? '' : ', compared with fp32'}`);
  const records = await runPropertiesProbes({
    md: ctx.reference, norms, normsDir: ctx.normsDir, variants: [],
    variantDirs: isRef ? [{ name: 'fp32', md: ctx.reference }] : [{ name: 'fp32', md: ctx.reference }, { name: ctx.variant.name, md: ctx.model }],
    layers: p.layers, mapper: p.mapper, folds: p.folds, seed: p.seed,
  });
  for (const r of records) if (r.variant.name === ctx.variant.name) yield asFleetRecord(r, ctx);
};
