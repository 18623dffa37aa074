import { cpus } from 'node:os';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shape every bench/<topic>.ts writes to bench/results/<topic>.json; bench/README.md is rendered from these. */
export interface BenchRow { metric: string; value: number; unit: string; target?: string; pass?: boolean }
export interface BenchResult {
  topic: string;
  title: string;
  when: string;
  machine: { cpu: string; cores: number; node: string; features?: string[] };
  rows: BenchRow[];
  notes: string[];
}

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results');

export function machine(): BenchResult['machine'] {
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, features: int8CpuFeatures() };
}

/**
 * The CPU flags that pick onnxruntime's int8 kernels (x86: AVX2 alone saturates u8 x s8 pair sums, VNNI does
 * not; ARM: dot-product and i8mm), recorded beside every figure because int8 results differ by them.
 */
export function int8CpuFeatures(cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : ''): string[] {
  const line = cpuinfo.split('\n').find((l) => /^(flags|Features)\s*:/.test(l)) ?? '';
  const have = new Set(line.replace(/^[^:]*:/, '').trim().split(/\s+/));
  const wanted = ['avx2', 'avx512f', 'avx512_vnni', 'avx_vnni', 'amx_int8', 'neon', 'asimd', 'asimddp', 'i8mm'];
  return wanted.filter((f) => have.has(f));
}

/** Writes bench/results/<topic>.json; `machine` defaults to what node:os reports. */
export function writeBenchResult(r: Omit<BenchResult, 'when' | 'machine'> & { machine?: BenchResult['machine'] }): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${r.topic}.json`);
  writeFileSync(path, `${JSON.stringify({ ...r, when: new Date().toISOString(), machine: { features: int8CpuFeatures(), ...(r.machine ?? machine()) } }, null, 2)}\n`);
  return path;
}

/** Full probe records kept beside a result (bench/results/<name>-records.json) for the docs' tables. */
export function writeBenchRecords(name: string, records: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${name}-records.json`);
  writeFileSync(path, `${JSON.stringify(records, null, 1)}\n`);
  return path;
}
