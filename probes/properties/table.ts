import type { ProbeRecord } from '../../core/results/probe-record.ts';
import { CONTROL_COLUMNS, PAPER_VALUES, type LayerResult, type PropertiesData } from './schema.ts';

export { PAPER_VALUES };

const controlOf = (l: LayerResult, c: string): number | undefined => (l.controls as Record<string, { headline: { estimate: number } } | undefined>)[c]?.headline.estimate;
/** 'passes' or 'explained by the frequency prior (prior, shuffle)' */
export function verdictText(l: LayerResult): string {
  return l.passes ? 'passes' : `explained by ${l.explanation ?? 'a control'} (${l.explainedBy.join(', ')})`;
}


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
      ...CONTROL_COLUMNS.map(([c]) => fmt(controlOf(layer, c))),
      verdictText(layer),
    ]);
  }
  return rows;
}

/** Per-layer rows of one record: sys and every control, the weakest margin with its Holm p, verdict. */
export function layerTableRows(record: ProbeRecord): string[][] {
  const d = record.data as PropertiesData;
  const rows: string[][] = [['layer', ...CONTROL_COLUMNS.map(([, h]) => h), 'NA@10 sys', 'smallest margin (control, diff, Holm p)', 'verdict']];
  for (const l of d.layers) {
    const tests = Object.entries(l.tests ?? {});
    const weakest = tests.reduce<[string, LayerResult['tests'][string]] | undefined>((a, t) => (!a || t[1].difference < a[1].difference ? t : a), undefined);
    rows.push([
      l.layer, ...CONTROL_COLUMNS.map(([c]) => fmt(controlOf(l, c))),
      fmt(l.controls.sys.neighbourhood?.estimate),
      weakest ? `${weakest[0]} ${weakest[1].difference >= 0 ? '+' : ''}${weakest[1].difference.toFixed(3)}, ${weakest[1].pHolm.toPrecision(2)}` : '-',
      verdictText(l),
    ]);
  }
  return rows;
}

export function markdownTable(rows: readonly string[][]): string {
  const line = (r: readonly string[]): string => `| ${r.join(' | ')} |`;
  return [line(rows[0]), line(rows[0].map(() => '---')), ...rows.slice(1).map(line)].join('\n');
}
