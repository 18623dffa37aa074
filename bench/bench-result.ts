import { cpus } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shape every bench/<topic>.ts writes to bench/results/<topic>.json; bench/README.md is rendered from these. */
export interface BenchRow { metric: string; value: number; unit: string; target?: string; pass?: boolean }
export interface BenchResult {
  topic: string;
  title: string;
  when: string;
  machine: { cpu: string; cores: number; node: string };
  rows: BenchRow[];
  notes: string[];
}

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results');

export function machine(): BenchResult['machine'] {
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version };
}

/** Writes bench/results/<topic>.json; `machine` defaults to what node:os reports. */
export function writeBenchResult(r: Omit<BenchResult, 'when' | 'machine'> & { machine?: BenchResult['machine'] }): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${r.topic}.json`);
  writeFileSync(path, `${JSON.stringify({ ...r, when: new Date().toISOString(), machine: r.machine ?? machine() }, null, 2)}\n`);
  return path;
}

/** Full probe records kept beside a result (bench/results/<name>-records.json) for the docs' tables. */
export function writeBenchRecords(name: string, records: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${name}-records.json`);
  writeFileSync(path, `${JSON.stringify(records, null, 1)}\n`);
  return path;
}
