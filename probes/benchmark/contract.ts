import { formatNumber } from '../../core/text-table.ts';
import { relativeL2 } from '../../core/numeric/vectors.ts';
import { cell, NO_CELL, type DataRecord, type ProbeContract, type ReportCell } from '../../core/probes/contract.ts';
import { BenchmarkData, BenchmarkPlanSettings, resolveBenchmarkSettings, speedPhrase, type ResolvedBenchmarkSettings } from './schema.ts';

type Rec = DataRecord<BenchmarkData>;
const num = (x: number | null | undefined, f: (n: number) => string = formatNumber): ReportCell => (x === null || x === undefined ? NO_CELL : cell(f(x), x));

/** YES / no from the board's conditions; "-" for a record without them or a board with no source to tell. */
function throttledCell(d: BenchmarkData): ReportCell {
  const c = d.conditions;
  if (!c) return NO_CELL;
  if (c.throttled) return cell('YES', true);
  const readable = [c.sources.throttled, c.sources.thermal, c.sources.cpufreq].some((s) => !s.startsWith('unavailable'));
  return readable ? cell('no', false) : NO_CELL;
}

/** The smallest throughput batch is the row's benchmark (latency is single-stream in every record). */
function smallestBatch(records: readonly Rec[]): Rec[] {
  let best: Rec | undefined;
  for (const r of records) if (!best || r.record.data.throughput.batch <= best.record.data.throughput.batch) best = r;
  return best ? [best] : [];
}

/**
 * The 'benchmark' probe: LoadGen-style single-stream latency, throughput, size, drift and paired
 * speed-up against fp32, and the output fingerprint the report compares across devices.
 */
export const benchmarkContract: ProbeContract<typeof BenchmarkPlanSettings, typeof BenchmarkData, ResolvedBenchmarkSettings> = {
  kind: 'benchmark',
  title: 'latency, throughput, size and drift against fp32',
  explains: false,
  settings: BenchmarkPlanSettings,
  resolve: (block) => resolveBenchmarkSettings(block),
  data: BenchmarkData,
  report: {
    columns: [
      { key: 'batchSize', header: 'batch', csvOnly: true }, { key: 'seqLen', header: 'seq len', csvOnly: true },
      { key: 'p50Ms', header: 'p50 ms' }, { key: 'p90Ms', header: 'p90 ms' }, { key: 'p99Ms', header: 'p99 ms' },
      { key: 'sizeBytes', header: 'MB' }, { key: 'speedupVsFp32', header: 'speed vs fp32' },
      { key: 'pooledCosineVsFp32', header: 'pooled cos' }, { key: 'throttled', header: 'throttled' },
      { key: 'energyMJ', header: 'mJ/inference', csvOnly: true }, { key: 'maxTempC', header: 'max °C', csvOnly: true }, { key: 'driftVsFp32', header: 'drift vs fp32', csvOnly: true },
    ],
    pick: smallestBatch,
    cells(records, row): Record<string, ReportCell> {
      const d = records[0]?.record.data;
      if (!d) return {};
      const fp32 = smallestBatch(row.sibling('fp32'))[0]?.record.data;
      const comparable = fp32 && fp32.fingerprint.inputsSha256 === d.fingerprint.inputsSha256;
      return {
        batchSize: num(d.throughput.batch), seqLen: num(d.settings.seqLen),
        p50Ms: num(d.latencyMs.p50), p90Ms: num(d.latencyMs.p90), p99Ms: num(d.latencyMs.p99),
        sizeBytes: num(d.sizeBytes, (b) => (b / 1e6).toFixed(2)),
        speedupVsFp32: cell(row.variant === 'fp32' ? 'reference' : speedPhrase(d.speedupVsFp32).replace(' than fp32', ''), d.speedupVsFp32),
        pooledCosineVsFp32: num(d.drift?.pooledCosineMin ?? (row.variant === 'fp32' ? 1 : null)),
        throttled: throttledCell(d),
        energyMJ: num(d.conditions?.energyPerInferenceMJ),
        maxTempC: num(d.conditions?.maxTempC),
        driftVsFp32: comparable ? num(relativeL2(fp32.fingerprint.vectors.flat(), d.fingerprint.vectors.flat())) : NO_CELL,
      };
    },
    notes: [
      'latency: single-stream; speed vs fp32 from alternating queries on the device; pooled cos: lowest cosine of mean-pooled outputs to fp32',
      'throttled: YES when the board throttled or lowered its clock cap during the measurement (its latency is not comparable); "-" when the board reports no throttling, thermal or cpufreq source',
    ],
  },
  series: (d) => `batch ${d.throughput.batch}`,
  fingerprint: (d) => d.fingerprint,
  demoModel: (d) => d.demoModel,
  runner: async () => (await import('./runner.ts')).benchmarkRunner,
};
