import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import type { Static, TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import { createRequire } from 'node:module';
import { UserError } from '../errors.ts';

/** A parsed, schema-checked config file and where it came from (relative paths in it resolve against `dir`). */
export interface LoadedConfig<T> { path: string; dir: string; value: T }

/**
 * Reads a JSON or YAML config file, fills schema defaults and checks it against `schema`.
 * Every failure is a UserError naming the file and the field (`broker.url`), so a typo in a config on a
 * headless Pi is one journalctl line away from being fixed.
 */
export function loadConfigFile<S extends TSchema>(path: string, schema: S, what: string, example: string): LoadedConfig<Static<S>> {
  const full = resolve(path);
  if (!existsSync(full) || !statSync(full).isFile()) {
    throw new UserError(`${what} not found: ${full}`, `create it from ${example} and pass its path`);
  }
  const text = readFileSync(full, 'utf8');
  let raw: unknown;
  try {
    raw = isYamlPath(full) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new UserError(`${full} is not valid ${isYamlPath(full) ? 'YAML' : 'JSON'}: ${(err as Error).message}`,
      `fix the syntax (compare with ${example})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new UserError(`${full}: the ${what} must be an object with fields`, `start from ${example}`);
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

function configFieldError(file: string, err: ValueError, raw: unknown): UserError {
  const field = fieldName(err.path);
  const schema = err.schema as TSchema & { description?: string };
  // additionalProperties failures point at the object; name the unknown key itself (usually a typo).
  if (err.type === ValueErrorType.ObjectAdditionalProperties) {
    const obj = valueAt(raw, err.path);
    const allowed = Object.keys((schema as { properties?: Record<string, unknown> }).properties ?? {});
    const unknown = obj && typeof obj === 'object' ? Object.keys(obj).filter((k) => !allowed.includes(k)) : [];
    const where = err.path ? `${field}.` : '';
    return new UserError(`${file}: unknown field ${unknown.map((k) => `${where}${k}`).join(', ') || field}`,
      `remove it or fix its spelling; allowed here: ${allowed.join(', ')}`);
  }
  const got = valueAt(raw, err.path);
  const shown = got === undefined ? 'missing' : `got ${JSON.stringify(got)?.slice(0, 80)}`;
  return new UserError(`${file}: field ${field} is invalid (${err.message}; ${shown})`,
    schema.description ? `set ${field} to ${schema.description}` : `correct ${field}`);
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

/** Reads a file a config field points to (password, token, CA); a UserError names the field if it cannot. */
export function readReferencedFile(cfg: { path: string; dir: string }, field: string, p: string): Buffer {
  const full = configPath(cfg, p);
  if (!existsSync(full)) {
    throw new UserError(`${cfg.path}: ${field} points to ${full}, which does not exist`, `create the file or correct ${field}`);
  }
  try {
    return readFileSync(full);
  } catch (err) {
    throw new UserError(`${cfg.path}: ${field} points to ${full}, which cannot be read (${(err as Error).message})`,
      `give the service user read access to it (chmod/chown), or correct ${field}`);
  }
}
