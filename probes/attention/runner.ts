import { fittingCorpus } from '../../core/corpus/sentence-corpus.ts';
import { runAttentionProbe } from './run-attention-probe.ts';
import type { ProbeRunner } from '../../core/probes/contract.ts';
import type { ResolvedAttentionSettings } from './schema.ts';
import { asFleetRecord } from '../../agent/jobs/fleet-record.ts';

/**
 * The 'attention' probe for one (model, variant) item. fp32 gets the token-relation verdict with its
 * sanity checks; a compressed variant gets the survival verdict against fp32, which needs fp32's
 * activations on the same sentences again (sanity checks are fp32's and are not repeated).
 */
export const attentionRunner: ProbeRunner<ResolvedAttentionSettings> = async function* attention(ctx) {
  const a = ctx.settings;
  const corpus = fittingCorpus(ctx.reference.tokenizer, a.seed, a.sentences);
  const isRef = ctx.variant.name === 'fp32';
  ctx.note(`attention on ${corpus.sentences.length} sentences${isRef ? (a.sanityChecks ? ' with sanity checks' : '') : ', judged against fp32'}`);
  const records = await runAttentionProbe(ctx.reference, {
    corpus, seed: a.seed, variants: isRef ? [] : [ctx.variant], sanityChecks: isRef && a.sanityChecks,
  });
  const mine = records.find((r) => r.variant.name === ctx.variant.name);
  if (!mine) throw new Error(`attention probe returned no record for ${ctx.variant.name}`);
  yield asFleetRecord(mine, ctx);
};
