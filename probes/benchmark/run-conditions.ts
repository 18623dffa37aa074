import { describeLayout, describeThrottled, detectSensors, sampleSensors, THROTTLED_NOW, THROTTLED_SINCE_BOOT, type SensorLayout } from '../../agent/telemetry/board-sensors.ts';
import type { ConditionSample, RunConditions } from './schema.ts';

type Phase = ConditionSample['phase'];

/** Samples per phase at most (a record stays small); during a phase at most one per `intervalMs`. */
const MAX_PER_PHASE = 24;

/**
 * Records the board's conditions over one measurement: a sample before, samples between timed queries
 * of the latency, throughput and paired phases (never inside a timed query), and one after.
 */
export class ConditionRecorder {
  private readonly layout: SensorLayout;
  private readonly t0 = performance.now();
  private readonly samples: ConditionSample[] = [];
  private last = -Infinity;
  private phaseCount = 0;
  private phase: Phase = 'before';

  constructor(root = '/', private readonly intervalMs = 500) {
    this.layout = detectSensors(root);
  }

  /** The one sample before or after the measurement. */
  mark(phase: 'before' | 'after'): void {
    this.enter(phase);
    this.take();
  }

  /** A measuring phase starts: `tick` samples it. */
  enter(phase: Phase): void {
    this.phase = phase;
    this.phaseCount = 0;
  }

  /** Between timed queries: the phase's first sample, then one whenever the interval has passed. */
  tick(): void {
    if (this.phaseCount === 0 || (performance.now() - this.last >= this.intervalMs && this.phaseCount < MAX_PER_PHASE)) this.take();
  }

  private take(): void {
    this.last = performance.now();
    this.phaseCount++;
    this.samples.push({ phase: this.phase, ...sampleSensors(this.layout, this.last - this.t0) });
  }

  finish(meanLatencyMs: number): RunConditions {
    return summarizeConditions(this.layout, this.samples, meanLatencyMs);
  }
}

const source = (x: { source: string } | { unavailable: string } | unknown[], found: string): string =>
  Array.isArray(x) ? found : 'source' in x ? x.source : `unavailable: ${x.unavailable}`;

/** Rails that carry the whole board's input on Jetson modules (Nano: POM_5V_IN; Xavier NX, Orin: VDD_IN). */
const INPUT_RAIL = /^(VDD_IN|POM_5V_IN|VIN_SYS_5V0|VDD_5V_IN)$/i;

/** Throttling reasons and energy per inference from the samples; pure, so fixture samples test it. */
export function summarizeConditions(layout: SensorLayout, samples: readonly ConditionSample[], meanLatencyMs: number): RunConditions {
  const shown = describeLayout(layout);
  const zones = Array.isArray(shown.zones) ? shown.zones : [];
  const cpus = Array.isArray(shown.cpus) ? shown.cpus : [];
  const rails = Array.isArray(shown.rails) ? shown.rails : [];
  const reasons = new Set<string>();
  const before = samples.find((s) => s.phase === 'before');
  const after = [...samples].reverse().find((s) => s.phase === 'after');
  for (const s of samples) {
    if (s.throttledBits !== null) {
      const now = describeThrottled(s.throttledBits, THROTTLED_NOW);
      if (now.length) reasons.add(`Pi firmware: ${now.join(', ')} (${s.phase})`);
    }
    s.tempC.forEach((t, i) => {
      const trip = zones[i]?.passiveTripC;
      if (t !== null && trip !== null && trip !== undefined && t >= trip) reasons.add(`${zones[i].type} at ${t.toFixed(1)} °C reached its passive trip point ${trip.toFixed(1)} °C, where the kernel throttles (${s.phase})`);
    });
    // a cap lowered after the before sample is a cooling device (or the firmware) acting; one already set before is configuration
    s.maxMHz.forEach((m, i) => {
      const base = before?.maxMHz[i];
      if (m !== null && base !== null && base !== undefined && m < base) reasons.add(`${cpus[i]?.cpu ?? `cpu ${i}`} frequency cap lowered from ${base} to ${m} MHz (${s.phase})`);
    });
  }
  if (before?.throttledBits != null && after?.throttledBits != null) {
    const fresh = after.throttledBits & ~before.throttledBits;
    const occurred = describeThrottled(fresh, THROTTLED_SINCE_BOOT);
    if (occurred.length) reasons.add(`Pi firmware: ${occurred.join(', ')} occurred during the run (since-boot bits set between the before and after samples)`);
  }
  const temps = samples.flatMap((s) => s.tempC.filter((t): t is number => t !== null));

  let energyPerInferenceMJ: number | null = null;
  let energyNote: string;
  const inputRail = rails.findIndex((r) => INPUT_RAIL.test(r));
  const latencyPower = samples.filter((s) => s.phase === 'latency').map((s) => {
    if (inputRail >= 0) return s.powerMW[inputRail];
    const present = s.powerMW.filter((p): p is number => p !== null);
    return present.length === s.powerMW.length && present.length > 0 ? present.reduce((a, b) => a + b, 0) : null;
  }).filter((p): p is number => p !== null);
  if (!rails.length) energyNote = 'the board reports no power rails';
  else if (!latencyPower.length) energyNote = 'no power reading during the single-stream phase';
  else {
    const meanMW = latencyPower.reduce((a, b) => a + b, 0) / latencyPower.length;
    // mW x ms = µJ; / 1000 = mJ
    energyPerInferenceMJ = (meanMW * meanLatencyMs) / 1000;
    energyNote = `${inputRail >= 0 ? `board input rail ${rails[inputRail]}` : `sum of the rails ${rails.join(', ')} (no board input rail: a lower bound)`}, mean ${meanMW.toFixed(0)} mW over ${latencyPower.length} samples x mean latency ${meanLatencyMs.toFixed(2)} ms; includes the idle draw`;
  }
  return {
    sources: {
      throttled: source(shown.throttled, ''),
      thermal: source(shown.zones, `/sys/class/thermal (${zones.length} zones)`),
      cpufreq: source(shown.cpus, `/sys/devices/system/cpu/*/cpufreq (${cpus.length} cpus)`),
      power: source(shown.rails, `INA3221 (${rails.join(', ')})`),
    },
    zones, cpus, rails, samples: [...samples],
    throttled: reasons.size > 0,
    reasons: [...reasons],
    maxTempC: temps.length ? Math.max(...temps) : null,
    energyPerInferenceMJ,
    energyNote,
  };
}
