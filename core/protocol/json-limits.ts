import { BACKSLASH, CLOSE_ARRAY, CLOSE_OBJECT, OPEN_ARRAY, OPEN_OBJECT, QUOTE } from './json-bytes.ts';

/**
 * Structural limits on everything a device sends, beyond the per-kind byte limits (messages.ts). They
 * keep a message that the schema cannot see into (a ProbeRecord's `data` is the probe's own) from
 * breaking what handles it later: JSON.stringify recurses and throws on deep nesting, PostgreSQL text
 * cannot hold U+0000, and JSON.parse turns 1e309 into Infinity, which JSON.stringify writes as null.
 */
export const JSON_LIMITS = {
  /** nesting of objects and arrays; the deepest record edgeprobe writes nests about 8 levels */
  maxDepth: 32,
  /** elements of one array (a 256 KiB message cannot hold more than ~128k numbers anyway) */
  maxArrayLength: 65_536,
  /** keys of one object */
  maxObjectKeys: 4_096,
  /** UTF-16 code units of one string value or key */
  maxStringLength: 65_536,
} as const;

/** Largest value of a 32-bit signed integer column (PostgreSQL INTEGER): seq, attempt, done, total. */
export const INT32_MAX = 2_147_483_647;

/**
 * Timestamps a device sends (envelope `sentAt`, a record's `createdAt`) must be real calendar instants
 * in this window: after 2000-01-01 and at most a week ahead of the receiver's clock. A device clock a
 * few days off still gets its results in; `2026-99-99` or year 9999 does not.
 */
export const TIME_WINDOW = { earliestMs: Date.UTC(2000, 0, 1), maxAheadMs: 7 * 86_400_000 } as const;

/**
 * The nesting depth of raw JSON bytes, stopping as soon as it exceeds `max`: run before JSON.parse, so
 * 200 KB of `[[[[` costs one linear scan instead of a parse (JSON.parse has no depth option, hence this
 * scan). Brackets inside strings do not count. Malformed input is left for JSON.parse to refuse.
 */
export function jsonDepthExceeds(bytes: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) inString = true;
    else if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
      if (++depth > max) return true;
    } else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) depth--;
  }
  return false;
}

/**
 * The first value in a parsed JSON document that breaks JSON_LIMITS (array length, key count, string
 * length, U+0000 in a string, a number that is not finite, depth), as a JSON-pointer-like path and a
 * reason; undefined when none does. Recursive, but never deeper than `limits.maxDepth` frames (a deeper
 * value is itself the problem), so it cannot overflow the stack; the path is built only for a problem.
 */
export function jsonLimitProblem(value: unknown, limits: typeof JSON_LIMITS = JSON_LIMITS): { path: string; reason: string } | undefined {
  const found = limitProblem(value, 0, limits);
  return found && { path: found.keys.reverse().join(''), reason: found.reason };
}

/** The problem of `v` at `depth`, with the path segments from it up to the root (innermost first). */
function limitProblem(v: unknown, depth: number, limits: typeof JSON_LIMITS): { keys: string[]; reason: string } | undefined {
  if (typeof v === 'string') {
    if (v.length > limits.maxStringLength) return { keys: [], reason: `string of ${v.length} characters exceeds ${limits.maxStringLength}` };
    if (v.includes('\u0000')) return { keys: [], reason: 'string contains U+0000' };
  } else if (typeof v === 'number') {
    if (!Number.isFinite(v)) return { keys: [], reason: `number ${v} is not finite (JSON numbers beyond ±1.8e308 are not representable)` };
  } else if (v !== null && typeof v === 'object') {
    if (depth >= limits.maxDepth) return { keys: [], reason: `nested deeper than ${limits.maxDepth} levels` };
    if (Array.isArray(v)) {
      if (v.length > limits.maxArrayLength) return { keys: [], reason: `array of ${v.length} elements exceeds ${limits.maxArrayLength}` };
      for (let i = 0; i < v.length; i++) {
        const p = limitProblem(v[i], depth + 1, limits);
        if (p) { p.keys.push(`/${i}`); return p; }
      }
    } else {
      const keys = Object.keys(v);
      if (keys.length > limits.maxObjectKeys) return { keys: [], reason: `object with ${keys.length} keys exceeds ${limits.maxObjectKeys}` };
      // every key of an object is checked before its values (last key first, as the reason names one)
      for (let i = keys.length - 1; i >= 0; i--) {
        const k = keys[i];
        if (k.length > limits.maxStringLength) return { keys: [], reason: `key of ${k.length} characters exceeds ${limits.maxStringLength}` };
        if (k.includes('\u0000')) return { keys: [], reason: 'key contains U+0000' };
      }
      for (const k of keys) {
        const p = limitProblem((v as Record<string, unknown>)[k], depth + 1, limits);
        if (p) { p.keys.push(`/${k.length > 40 ? `${k.slice(0, 40)}…` : k}`); return p; }
      }
    }
  }
  return undefined;
}

/** Why an ISO 8601 time string is not a real instant inside TIME_WINDOW; undefined when it is. */
export function timeProblem(iso: string, nowMs: number): string | undefined {
  // Date.parse rolls nothing over for ISO strings, but it accepts 24:00 and some engines lenient forms:
  // the round trip through the fields catches month 13, day 32, hour 25 and the like
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(iso);
  if (!m) return 'not an ISO 8601 time (YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM))';
  const [, y, mo, d, h, mi, s] = m.map(Number);
  const day = new Date(Date.UTC(y, mo - 1, d));
  if (mo < 1 || mo > 12 || day.getUTCDate() !== d || day.getUTCMonth() !== mo - 1 || h > 23 || mi > 59 || s > 59) return 'not a calendar date and time';
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return 'not a calendar date and time';
  if (ms < TIME_WINDOW.earliestMs) return 'before 2000-01-01';
  if (ms > nowMs + TIME_WINDOW.maxAheadMs) return 'more than 7 days ahead of the coordinator clock';
  return undefined;
}
