import { Type, type Static } from '@sinclair/typebox';
import { epError } from '../errors.ts';

/**
 * Settings of the built-in variants' recipes that a user may choose, from CLI flags (`--int4-block-size`,
 * `--int8-calibration`) or a plan's `variantSettings`: the int4 block size (rows per scale; a power of two
 * >= 16, as MatMulNBits requires) and int8-static's activation calibration (min/max, or a percentile of
 * |activation| per tensor). Each value is part of the variant's recipe, so its manifest and cache key name it.
 */
export const VariantSettings = Type.Object({
  int4BlockSize: Type.Optional(Type.Integer({ description: 'rows per int4 block: a power of two >= 16 (default 32)' })),
  int8Calibration: Type.Optional(Type.String({ maxLength: 32, description: 'minmax (default), percentile (99.99) or percentile:P with 50 < P <= 100' })),
}, { additionalProperties: false });
export type VariantSettings = Static<typeof VariantSettings>;

/** How int8-static's activation ranges are calibrated. */
export type Calibration = { method: 'minmax' } | { method: 'percentile'; percentile: number };
export const MINMAX: Calibration = { method: 'minmax' };
/** onnxruntime's default for its Percentile calibrator */
export const DEFAULT_PERCENTILE = 99.99;

export interface ResolvedVariantSettings { int4BlockSize?: number; int8Calibration?: Calibration }

/** Checks the values and resolves the calibration spec; `source` names where they came from (a flag, a plan field). */
export function resolveVariantSettings(s: VariantSettings, source: { int4: string; int8: string }): ResolvedVariantSettings {
  const out: ResolvedVariantSettings = {};
  if (s.int4BlockSize !== undefined) out.int4BlockSize = checkInt4BlockSize(s.int4BlockSize, source.int4);
  if (s.int8Calibration !== undefined) out.int8Calibration = parseCalibration(s.int8Calibration, source.int8);
  return out;
}

export function checkInt4BlockSize(value: number, source: string): number {
  if (!Number.isInteger(value) || value < 16 || (value & (value - 1)) !== 0) throw epError('EP_INT4_BLOCK_SIZE', { source, value: String(value) });
  return value;
}

export function parseCalibration(spec: string, source: string): Calibration {
  const m = /^(minmax|percentile)(?::(\d+(?:\.\d+)?))?$/.exec(spec.trim());
  if (!m || (m[1] === 'minmax' && m[2] !== undefined)) throw epError('EP_INT8_CALIBRATION', { source, value: spec });
  if (m[1] === 'minmax') return MINMAX;
  const percentile = m[2] === undefined ? DEFAULT_PERCENTILE : Number(m[2]);
  if (!(percentile > 50 && percentile <= 100)) throw epError('EP_INT8_CALIBRATION', { source, value: spec });
  return { method: 'percentile', percentile };
}
