import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import { crossDeviceConsistency, DEFAULT_TOLERANCE } from '../report/consistency.ts';
import { fingerprintChanges, type RunPoint, type Series } from './series.ts';

export type RegressionKind = 'verdict-flip' | 'task-agreement-drop' | 'latency-change' | 'left-consistency-band';

export interface RunRef { jobId: string; at: string }

/** One change between two runs of one device x model x variant, with the test that found it. */
export interface Regression {
  kind: RegressionKind;
  deviceId: string;
  model: string;
  variant: string;
  /** what changed: a probe's verdict key, 'task top-1 agreement', 'latency p50', 'output fingerprint' */
  metric: string;
  before: RunRef;
  after: RunRef;
  /** the figure before and after */
  from: string | number;
  to: string | number;
  /** the test and its numbers, in words */
  statistic: string;
  pValue: number | null;
  /** what differs in the software fingerprint and weights between the two runs */
  changed: string[];
}

/**
 * The tests' settings. Each test runs once per new run and metric; at alpha 0.001 a device's unchanged
 * 10-run series makes at most 7 latency tests (runs 4-10), so its chance of any false latency alarm is at
 * most 0.7% (Bonferroni).
 */
export interface DetectOptions {
  alpha: number;
  /** runs of the device's own history a latency test needs (the t test's degrees of freedom are runs - 1) */
  minHistory: number;
  /** most recent runs since the last change point that form the latency baseline */
  maxHistory: number;
  /** smallest latency change (relative) worth an alert, however consistent the device: no alarm on a trivial margin */
  minLatencyChange: number;
  /** floor of the run-to-run spread of ln p50: timer resolution and scheduling make a real spread never 0 */
  minLogSpread: number;
  /** devices of one run needed to place a consistency band (with 2, a disagreement cannot say who is off) */
  minBandDevices: number;
  consistencyTolerance: number;
}

export const DEFAULT_DETECT: DetectOptions = {
  alpha: 0.001, minHistory: 3, maxHistory: 10, minLatencyChange: 0.05, minLogSpread: 0.005, minBandDevices: 3, consistencyTolerance: DEFAULT_TOLERANCE,
};

const ref = (r: RunPoint): RunRef => ({ jobId: r.jobId, at: r.at });
const base = (s: Series, before: RunPoint, after: RunPoint) => ({ deviceId: s.deviceId, model: s.model, variant: s.variant, before: ref(before), after: ref(after), changed: fingerprintChanges(before, after) });

/** Every regression in the given series, in run order per series; consistency needs the whole fleet's series. */
export function detectRegressions(series: readonly Series[], opts: Partial<DetectOptions> = {}): Regression[] {
  const o = { ...DEFAULT_DETECT, ...opts };
  return [...series.flatMap((s) => [...verdictFlips(s), ...taskAgreementDrops(s, o), ...latencyChanges(s, o)]), ...consistencyExits(series, o)];
}

/** A probe's verdict that differs from the same probe's verdict in the run before ('measured' is no verdict). */
export function verdictFlips(s: Series): Regression[] {
  const out: Regression[] = [];
  const last = new Map<string, RunPoint>();
  for (const run of s.runs) {
    for (const [key, status] of Object.entries(run.verdicts)) {
      const prev = last.get(key);
      last.set(key, run);
      if (!prev || (status === 'measured' && prev.verdicts[key] === 'measured')) continue;
      const was = prev.verdicts[key];
      if (was === status) continue;
      out.push({ kind: 'verdict-flip', ...base(s, prev, run), metric: `${key} verdict`, from: was, to: status, statistic: `verdict ${was} -> ${status}`, pValue: null });
    }
  }
  return out;
}

/**
 * Task top-1 agreement with fp32 that drops from one run to the next by more than sampling explains: a
 * one-sided two-proportion z test, z = (p1 - p2) / sqrt(p(1-p)(1/n1 + 1/n2)) with p the pooled proportion.
 */
export function taskAgreementDrops(s: Series, o: DetectOptions = DEFAULT_DETECT): Regression[] {
  const out: Regression[] = [];
  let prev: RunPoint | undefined;
  for (const run of s.runs) {
    if (!run.taskAgreement) continue;
    if (prev?.taskAgreement) {
      const { top1Agreement: p1, items: n1 } = prev.taskAgreement;
      const { top1Agreement: p2, items: n2 } = run.taskAgreement;
      const pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
      const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
      if (se > 0 && p2 < p1) {
        const z = (p1 - p2) / se;
        const p = 1 - normalCdf(z, 0, 1);
        if (p < o.alpha) {
          out.push({
            kind: 'task-agreement-drop', ...base(s, prev, run), metric: 'task top-1 agreement', from: p1, to: p2, pValue: p,
            statistic: `top-1 agreement ${p1.toFixed(3)} (n=${n1}) -> ${p2.toFixed(3)} (n=${n2}); one-sided two-proportion z = ${z.toFixed(2)}, p = ${p.toExponential(2)} < ${o.alpha}`,
          });
        }
      }
    }
    prev = run;
  }
  return out;
}

/**
 * A latency p50 outside the device's own run-to-run spread: the newest ln p50 against the prediction
 * interval of the baseline (the last `maxHistory` unthrottled runs since the last change point), t =
 * (y - mean) / (s sqrt(1 + 1/k)) with k - 1 degrees of freedom (a new run from the same normal as the k
 * before follows Student's t). A found change starts a new baseline, so one step raises one regression.
 * A throttled run is neither tested nor part of a baseline: its latency is not comparable.
 */
export function latencyChanges(s: Series, o: DetectOptions = DEFAULT_DETECT): Regression[] {
  const out: Regression[] = [];
  let baseline: RunPoint[] = [];
  for (const run of s.runs) {
    if (!run.latency || run.latency.throttled) continue;
    const y = Math.log(run.latency.p50);
    const window = baseline.slice(-o.maxHistory);
    const k = window.length;
    if (k >= o.minHistory) {
      const logs = window.map((r) => Math.log(r.latency!.p50));
      const m = logs.reduce((a, b) => a + b, 0) / k;
      const sd = Math.max(o.minLogSpread, Math.sqrt(logs.reduce((a, b) => a + (b - m) ** 2, 0) / (k - 1)));
      const t = (y - m) / (sd * Math.sqrt(1 + 1 / k));
      const p = 2 * (1 - tCdf(Math.abs(t), k - 1));
      const change = Math.exp(y - m) - 1;
      if (p < o.alpha && Math.abs(change) >= o.minLatencyChange) {
        const prev = baseline[baseline.length - 1];
        out.push({
          kind: 'latency-change', ...base(s, prev, run), metric: 'latency p50', from: Math.exp(m), to: run.latency.p50, pValue: p,
          statistic: `p50 ${run.latency.p50.toFixed(2)} ms vs ${Math.exp(m).toFixed(2)} ms (geometric mean of ${k} runs, spread ${(sd * 100).toFixed(1)}% in ln): ` +
            `${change > 0 ? '+' : ''}${(change * 100).toFixed(1)}%, prediction-interval t = ${t.toFixed(2)} (df ${k - 1}), p = ${p.toExponential(2)} < ${o.alpha}`,
        });
        baseline = [run];
        continue;
      }
    }
    baseline.push(run);
  }
  return out;
}

/**
 * A device whose benchmark outputs were inside the fleet's consistency band (relative L2 to the median
 * fingerprint of the run's devices <= tolerance, report/consistency.ts) in its previous run and outside it
 * now. Runs are grouped by job: the devices of one job ran the same plan at the same time.
 */
export function consistencyExits(series: readonly Series[], o: DetectOptions = DEFAULT_DETECT): Regression[] {
  // (model, variant, job, inputs) -> the devices' fingerprints
  const groups = new Map<string, Array<{ s: Series; run: RunPoint }>>();
  for (const s of series) {
    for (const run of s.runs) {
      if (!run.fingerprint) continue;
      const k = [s.model, s.variant, run.jobId, run.fingerprint.inputsSha256].join('\u0000');
      groups.set(k, [...(groups.get(k) ?? []), { s, run }]);
    }
  }
  const outlier = new Map<RunPoint, { outlier: boolean; relL2: number }>();
  for (const members of groups.values()) {
    if (members.length < o.minBandDevices) continue;
    const c = crossDeviceConsistency(members.map((m) => ({ deviceId: m.s.deviceId, vectors: m.run.fingerprint!.vectors, exactSha256: m.run.fingerprint!.exactSha256 })), o.consistencyTolerance);
    members.forEach((m, i) => outlier.set(m.run, { outlier: c.drift[i].outlier, relL2: c.drift[i].relL2 }));
  }
  const out: Regression[] = [];
  for (const s of series) {
    let prev: RunPoint | undefined;
    for (const run of s.runs) {
      const now = outlier.get(run);
      if (!now) continue;
      const was = prev && outlier.get(prev);
      if (prev && was && !was.outlier && now.outlier) {
        out.push({
          kind: 'left-consistency-band', ...base(s, prev, run), metric: 'output fingerprint', from: was.relL2, to: now.relL2, pValue: null,
          statistic: `relative L2 to the run's median fingerprint ${was.relL2.toExponential(2)} -> ${now.relL2.toExponential(2)} (band: <= ${o.consistencyTolerance})`,
        });
      }
      prev = run;
    }
  }
  return out;
}

/** The open-regression identity: a second detection of the same change on the same series is the same alert. */
export const regressionKey = (r: Regression): string => [r.kind, r.deviceId, r.model, r.variant, r.metric, r.after.jobId].join('|');
