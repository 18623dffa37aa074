import { join } from 'node:path';
import { UserError } from '../../core/errors.ts';
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
  if (!p) throw new UserError('the plan asks for the properties probe but has no properties block', 'add "settings": { "properties": { "norms": ["mcrae"] } } to the plan');
  if (!ctx.normsDir) throw new UserError('this agent has no normsDir, so it cannot run the properties probe', 'set normsDir in the agent config to a directory holding mcrae/, buchanan/, binder/ or CSV norm files');
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
