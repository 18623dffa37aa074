import { verdictCell } from '../../core/probes/contract.ts';
import { formatNumber, textTable } from '../../core/text-table.ts';
import type { FleetReport, FleetReportRow, RowVerdict } from './fleet-report.ts';

const located = (v: RowVerdict | undefined): string => (v ? verdictCell(v.status, v.layers).text : '-');
const verdictText = (r: FleetReportRow): string => Object.entries(r.verdicts).map(([p, v]) => `${p}:${v.status}`).join(' ') || '-';

/** One flat object per row: what --csv prints and what a spreadsheet wants (verdict layers as "3;4"). */
function flatRow(rep: FleetReport, r: FleetReportRow): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = { deviceId: r.deviceId, model: r.model, variant: r.variant };
  for (const c of rep.columns) out[c.key] = r.cells[c.probe]?.[c.key]?.value ?? null;
  for (const p of rep.verdictProbes) {
    out[p] = r.verdicts[p]?.status ?? null;
    out[`${p}Layers`] = r.verdicts[p]?.layers.join(';') ?? null;
  }
  return { ...out, driftVsFleet: r.driftVsFleet, crossDeviceOutlier: r.crossDeviceOutlier, invalid: r.invalid, unreadable: r.unreadable, records: r.records, verdicts: verdictText(r) };
}

export function renderFleetReport(rep: FleetReport): string {
  if (rep.rows.length === 0) return `no results yet (${rep.devices} devices registered); submit a job with \`edgeprobe jobs submit\``;
  // per probe that has records, in registry order: its columns, its verdict (explanation probes), the fleet drift (fingerprints)
  const present = new Set(rep.rows.flatMap((r) => [...Object.keys(r.cells), ...Object.keys(r.verdicts)]));
  const columns: Array<{ header: string; text: (r: FleetReportRow) => string }> = [];
  for (const probe of rep.probeOrder.filter((p) => present.has(p))) {
    for (const c of rep.columns.filter((x) => x.probe === probe && !x.csvOnly)) columns.push({ header: c.header, text: (r) => r.cells[probe]?.[c.key]?.text ?? '-' });
    if (rep.verdictProbes.includes(probe)) columns.push({ header: probe, text: (r) => located(r.verdicts[probe]) });
    if (rep.fingerprintProbes.includes(probe)) columns.push({ header: 'drift vs fleet', text: (r) => `${r.driftVsFleet === null ? '-' : formatNumber(r.driftVsFleet)}${r.crossDeviceOutlier ? ' OUTLIER' : ''}` });
  }
  const table = textTable([
    ['device', 'model', 'variant', ...columns.map((c) => c.header), 'invalid'],
    ...rep.rows.map((r) => [
      `${r.deviceId}${r.online ? '' : ' (offline)'}`, r.model, r.variant, ...columns.map((c) => c.text(r)),
      `${r.invalid > 0 ? `${r.invalid} of ${r.records}` : '0'}${r.unreadable > 0 ? ` (${r.unreadable} unreadable)` : ''}`,
    ]),
  ]);
  const lines = [table, ''];
  for (const note of rep.notes) if (present.has(note.probe)) lines.push(note.text);
  if (rep.rows.some((r) => Object.values(r.verdicts).some((v) => v.status === 'survives-invalid-reference'))) lines.push('survives-invalid-reference: the variant matches fp32, but the fp32 explanation fails its own sanity checks: it keeps nothing valid');
  lines.push(`invalid: records whose numeric gate failed (NaN/Inf, fp16 saturation) - ${rep.invalid} in total; their verdicts are not to be trusted`);
  if (rep.rows.some((r) => r.unreadable > 0)) lines.push('unreadable: stored records their probe\'s contract does not accept (another agent version or an unknown probe); counted, never shown as figures');
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

export function renderFleetReportCsv(rep: FleetReport): string {
  const esc = (v: unknown): string => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const empty: FleetReportRow = { deviceId: '', online: false, model: '', variant: '', verdicts: {}, cells: {}, driftVsFleet: null, crossDeviceOutlier: false, invalid: 0, unreadable: 0, records: 0 };
  // the header comes from an empty row, so it is printed even when there are no rows
  const columns = Object.keys(flatRow(rep, empty));
  return [columns.join(','), ...rep.rows.map((r) => flatRow(rep, r)).map((r) => columns.map((c) => esc(r[c])).join(','))].join('\n');
}
