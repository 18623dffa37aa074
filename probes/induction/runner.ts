import type { ProbeRunner } from '../../core/probes/contract.ts';
import { asFleetRecord } from '../../agent/jobs/fleet-record.ts';
import { runInductionProbe } from './run-induction.ts';
import type { ResolvedInductionSettings } from './schema.ts';

/**
 * The 'induction' probe for one (model, variant) item: fp32 yields its own record; a variant is judged head
 * by head against fp32 on the same seeded sequences (fp32 is run again, as the attention probe does).
 */
export const inductionRunner: ProbeRunner<ResolvedInductionSettings> = async function* induction(ctx) {
  const s = ctx.settings;
  const isRef = ctx.variant.name === 'fp32';
  ctx.note(`induction on ${s.sequences} repeated sequences of 2 x ${s.half} tokens${isRef ? '' : ', judged against fp32'}`);
  const records = await runInductionProbe(ctx.reference, isRef ? [] : [ctx.variant], s);
  const mine = records.find((r) => r.variant.name === ctx.variant.name);
  if (!mine) throw new Error(`induction probe returned no record for ${ctx.variant.name}`);
  yield asFleetRecord(mine, ctx);
};
