import { speedPhrase } from '../../agent/bench/benchmark-data.ts';
import { formatNumber, textTable } from '../../cli/output.ts';
import type { ComparisonReport, ComparisonRow, RowVerdict } from './comparison.ts';

const cell = (x: number | null, f: (n: number) => string = formatNumber): string => (x === null ? '-' : f(x));
const verdictText = (r: ComparisonRow): string => Object.entries(r.verdicts).map(([p, v]) => `${p}:${v}`).join(' ') || '-';
const located = (v: RowVerdict | null): string => (v ? `${v.status}${v.layers.length ? ` (L${v.layers.join(',')})` : ''}` : '');
const taskText = (r: ComparisonRow): string => (r.task ? `${r.task.top1Accuracy === null ? '' : `acc ${formatNumber(r.task.top1Accuracy)} `}agree ${formatNumber(r.task.top1Agreement)}` : '');
const compareText = (r: ComparisonRow): string => (r.compare ? (r.compare.status === 'invalid' ? 'invalid' : r.compare.jumpLayer === null ? `even (worst L${r.compare.worstLayer})` : `jump L${r.compare.jumpLayer}`) : '');
const speedText = (r: ComparisonRow): string => (r.speedupVsFp32 === null ? '' : r.variant === 'fp32' ? 'reference' : speedPhrase(r.speedupVsFp32).replace(' than fp32', ''));

/** One flat object per row: what --csv prints and what a spreadsheet wants (verdict layers as "3;4"). */
function flatRow(r: ComparisonRow): Record<string, string | number | boolean | null> {
  return {
    deviceId: r.deviceId, model: r.model, variant: r.variant, batchSize: r.batchSize, seqLen: r.seqLen,
    p50Ms: r.p50Ms, p90Ms: r.p90Ms, p99Ms: r.p99Ms, sizeBytes: r.sizeBytes, speedupVsFp32: r.speedupVsFp32,
    pooledCosineVsFp32: r.pooledCosineVsFp32, driftVsFp32: r.driftVsFp32, driftVsFleet: r.driftVsFleet, crossDeviceOutlier: r.crossDeviceOutlier,
    task: r.task?.task ?? null, top1Accuracy: r.task?.top1Accuracy ?? null, top1Agreement: r.task?.top1Agreement ?? null, top5Agreement: r.task?.top5Agreement ?? null,
    attention: r.attention?.status ?? null, attentionLayers: r.attention?.layers.join(';') ?? null,
    properties: r.properties?.status ?? null,
    compareStatus: r.compare?.status ?? null, jumpLayer: r.compare?.jumpLayer ?? null, worstLayer: r.compare?.worstLayer ?? null,
    invalid: r.invalid, records: r.records, verdicts: verdictText(r),
  };
}

export function renderComparison(rep: ComparisonReport): string {
  if (rep.rows.length === 0) return `no results yet (${rep.devices} devices registered); submit a job with \`edgeprobe jobs submit\``;
  const seqLens = [...new Set(rep.rows.map((r) => r.seqLen).filter((x) => x !== null))];
  const table = textTable([
    ['device', 'model', 'variant', 'p50 ms', 'p90 ms', 'p99 ms', 'MB', 'speed vs fp32', 'pooled cos', 'drift vs fleet', 'task top-1', 'attention', 'properties', 'compare', 'invalid'],
    ...rep.rows.map((r) => [
      `${r.deviceId}${r.online ? '' : ' (offline)'}`, r.model, r.variant, cell(r.p50Ms), cell(r.p90Ms), cell(r.p99Ms),
      cell(r.sizeBytes, (b) => (b / 1e6).toFixed(2)), speedText(r) || '-', cell(r.pooledCosineVsFp32),
      `${cell(r.driftVsFleet)}${r.crossDeviceOutlier ? ' OUTLIER' : ''}`, taskText(r) || '-', located(r.attention) || '-', located(r.properties) || '-', compareText(r) || '-',
      r.invalid > 0 ? `${r.invalid} of ${r.records}` : '0',
    ]),
  ]);
  const lines = [table, ''];
  if (seqLens.length) lines.push(`latency: single-stream at seq len ${seqLens.join('/')}; speed vs fp32 from alternating queries on the device; pooled cos: lowest cosine of mean-pooled outputs to fp32`);
  if (rep.rows.some((r) => r.attention)) lines.push('attention: on fp32, whether attention explains token relations (identifiability, sanity checks); on a variant, whether that explanation survives compression vs fp32');
  if (rep.rows.some((r) => r.attention?.status === 'survives-invalid-reference')) lines.push('survives-invalid-reference: the variant matches fp32, but the fp32 explanation fails its own sanity checks: it keeps nothing valid');
  lines.push(`invalid: records whose numeric health gate failed (NaN/Inf, fp16 saturation) - ${rep.invalid} in total; their verdicts are not to be trusted`);
  lines.push('', `cross-device consistency (same model, variant and inputs; relative L2 to the fleet median, tolerance ${rep.tolerance}):`);
  if (rep.consistency.length === 0) lines.push('  (needs the same model and variant benchmarked on at least two devices)');
  for (const c of rep.consistency) {
    const verdict = c.identical ? 'bit-identical outputs' : c.outliers.length === 0 ? 'consistent within tolerance' : `OUTLIERS: ${c.outliers.join(', ')}`;
    const max = Math.max(...c.drift.map((d) => d.relL2));
    lines.push(`  ${c.model}/${c.variant} on ${c.devices} devices: ${verdict} (max drift ${formatNumber(max)})${c.note ? `; ${c.note}` : ''}`);
  }
  if (rep.demo) lines.push('', 'DEMO: these numbers come from a generated random-weight model; they show the tool, not a real model.');
  return lines.join('\n');
}

export function renderComparisonCsv(rep: ComparisonReport): string {
  const esc = (v: unknown): string => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const flat = rep.rows.map(flatRow);
  const columns = Object.keys(flatRow(EMPTY_ROW));
  return [columns.join(','), ...flat.map((r) => columns.map((c) => esc(r[c])).join(','))].join('\n');
}

/** Only for the CSV header, so it is printed even when there are no rows. */
const EMPTY_ROW: ComparisonRow = {
  deviceId: '', online: false, model: '', variant: '', batchSize: null, seqLen: null, p50Ms: null, p90Ms: null, p99Ms: null, sizeBytes: null,
  speedupVsFp32: null, pooledCosineVsFp32: null, driftVsFp32: null, driftVsFleet: null, crossDeviceOutlier: false, task: null,
  attention: null, properties: null, compare: null, verdicts: {}, invalid: 0, records: 0,
};
