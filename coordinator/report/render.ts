import { formatNumber, textTable } from '../../cli/output.ts';
import type { ComparisonReport, ComparisonRow } from './comparison.ts';

const CSV_COLUMNS = ['deviceId', 'model', 'variant', 'batchSize', 'p50Ms', 'p90Ms', 'p99Ms', 'sizeBytes', 'driftVsFp32', 'driftVsFleet', 'crossDeviceOutlier', 'verdicts'] as const;

const cell = (x: number | null, f: (n: number) => string = formatNumber): string => (x === null ? '-' : f(x));
const verdictText = (r: ComparisonRow): string => Object.entries(r.verdicts).map(([p, v]) => `${p}:${v}`).join(' ') || '-';

export function renderComparison(rep: ComparisonReport): string {
  if (rep.rows.length === 0) return `no results yet (${rep.devices} devices registered); submit a job with \`edgeprobe jobs submit\``;
  const table = textTable([
    ['device', 'model', 'variant', 'batch', 'p50 ms', 'p90 ms', 'p99 ms', 'size MB', 'drift vs fp32', 'drift vs fleet', 'probe verdicts'],
    ...rep.rows.map((r) => [
      `${r.deviceId}${r.online ? '' : ' (offline)'}`, r.model, r.variant, cell(r.batchSize), cell(r.p50Ms), cell(r.p90Ms), cell(r.p99Ms),
      cell(r.sizeBytes, (b) => (b / 1e6).toFixed(2)), cell(r.driftVsFp32), `${cell(r.driftVsFleet)}${r.crossDeviceOutlier ? ' OUTLIER' : ''}`, verdictText(r),
    ]),
  ]);
  const lines = [table, '', `cross-device consistency (same model, variant and inputs; relative L2 to the fleet median, tolerance ${rep.tolerance}):`];
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
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rep.rows) lines.push(CSV_COLUMNS.map((c) => esc(c === 'verdicts' ? verdictText(r) : r[c])).join(','));
  return lines.join('\n');
}
