import type { Argv } from 'yargs';

/** The staged-rollout flags of `jobs submit` and `jobs schedule add` (checked by coordinator/rollouts/rollout-spec.ts). */
export function rolloutOptions<T>(c: Argv<T>): Argv<T> {
  return c
    .option('rollout-first', { type: 'string', describe: 'roll out in waves, in the order --devices lists them: the first wave\'s size, a count or a percentage (e.g. 2 or 10%)' })
    .option('rollout-wave', { type: 'string', describe: 'size of each later wave (count or percentage; default: the first wave\'s)' })
    .option('rollout-interval', { type: 'string', describe: 'seconds from one wave\'s start to the next; a wave also waits for the previous one to finish everywhere (default 60)' })
    .option('rollout-max-failures', { type: 'string', describe: 'abort when a wave\'s failed, rejected or timed-out share passes this (0.2 or 20%, default 20%); later waves are never sent' })
    .option('rollout-max-regressions', { type: 'string', describe: 'also abort when this share of a wave\'s devices raised a regression alert on the job (checked when the next wave is due)' })
    .group(['rollout-first', 'rollout-wave', 'rollout-interval', 'rollout-max-failures', 'rollout-max-regressions'], 'Staged rollout:');
}
