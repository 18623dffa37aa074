import { resolveVariantSettings, type ResolvedVariantSettings } from '../../core/variants/recipe-settings.ts';

/** `--int4-block-size` and `--int8-calibration`: recipe settings of the built-in int4-weight and int8-static variants. */
export const VARIANT_SETTINGS_OPTIONS = {
  'int4-block-size': { type: 'number', describe: 'rows per scale of the int4-weight variant: a power of two >= 16 (default 32)' },
  'int8-calibration': { type: 'string', describe: 'activation calibration of int8-static: minmax (default), percentile (99.99th percentile of |activation| per tensor) or percentile:P' },
} as const;

/** The flags' values checked (coded errors name the flag), ready to spread into ensureVariants' options. */
export function variantSettingsFromArgs(args: Record<string, unknown>): ResolvedVariantSettings {
  return resolveVariantSettings(
    { int4BlockSize: args.int4BlockSize as number | undefined, int8Calibration: args.int8Calibration as string | undefined },
    { int4: '--int4-block-size', int8: '--int8-calibration' },
  );
}
