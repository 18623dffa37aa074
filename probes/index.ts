import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { ProbeContract } from '../core/probes/contract.ts';

export { probeSettings } from '../core/probes/contract.ts';
import type { JobPlan } from '../core/protocol/plan.ts';
import { upgradeRecord, type ProbeRecord } from '../core/results/probe-record.ts';
import { attentionContract } from './attention/contract.ts';
import { benchmarkContract } from './benchmark/contract.ts';
import { divergenceContract } from './divergence/contract.ts';
import { propertiesContract } from './properties/contract.ts';
import { inductionContract } from './induction/contract.ts';

/**
 * Every probe edgeprobe knows, one line each. Plans, the agent's runners, the coordinator's ingest
 * check of `data`, the fleet report and the dashboard all iterate this list: a new probe is a folder
 * under probes/ with a contract.ts, and one line here (docs/fleet.md, "Adding a probe").
 */
const contracts: ProbeContract[] = [
  benchmarkContract,
  attentionContract,
  divergenceContract,
  propertiesContract,
  inductionContract,
] as unknown as ProbeContract[];

interface Compiled { settings: TypeCheck<TSchema>; data: TypeCheck<TSchema> }
const compiled = new Map<string, Compiled>();

/** Adds a probe at run time (tests, and a deployment's own probes); the built-in list above is the usual way. */
export function registerProbe<S extends TSchema, D extends TSchema, R>(contract: ProbeContract<S, D, R>): void {
  if (probeContract(contract.kind)) throw new Error(`probe ${contract.kind} is registered already`);
  contracts.push(contract as unknown as ProbeContract);
}

export function probeContracts(): readonly ProbeContract[] {
  return contracts;
}

export function probeKinds(): string[] {
  return contracts.map((c) => c.kind);
}

/** The kind a name refers to, through the contracts' earlier names; unknown names are returned as they are. */
export function canonicalKind(name: string): string {
  return contracts.find((c) => c.kind === name || c.aliases?.includes(name))?.kind ?? name;
}

export function probeContract(kind: string): ProbeContract | undefined {
  const k = canonicalKind(kind);
  return contracts.find((c) => c.kind === k);
}

function checks(c: ProbeContract): Compiled {
  let x = compiled.get(c.kind);
  if (!x) {
    x = { settings: TypeCompiler.Compile(c.settings), data: TypeCompiler.Compile(c.data) };
    compiled.set(c.kind, x);
  }
  return x;
}

const firstError = (check: TypeCheck<TSchema>, value: unknown): string => {
  const e = check.Errors(value).First();
  return `${e?.path || '/'} ${e?.message ?? 'is invalid'}`;
};

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * A plan's probe-specific parts: every probe it names is registered, every settings block belongs to a
 * probe and matches that probe's schema. (core/protocol/plan.ts checks the rest of the plan.) Old probe
 * names are rewritten to the current ones.
 */
export function checkPlanProbes(plan: JobPlan): Checked<JobPlan> {
  const probes: string[] = [];
  for (const p of plan.probes) {
    const c = probeContract(p);
    if (!c) return { ok: false, reason: `probe ${p} is not one edgeprobe knows (${probeKinds().join(', ')})` };
    if (!probes.includes(c.kind)) probes.push(c.kind);
  }
  const out: Record<string, unknown> = { ...plan, probes };
  for (const [key, block] of Object.entries(plan.settings ?? {})) {
    const c = probeContract(key);
    if (!c) return { ok: false, reason: `settings.${key} belongs to no probe (${probeKinds().join(', ')})` };
    if (!checks(c).settings.Check(block)) return { ok: false, reason: `settings.${key}${firstError(checks(c).settings, block)}` };
  }
  if (plan.settings) out.settings = Object.fromEntries(Object.entries(plan.settings).map(([k, v]) => [canonicalKind(k), v]));
  return { ok: true, value: out as JobPlan };
}


/**
 * A record as the current version of its probe: old probe names and record versions upgraded, then
 * `data` checked against the probe's contract. Used by the agent before it queues a record, by the
 * coordinator at ingest, and by the report and dashboard when they read stored rows.
 */
export function checkRecord(raw: ProbeRecord): Checked<ProbeRecord> {
  const record = upgradeRecord(raw, canonicalKind) as ProbeRecord;
  const c = probeContract(record.probe);
  if (!c) return { ok: false, reason: `record.probe ${JSON.stringify(record.probe)} is not a probe this coordinator knows (${probeKinds().join(', ')})` };
  const data = c.upgradeData ? c.upgradeData(record.data) : record.data;
  const check = checks(c).data;
  if (!check.Check(data)) return { ok: false, reason: `record.data of a ${c.kind} record: ${firstError(check, data)}` };
  return { ok: true, value: data === record.data ? record : { ...record, data } };
}
