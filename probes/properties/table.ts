import type { ProbeRecord } from '../../core/results/probe-record.ts';
import { CONTROL_COLUMNS, PAPER_VALUES, type PropertiesData } from './schema.ts';

export { PAPER_VALUES };


const fmt = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(3));

/**
 * Rows like the paper's table: one per (norm set, variant) at its best layer by sys score, columns the
 * controls (headline metric), then the verdict. The first row is the header.
 */
export function controlsTableRows(records: readonly ProbeRecord[], opts: { layer?: string } = {}): string[][] {
  const rows: string[][] = [['norm set', 'variant', 'layer', 'metric', ...CONTROL_COLUMNS.map(([, h]) => h), 'verdict']];
  for (const r of records) {
    const d = r.data as PropertiesData;
    const layer = d.layers.find((l) => l.layer === (opts.layer ?? d.bestLayer)) ?? d.layers[0];
    rows.push([
      d.normSet.name, r.variant.name, layer.layer, d.normSet.metric === 'f1' ? 'F1@10' : 'rho',
      ...CONTROL_COLUMNS.map(([c]) => fmt(layer.controls[c].headline.estimate)),
      layer.passes ? 'passes' : `explained by ${layer.explainedBy.join(', ')}`,
    ]);
  }
  return rows;
}

/** Per-layer rows of one record: sys and every control, p-values, verdict. */
export function layerTableRows(record: ProbeRecord): string[][] {
  const d = record.data as PropertiesData;
  const rows: string[][] = [['layer', ...CONTROL_COLUMNS.map(([, h]) => h), 'NA@10 sys', 'NA@10 other-cat', 'p shuffle', 'p cat', 'passes']];
  for (const l of d.layers) {
    rows.push([
      l.layer, ...CONTROL_COLUMNS.map(([c]) => fmt(l.controls[c].headline.estimate)),
      fmt(l.controls.sys.neighbourhood.estimate), fmt(l.controls.sys.neighbourhoodOtherCategory?.estimate),
      l.pValues.shuffle.toFixed(4), l.pValues['category-destroyed'].toFixed(4), l.passes ? 'yes' : 'no',
    ]);
  }
  return rows;
}

export function markdownTable(rows: readonly string[][]): string {
  const line = (r: readonly string[]): string => `| ${r.join(' | ')} |`;
  return [line(rows[0]), line(rows[0].map(() => '---')), ...rows.slice(1).map(line)].join('\n');
}
