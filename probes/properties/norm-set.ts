import { epError } from '../../core/errors.ts';

/** The headline metric of a norm set: F1@10 for feature lists (McRae, Buchanan), Spearman for ratings (Binder). */
export type HeadlineMetric = 'f1' | 'spearman';

/** One concept-feature value as read from a file; `line` names the row in messages. */
export interface NormEntry { concept: string; feature: string; value: number; line: number }

/** What a loader reads, before preprocessing. */
export interface RawNorms {
  name: string;
  path: string;
  entries: NormEntry[];
  /** word to embed for each concept (e.g. McRae `bat_(animal)` -> `bat`) */
  words: Map<string, string>;
  /** category label per concept, when the set has one */
  categories?: Map<string, string>;
  metric: HeadlineMetric;
  /** decisions the loader took (shown in the report) */
  notes: string[];
}

/** A dense concepts x features matrix ready for the probe. */
export interface NormSet {
  name: string;
  path: string;
  concepts: string[];
  words: string[];
  features: string[];
  /** row-major [concepts, features]; 0 = the concept lacks the feature */
  values: Float64Array;
  categories?: string[];
  metric: HeadlineMetric;
  notes: string[];
}

export interface PreprocessOptions {
  /** keep a feature only if at least this many concepts have it (1 = keep all, as the reference code) */
  minConceptsPerFeature: number;
  /** drop concept-feature values below this (after the loader's normalisation) */
  minValue: number;
  /** PLSR targets are value > 0 -> 1 (reference code); FFNN always trains on the values */
  binarizeForPlsr: boolean;
}

export type Warn = (message: string) => void;

const listRows = (lines: number[]): string => `${lines.slice(0, 8).join(', ')}${lines.length > 8 ? ` and ${lines.length - 8} more` : ''}`;

/**
 * Validates entries and builds the dense matrix: non-numeric values and duplicate concept-feature rows
 * are warned about by line and skipped (the first row wins); thresholds drop rare features and small
 * values; a set left without features or concepts is a coded error naming the thresholds.
 */
export function buildNormSet(raw: RawNorms, prep: PreprocessOptions, warn: Warn): NormSet {
  const bad: number[] = [];
  const dup: number[] = [];
  const seen = new Map<string, number>();
  const kept: NormEntry[] = [];
  for (const e of raw.entries) {
    if (!Number.isFinite(e.value)) { bad.push(e.line); continue; }
    const key = `${e.concept}\u0000${e.feature}`;
    if (seen.has(key)) { dup.push(e.line); continue; }
    seen.set(key, e.line);
    kept.push(e);
  }
  if (bad.length > 0) warn(`${raw.path}: ${bad.length} row(s) with a missing or non-numeric value skipped (lines ${listRows(bad)})`);
  if (dup.length > 0) warn(`${raw.path}: ${dup.length} duplicate concept-feature row(s) skipped, the first occurrence kept (lines ${listRows(dup)})`);
  const valued = kept.filter((e) => e.value !== 0 && e.value >= prep.minValue);
  const conceptsPerFeature = new Map<string, number>();
  for (const e of valued) conceptsPerFeature.set(e.feature, (conceptsPerFeature.get(e.feature) ?? 0) + 1);
  const features = [...conceptsPerFeature.keys()].filter((f) => conceptsPerFeature.get(f)! >= prep.minConceptsPerFeature).sort();
  if (features.length === 0) {
    throw epError('EP_NORMS_NO_FEATURES_LEFT',
      { name: raw.name, file: raw.path, minConcepts: prep.minConceptsPerFeature, minValue: prep.minValue, before: conceptsPerFeature.size });
  }
  const featureIndex = new Map(features.map((f, i) => [f, i]));
  const concepts = [...new Set(kept.map((e) => e.concept))].sort();
  const conceptIndex = new Map(concepts.map((c, i) => [c, i]));
  const values = new Float64Array(concepts.length * features.length);
  for (const e of valued) {
    const j = featureIndex.get(e.feature);
    if (j !== undefined) values[conceptIndex.get(e.concept)! * features.length + j] = e.value;
  }
  // concepts with no feature left cannot be scored (F1 of an empty gold set is undefined)
  const empty = concepts.filter((_, i) => values.subarray(i * features.length, (i + 1) * features.length).every((v) => v === 0));
  if (empty.length > 0) warn(`${raw.name}: ${empty.length} concept(s) have no feature left after the thresholds and are dropped: ${empty.slice(0, 10).join(', ')}${empty.length > 10 ? ', ...' : ''}`);
  const notes = [...raw.notes, `thresholds: features kept when >= ${prep.minConceptsPerFeature} concept(s) have them (${features.length} of ${conceptsPerFeature.size}); values < ${prep.minValue} dropped`];
  const set: NormSet = {
    name: raw.name, path: raw.path, concepts, features, values, metric: raw.metric, notes,
    words: concepts.map((c) => raw.words.get(c) ?? c),
    categories: raw.categories ? concepts.map((c) => raw.categories!.get(c) ?? 'none') : undefined,
  };
  return empty.length > 0 ? selectConcepts(set, concepts.map((_, i) => i).filter((i) => !empty.includes(concepts[i]))) : set;
}

/** The same norm set restricted to the given concept rows (e.g. those the model's vocabulary covers). */
export function selectConcepts(set: NormSet, rows: readonly number[]): NormSet {
  const q = set.features.length;
  const values = new Float64Array(rows.length * q);
  rows.forEach((r, i) => values.set(set.values.subarray(r * q, (r + 1) * q), i * q));
  if (rows.length < 10) {
    throw epError('EP_NORMS_TOO_FEW_CONCEPTS', { name: set.name, count: rows.length });
  }
  return {
    ...set,
    concepts: rows.map((r) => set.concepts[r]),
    words: rows.map((r) => set.words[r]),
    categories: set.categories ? rows.map((r) => set.categories![r]) : undefined,
    values,
  };
}
