import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import type { Static, TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import { createRequire } from 'node:module';
import { epError, type EdgeprobeError } from '../errors.ts';

/** A parsed, schema-checked config file and where it came from (relative paths in it resolve against `dir`). */
export interface LoadedConfig<T> { path: string; dir: string; value: T }

/**
 * Reads a JSON or YAML config file, fills schema defaults and checks it against `schema`.
 * Every failure is a coded error naming the file and the field (`broker.url`), so a typo in a config on a
 * headless Pi is one journalctl line away from being fixed.
 */
export function loadConfigFile<S extends TSchema>(path: string, schema: S, what: string, example: string): LoadedConfig<Static<S>> {
  const full = resolve(path);
  if (!existsSync(full) || !statSync(full).isFile()) {
    throw epError('EP_CONFIG_NOT_FOUND', { what, file: full, example });
  }
  const text = readFileSync(full, 'utf8');
  let raw: unknown;
  try {
    raw = isYamlPath(full) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw epError('EP_CONFIG_SYNTAX', { file: full, format: isYamlPath(full) ? 'YAML' : 'JSON', reason: (err as Error).message, example });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw epError('EP_CONFIG_NOT_OBJECT', { file: full, what, example });
  }
  const withDefaults = Value.Default(schema, structuredClone(raw));
  const first = Value.Errors(schema, withDefaults).First();
  if (first) throw configFieldError(full, first, raw);
  return { path: full, dir: dirname(full), value: withDefaults as Static<S> };
}

/** yaml is loaded only for YAML configs: an idle agent on a small device should not carry it. */
function parseYaml(text: string): unknown {
  return (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text);
}

function isYamlPath(p: string): boolean {
  return ['.yaml', '.yml'].includes(extname(p).toLowerCase());
}

/** `/broker/url` -> `broker.url`; `/policy/models/0/sha256` -> `policy.models[0].sha256` */
export function fieldName(pointer: string): string {
  const parts = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '') || '(top level)';
}

function configFieldError(file: string, err: ValueError, raw: unknown): EdgeprobeError {
  const field = fieldName(err.path);
  const schema = err.schema as TSchema & { description?: string };
  // additionalProperties failures point at the object; name the unknown key itself (usually a typo).
  if (err.type === ValueErrorType.ObjectAdditionalProperties) {
    const obj = valueAt(raw, err.path);
    const allowed = Object.keys((schema as { properties?: Record<string, unknown> }).properties ?? {});
    const unknown = obj && typeof obj === 'object' ? Object.keys(obj).filter((k) => !allowed.includes(k)) : [];
    const where = err.path ? `${field}.` : '';
    return epError('EP_CONFIG_UNKNOWN_FIELD', { file, fields: unknown.map((k) => `${where}${k}`).join(', ') || field, allowed: allowed.join(', ') });
  }
  const got = valueAt(raw, err.path);
  const shown = got === undefined ? 'missing' : `got ${JSON.stringify(got)?.slice(0, 80)}`;
  return epError('EP_CONFIG_FIELD_INVALID', { file, field, problem: err.message, got: shown, expected: schema.description ?? 'a valid value' });
}

function valueAt(root: unknown, pointer: string): unknown {
  let cur: unknown = root;
  for (const p of pointer.split('/').slice(1)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

/** A path from a config file: absolute as given, relative ones against the config file's folder. */
export function configPath(cfg: { dir: string }, p: string): string {
  return isAbsolute(p) ? p : resolve(cfg.dir, p);
}

/** Reads a file a config field points to (password, token, CA); a coded error names the field if it cannot. */
export function readReferencedFile(cfg: { path: string; dir: string }, field: string, p: string): Buffer {
  const full = configPath(cfg, p);
  if (!existsSync(full)) {
    throw epError('EP_CONFIG_REF_MISSING', { file: cfg.path, field, target: full });
  }
  try {
    return readFileSync(full);
  } catch (err) {
    throw epError('EP_CONFIG_REF_UNREADABLE', { file: cfg.path, field, target: full, reason: (err as Error).message });
  }
}
