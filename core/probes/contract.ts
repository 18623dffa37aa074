import type { Static, TSchema } from '@sinclair/typebox';
import type { ModelDir } from '../model/model-dir.ts';
import type { JobPlan } from '../protocol/plan.ts';
import type { ProbeRecord, VerdictStatus } from '../results/probe-record.ts';
import type { Fingerprint } from '../results/fingerprint.ts';
import type { Variant } from '../variants/variant-types.ts';

/**
 * The one description of a probe that both sides share (in the spirit of transformers.js' task
 * descriptors): its plan settings, the schema of its record `data`, how the report and the dashboard
 * show it, and the device-side runner, loaded only when an agent runs the probe. A probe is one folder
 * under probes/ with a `contract.ts` exporting one of these, and one line in probes/index.ts.
 */
export interface ProbeContract<S extends TSchema = TSchema, D extends TSchema = TSchema, R = unknown> {
  /** the plan's and the record's name of the probe (lowercase, digits, `-`) */
  kind: string;
  /** one line for help texts, the report legend and the dashboard section heading */
  title: string;
  /** earlier names of this probe: plans and stored records that still use them are read as this kind */
  aliases?: readonly string[];
  /** true when a verdict says whether an explanation holds (the dashboard headline); false for measurements */
  explains: boolean;
  /** the plan block under `plan[kind]`; every field optional, defaults filled by `resolve` */
  settings: S;
  /** the block with every default filled in (`planSeed` is the plan-wide default seed) */
  resolve(block: Static<S> | undefined, planSeed: number | undefined): R;
  /** a stored record of an earlier version of this probe, read as the current `data` shape (no-op when absent) */
  upgradeData?(data: unknown): unknown;
  /** schema of `record.data`: checked by the agent before it queues a record and by the coordinator at ingest */
  data: D;
  /**
   * Records of one device x model x variant that do not replace each other (a benchmark per batch size,
   * properties per norm set) differ in this key; the latest record of each key is the current one.
   */
  series?(data: Static<D>): string;
  /** columns this probe adds to the fleet report (text, CSV, JSON, HTML) */
  report: ReportSpec<Static<D>>;
  /** extra figures for the dashboard's headline row of a model x variant (e.g. up to which layer attention is a token relation) */
  headline?(latest: ReadonlyArray<DataRecord<Static<D>>>): Record<string, unknown>;
  /** the probe's dashboard section: a view model built from the latest records (the front end draws it by kind, or as a table) */
  view?(latest: ReadonlyArray<DataRecord<Static<D>>>): unknown;
  /** outputs on fixed inputs, compared across devices (cross-device consistency); benchmarks have one */
  fingerprint?(data: Static<D>): Fingerprint | null;
  /** the record was measured on a generated random-weight model (the report then says DEMO) */
  demoModel?(data: Static<D>): boolean;
  /** the device side, loaded on first use: an idle agent or a coordinator never loads onnxruntime for it */
  runner(): Promise<ProbeRunner<R>>;
}

/** A stored record whose `data` passed its contract's schema, with the device that sent it. */
export interface DataRecord<D> { deviceId: string; record: ProbeRecord & { data: D } }

/** One cell: `text` for the terminal and HTML tables, `value` for CSV and JSON. */
export interface ReportCell { text: string; value: string | number | boolean | null }

export interface ReportColumn {
  key: string;
  header: string;
  /** in CSV and JSON only: the terminal table stays narrow */
  csvOnly?: boolean;
}

/** The row a probe fills its cells in: this variant, and the same probe's records of the other variants on the device. */
export interface ReportRow<D> {
  deviceId: string;
  model: string;
  variant: string;
  sibling(variant: string): ReadonlyArray<DataRecord<D>>;
}

export interface ReportSpec<D> {
  /** column keys are unique over all probes (they name CSV columns); the probe's verdict column is added by the report */
  columns: readonly ReportColumn[];
  /** lines under the terminal table that say what the columns mean */
  notes?: readonly string[];
  /** of the current records of a row (one per `series` key), the ones the row shows (default: all) */
  pick?(records: ReadonlyArray<DataRecord<D>>): ReadonlyArray<DataRecord<D>>;
  cells(records: ReadonlyArray<DataRecord<D>>, row: ReportRow<D>): ReportCells;
}

/** What a runner gets for one (model, variant) item of a plan. */
export interface ProbeContext<R = unknown> {
  /** the plan's settings of this probe, defaults filled in by its contract's `resolve` */
  settings: R;
  /** the FP32 source model (the reference for survival probes) */
  reference: ModelDir;
  /** the variant under test, loaded (tokenizer and config from the source directory) */
  model: ModelDir;
  variant: Variant;
  /** the source model as a variant (reference for drift, speed-up and survival) */
  fp32: Variant;
  /** the model's name in the agent config (what the plan and the report call it) */
  modelName: string;
  plan: JobPlan;
  signal: AbortSignal;
  /** the agent's norms directory (agent config `normsDir`), for the properties probe */
  normsDir?: string;
  /** free-text progress inside the item, forwarded as job progress */
  note(detail: string): void;
}

/**
 * A probe yields its records one by one; each is queued for delivery as soon as it is yielded, so a
 * crash after record k resumes with record k+1 (records are keyed by their index within the item).
 */
export type ProbeRunner<R = unknown> = (ctx: ProbeContext<R>) => AsyncIterable<ProbeRecord>;

export const cell = (text: string, value: ReportCell['value'] = text): ReportCell => ({ text, value });
export const NO_CELL: ReportCell = { text: '-', value: null };

/** "degrades (L3,4)": a verdict with the layers it points at. */
export function verdictCell(status: VerdictStatus, layers: readonly number[] = []): ReportCell {
  return { text: `${status}${layers.length ? ` (L${layers.join(',')})` : ''}`, value: status };
}

/** A probe's cells of one row, by column key; a missing key is an empty cell. */
export type ReportCells = { [key: string]: ReportCell | undefined };

/** The plan's settings for one probe (under its name or an earlier one), with the probe's defaults filled in. */
export function probeSettings<R>(contract: ProbeContract<TSchema, TSchema, R>, plan: JobPlan): R {
  const block = plan.settings?.[contract.kind] ?? contract.aliases?.map((a) => plan.settings?.[a]).find((b) => b !== undefined);
  return contract.resolve(block as never, plan.seed);
}
