import { epError } from '../../core/errors.ts';

/** A wave's size: a device count, or a percentage of the job's devices ("10%", rounded up, at least one). */
export type WaveSize = number | `${number}%`;

/**
 * How a job reaches its devices in waves (docs/monitoring.md, "Staged rollouts"): the first wave, then
 * waves of `waveSize`, each one started when the previous one has finished on every device and at least
 * `intervalS` after the previous one started. A wave whose failure rate (failed, rejected or timed-out
 * targets over the wave's targets) passes `maxFailureRate` aborts the rollout: later waves are never sent.
 */
export interface RolloutSpec {
  firstWave: WaveSize;
  waveSize: WaveSize;
  intervalS: number;
  /** 0..1; a wave above it aborts (0 aborts on the first failure) */
  maxFailureRate: number;
  /** 0..1; share of a wave's devices with a regression alert on this job that aborts, checked when the next wave is due */
  maxRegressionRate?: number;
}

export const ROLLOUT_DEFAULTS = { intervalS: 60, maxFailureRate: 0.2 } as const;

/** The CLI's rollout flags as yargs hands them over (strings, so "10%" and "5" both pass). */
export interface RolloutFlags {
  'rollout-first'?: string | number;
  'rollout-wave'?: string | number;
  'rollout-interval'?: string | number;
  'rollout-max-failures'?: string | number;
  'rollout-max-regressions'?: string | number;
}

const bad = (flag: string, value: unknown, problem: string) => epError('EP_ROLLOUT_FLAG_INVALID', { flag, value: JSON.stringify(String(value)), problem });

function waveSize(flag: string, value: string | number): WaveSize {
  const text = String(value).trim();
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(text);
  if (pct) {
    const p = Number(pct[1]);
    if (!(p > 0 && p <= 100)) throw bad(flag, value, 'a percentage of the job\'s devices must be above 0% and at most 100%');
    return `${p}%`;
  }
  if (!/^\d+$/.test(text) || Number(text) < 1) throw bad(flag, value, 'give a whole number of devices (at least 1) or a percentage such as 10%');
  return Number(text);
}

/** "20%" or 0.2 -> 0.2 */
function rate(flag: string, value: string | number): number {
  const text = String(value).trim();
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(text);
  const r = pct ? Number(pct[1]) / 100 : /^\d+(?:\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!(r >= 0 && r <= 1)) throw bad(flag, value, 'give a rate between 0 and 1, or a percentage between 0% and 100%');
  return r;
}

/** The rollout the flags ask for, or undefined when none was given; every flag is checked, each with its own message. */
export function rolloutFromFlags(flags: RolloutFlags | object): RolloutSpec | undefined {
  const f = flags as RolloutFlags;
  const given = (['rollout-wave', 'rollout-interval', 'rollout-max-failures', 'rollout-max-regressions'] as const).filter((k) => f[k] !== undefined);
  if (f['rollout-first'] === undefined) {
    if (given.length) throw bad(given[0], f[given[0]], 'a rollout starts with --rollout-first (the first wave\'s size)');
    return undefined;
  }
  const firstWave = waveSize('rollout-first', f['rollout-first']);
  const interval = f['rollout-interval'] === undefined ? ROLLOUT_DEFAULTS.intervalS : Number(f['rollout-interval']);
  if (!(interval >= 0) || !Number.isFinite(interval)) throw bad('rollout-interval', f['rollout-interval'], 'give the seconds between wave starts (0 or more)');
  return {
    firstWave,
    waveSize: f['rollout-wave'] === undefined ? firstWave : waveSize('rollout-wave', f['rollout-wave']),
    intervalS: interval,
    maxFailureRate: f['rollout-max-failures'] === undefined ? ROLLOUT_DEFAULTS.maxFailureRate : rate('rollout-max-failures', f['rollout-max-failures']),
    ...(f['rollout-max-regressions'] === undefined ? {} : { maxRegressionRate: rate('rollout-max-regressions', f['rollout-max-regressions']) }),
  };
}

const devicesIn = (size: WaveSize, total: number): number =>
  Math.min(total, Math.max(1, typeof size === 'number' ? size : Math.ceil((parseFloat(size) / 100) * total)));

/** The wave (0-based) of each of `count` devices, in the order given: the operator lists the canaries first. */
export function planWaves(spec: RolloutSpec, count: number): number[] {
  const first = devicesIn(spec.firstWave, count);
  const later = devicesIn(spec.waveSize, count);
  return Array.from({ length: count }, (_, i) => (i < first ? 0 : 1 + Math.floor((i - first) / later)));
}

/** One line for `jobs list` and the report: "first 10%, then 25% every 300 s; abort above 20% failures". */
export function describeRollout(s: RolloutSpec): string {
  const reg = s.maxRegressionRate === undefined ? '' : ` or ${Math.round(s.maxRegressionRate * 100)}% regressions`;
  return `first ${s.firstWave}, then ${s.waveSize} every ${s.intervalS} s; abort above ${Math.round(s.maxFailureRate * 100)}% failures${reg}`;
}
