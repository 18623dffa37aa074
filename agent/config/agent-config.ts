import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { createRequire } from 'node:module';
import { UserError } from '../../core/errors.ts';
import { ProbeKind } from '../../core/results/probe-record.ts';
import { VariantNameSchema } from '../../core/protocol/plan.ts';

const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const ModelName = Type.String({ pattern: '^[a-zA-Z0-9_.-]{1,128}$' });
const RemoteFile = Type.Object({ name: Type.String({ pattern: '^[a-zA-Z0-9_.-]+$' }), url: Type.String({ pattern: '^https?://' }), sha256: Sha256 }, { additionalProperties: false });

/**
 * One model an agent may run. Exactly one source: a local model directory (pinned by the sha256 of its
 * ONNX file), a URL (the ONNX file, plus tokenizer/config files, every one with its sha256), or a
 * generated random-weight model (for demos and tests; deterministic from its seed).
 */
export const AllowedModel = Type.Union([
  Type.Object({ name: ModelName, path: Type.String({ minLength: 1 }), sha256: Sha256 }, { additionalProperties: false }),
  Type.Object({ name: ModelName, url: Type.String({ pattern: '^https?://' }), sha256: Sha256, files: Type.Array(RemoteFile, { minItems: 1 }) }, { additionalProperties: false }),
  Type.Object({ name: ModelName, generated: Type.Union([Type.Literal('demo'), Type.Literal('tiny')]), sha256: Type.Optional(Sha256) }, { additionalProperties: false }),
]);
export type AllowedModel = Static<typeof AllowedModel>;

export const AgentConfigSchema = Type.Object({
  models: Type.Array(AllowedModel, { maxItems: 256 }),
  probes: Type.Array(ProbeKind, { uniqueItems: true }),
  /** variants this device may build; default all the agent supports */
  variants: Type.Optional(Type.Array(VariantNameSchema, { uniqueItems: true })),
  heartbeatS: Type.Optional(Type.Number({ minimum: 0.5, maximum: 3600 })),
}, { additionalProperties: false });
export type AgentConfig = Static<typeof AgentConfigSchema> & { source: string };

const check = TypeCompiler.Compile(AgentConfigSchema);

/** Without --config an agent allows only the generated demo model and the benchmark, which is safe anywhere. */
export const DEFAULT_AGENT_CONFIG: AgentConfig = { models: [{ name: 'demo', generated: 'demo' }], probes: ['benchmark'], source: '(built-in default)' };

export function loadAgentConfig(path: string | undefined): AgentConfig {
  if (!path) return DEFAULT_AGENT_CONFIG;
  if (!existsSync(path)) throw new UserError(`agent config not found: ${path}`, 'pass --config with a JSON or YAML file like configs/agent.example.json');
  const text = readFileSync(path, 'utf8');
  let raw: unknown;
  try {
    // yaml is required only for YAML configs: every megabyte counts on an idle agent
    raw = ['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text) : JSON.parse(text);
  } catch (err) {
    throw new UserError(`agent config ${path} does not parse: ${(err as Error).message}`, 'fix the syntax (JSON, or YAML for .yaml/.yml files)');
  }
  if (!check.Check(raw)) {
    const e = check.Errors(raw).First();
    throw new UserError(`agent config ${path}: field ${e?.path || '/'} ${e?.message ?? 'is invalid'}`, 'see configs/agent.example.json and docs/fleet.md for the fields');
  }
  const cfg = raw as Static<typeof AgentConfigSchema>;
  const names = new Set<string>();
  for (const m of cfg.models) {
    if (names.has(m.name)) throw new UserError(`agent config ${path}: model name ${m.name} appears twice`, 'give every allowed model a unique name');
    names.add(m.name);
  }
  // local paths are relative to the config file, so a config can travel with its models
  const base = dirname(resolve(path));
  const models = cfg.models.map((m) => ('path' in m ? { ...m, path: resolve(base, m.path) } : m));
  return { ...cfg, models, source: resolve(path) };
}
