import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { epError } from '../../core/errors.ts';
import type { FfnnOptions } from './ffnn.ts';
import type { MapperName, PlsrSettings } from './mappers.ts';
import type { PreprocessOptions } from './norm-set.ts';

export interface PropertiesConfig {
  templates: string[];
  folds: number;
  /** repeated cross-validation: fold assignments (each with its own shuffle and random-target seeds) */
  repeats?: number;
  /** worker threads for the layers: a number or 'auto' (one per core) */
  workers?: number | 'auto';
  seed: number;
  mapper: MapperName;
  plsr: PlsrSettings;
  ffnn: Omit<FfnnOptions, 'seed'>;
  controls: {
    shuffleSeeds: number;
    oracleNeighbours: number;
    categoryClusters: number;
    bootstrapResamples: number;
    permutations: number;
    alpha: number;
    /** the smallest sys - control difference a verdict counts, per headline metric */
    minEffect?: { f1: number; spearman: number };
  };
  metrics: { k: number; neighbourhoodK: number };
  norms: Record<string, PreprocessOptions>;
}

export const DEFAULT_CONFIG_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'configs', 'properties.json');

/** configs/properties.json (or the given file), shallow-merged per section over the defaults file. */
export function loadPropertiesConfig(path?: string): PropertiesConfig {
  const read = (p: string): Partial<PropertiesConfig> => {
    if (!existsSync(p)) throw epError('EP_PROPERTIES_CONFIG_MISSING', { file: p });
    try { return JSON.parse(readFileSync(p, 'utf8')) as Partial<PropertiesConfig>; } catch (err) {
      throw epError('EP_PROPERTIES_CONFIG_SYNTAX', { file: p, reason: (err as Error).message });
    }
  };
  const base = read(DEFAULT_CONFIG_PATH) as PropertiesConfig;
  if (!path) return base;
  const user = read(path);
  return {
    ...base, ...user,
    plsr: { ...base.plsr, ...user.plsr },
    ffnn: { ...base.ffnn, ...user.ffnn },
    controls: { ...base.controls, ...user.controls },
    metrics: { ...base.metrics, ...user.metrics },
    norms: { ...base.norms, ...user.norms },
  };
}

export function preprocessFor(cfg: PropertiesConfig, setName: string): PreprocessOptions {
  return cfg.norms[setName] ?? cfg.norms.custom ?? { minConceptsPerFeature: 1, minValue: 0, binarizeForPlsr: true };
}

