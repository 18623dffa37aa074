import type { VerdictStatus } from '../../core/results/probe-record.ts';
import type { RandomizationStep } from './randomization.ts';
import type { SurvivalVerdict, TokenRelationVerdict } from './verdicts.ts';

/** Whether the fp32 explanation a survival verdict compares against is itself valid. */
export interface ReferenceValidity {
  /** null: the fp32 sanity checks were not run, so nobody knows */
  valid: boolean | null;
  /** the checks the fp32 explanation fails, in words */
  failedChecks: string[];
}

export function attentionReferenceValidity(relation: TokenRelationVerdict, randomization: readonly RandomizationStep[] | undefined, layers: number): ReferenceValidity {
  if (relation.sanityPassed === null || !randomization) return { valid: null, failedChecks: [] };
  const steps = (xs: readonly RandomizationStep[]): string => xs.map((s) => `${s.randomizedFrom}-${layers}`).join(', ');
  const att = randomization.filter((s) => !s.attentionChanged);
  const roll = randomization.filter((s) => !s.rolloutChanged);
  const failedChecks = [
    ...(att.length ? [`its randomization check for attention maps (they barely change with layers ${steps(att)} re-drawn)`] : []),
    ...(roll.length ? [`its randomization check for rollout (the token ranking is kept with layers ${steps(roll)} re-drawn)`] : []),
  ];
  return { valid: failedChecks.length === 0, failedChecks };
}

/**
 * A survival verdict joined with the validity of its fp32 reference: surviving compression is only good news
 * for an explanation that was valid to begin with, so "survives" against an fp32 explanation that fails a
 * sanity check becomes its own status, `survives-invalid-reference`, never counted as keeping an explanation.
 */
export function survivalWithReference(v: SurvivalVerdict, ref: ReferenceValidity): { status: VerdictStatus; summary: string } {
  const body = v.summary.replace(/\.$/, '');
  if (ref.valid === false) {
    const fails = `the fp32 explanation fails ${ref.failedChecks.join(' and ')}`;
    return v.status === 'survives'
      ? { status: 'survives-invalid-reference', summary: `${body}, but ${fails}: what survives is an explanation that was not valid to begin with.` }
      : { status: v.status, summary: `${body}; and ${fails}.` };
  }
  if (ref.valid === null) return { status: v.status, summary: `${body}; the fp32 explanation's sanity checks were not run, so its validity is unknown.` };
  return { status: v.status, summary: `${body}; the fp32 explanation passes its sanity checks.` };
}
