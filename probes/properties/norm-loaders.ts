import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { epError } from '../../core/errors.ts';
import { readDelimited, requireColumns } from './delimited.ts';
import type { HeadlineMetric, NormEntry, RawNorms, Warn } from './norm-set.ts';

export const NAMED_NORMS = ['mcrae', 'buchanan', 'binder'] as const;
export type NamedNorms = (typeof NAMED_NORMS)[number];

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** --norms-dir, else EDGEPROBE_NORMS_DIR, else $EDGEPROBE_SHARED/norms, else ../shared/norms beside the project. */
export function resolveNormsDir(flag?: string): string {
  const shared = process.env.EDGEPROBE_SHARED ? join(process.env.EDGEPROBE_SHARED, 'norms') : undefined;
  const dir = flag ?? process.env.EDGEPROBE_NORMS_DIR ?? shared ?? resolve(PROJECT_ROOT, '..', 'shared', 'norms');
  if (!existsSync(dir)) {
    throw epError('EP_NORMS_DIR_MISSING', { dir });
  }
  return dir;
}

function need(path: string, set: string): string {
  if (!existsSync(path)) throw epError('EP_NORMS_SET_MISSING', { set, path });
  return path;
}

/** `mcrae|buchanan|binder` (resolved under the norms dir) or the path of a generic norm file. */
export function loadRawNorms(spec: string, opts: { normsDir?: string; warn: Warn; metric?: HeadlineMetric }): RawNorms {
  const lower = spec.toLowerCase();
  if ((NAMED_NORMS as readonly string[]).includes(lower)) {
    const dir = resolveNormsDir(opts.normsDir);
    if (lower === 'mcrae') return loadMcRae(need(join(dir, 'mcrae', 'CONCS_FEATS_concstats_brm.txt'), 'McRae'));
    if (lower === 'buchanan') return loadBuchanan(need(join(dir, 'buchanan', 'top to final.csv'), 'Buchanan'), need(join(dir, 'buchanan', 'n values.csv'), 'Buchanan'), opts.warn);
    return loadBinder(need(join(dir, 'binder', 'binder-norms.csv'), 'Binder'), opts.warn);
  }
  if (!existsSync(spec)) throw epError('EP_NORMS_SPEC_UNKNOWN', { spec, named: NAMED_NORMS.join(', ') });
  return loadGenericNorms(spec, opts.metric);
}

/** McRae concept names carry senses (`bat_(animal)`); the word embedded is `bat`, underscores become spaces. */
export function mcraeWord(concept: string): string {
  return concept.replace(/_\([^)]*\)$/, '').replace(/_/g, ' ');
}

/** McRae et al. 2005: value = Prod_Freq / 30 (fraction of participants; >= 5/30 in the release). */
export function loadMcRae(path: string): RawNorms {
  const t = readDelimited(path, '\t');
  const [ci, fi, pi] = requireColumns(t, ['Concept', 'Feature', 'Prod_Freq'], 'the McRae loader');
  const words = new Map<string, string>();
  const entries: NormEntry[] = t.rows.map(({ line, cells }) => {
    const concept = cells[ci]?.trim() ?? '';
    words.set(concept, mcraeWord(concept));
    return { concept, feature: cells[fi]?.trim() ?? '', value: numeric(cells[pi]) / 30, line };
  });
  const senses = [...words.keys()].filter((c) => c.includes('_('));
  return {
    name: 'mcrae', path, entries, words, metric: 'f1',
    notes: [`McRae: value = Prod_Freq/30; ${senses.length} sense-marked concepts map to their bare word (e.g. ${senses.slice(0, 3).join(', ')}), homonyms share one embedding`],
  };
}

/**
 * Buchanan et al. 2019, parsed stage: sum frequency_feature per (cue, translated) and divide by the cue's n.
 * `final` rows are the authors' hand corrections: for a cue they replace every `top` row that shares
 * their raw feature or their root form (they merge misspellings, e.g. advice: opinion 26 + openion 1 -> 27).
 */
export function loadBuchanan(path: string, nPath: string, warn: Warn): RawNorms {
  const t = readDelimited(path, ',');
  const [wi, ci, fi, ti, qi] = requireColumns(t, ['where', 'cue', 'feature', 'translated', 'frequency_feature'], 'the Buchanan loader');
  const nt = readDelimited(nPath, ',');
  const [nci, nni] = requireColumns(nt, ['cue_word', 'subject list'], 'the Buchanan n-values file');
  // Excel upper-cased the cues true/false in both files; they are words like any other
  const cueOf = (s: string): string => (s === 'TRUE' || s === 'FALSE' ? s.toLowerCase() : s.trim());
  const n = new Map(nt.rows.map((r) => [cueOf(r.cells[nci] ?? ''), numeric(r.cells[nni])]));
  const finals = t.rows.filter((r) => r.cells[wi] === 'final');
  const replaced = new Set<string>();
  for (const r of finals) {
    replaced.add(`${cueOf(r.cells[ci])}\u0000f\u0000${r.cells[fi]}`);
    replaced.add(`${cueOf(r.cells[ci])}\u0000t\u0000${r.cells[ti]}`);
  }
  const sums = new Map<string, { cue: string; feature: string; freq: number; line: number }>();
  let dropped = 0;
  for (const r of t.rows) {
    const cue = cueOf(r.cells[ci] ?? '');
    const where = r.cells[wi];
    if (where !== 'final' && where !== 'top') { warn(`${path}: line ${r.line} has where='${where}' (expected top or final); skipped`); continue; }
    if (where === 'top' && (replaced.has(`${cue}\u0000f\u0000${r.cells[fi]}`) || replaced.has(`${cue}\u0000t\u0000${r.cells[ti]}`))) { dropped++; continue; }
    const key = `${cue}\u0000${r.cells[ti]}`;
    const s = sums.get(key) ?? { cue, feature: r.cells[ti], freq: 0, line: r.line };
    s.freq += numeric(r.cells[qi]);
    sums.set(key, s);
  }
  const noN = new Set<string>();
  const entries: NormEntry[] = [...sums.values()].map((s) => {
    const cueN = n.get(s.cue);
    if (cueN === undefined || !(cueN > 0)) noN.add(s.cue);
    return { concept: s.cue, feature: s.feature, value: cueN ? s.freq / cueN : NaN, line: s.line };
  });
  if (noN.size > 0) warn(`${nPath}: no sample size for ${noN.size} cue(s) (${[...noN].slice(0, 5).join(', ')}); their rows are skipped`);
  const words = new Map(entries.map((e) => [e.concept, e.concept]));
  return {
    name: 'buchanan', path, entries, words, metric: 'f1',
    notes: [`Buchanan: value = sum of frequency_feature per (cue, translated) / n; ${finals.length} 'final' correction rows replaced ${dropped} 'top' rows sharing their feature or root form; TRUE/FALSE cues lower-cased`],
  };
}

export const BINDER_ATTRIBUTES = ['Vision', 'Bright', 'Dark', 'Color', 'Pattern', 'Large', 'Small', 'Motion', 'Biomotion', 'Fast', 'Slow', 'Shape', 'Complexity', 'Face', 'Body', 'Touch', 'Temperature', 'Texture', 'Weight', 'Pain', 'Audition', 'Loud', 'Low', 'High', 'Sound', 'Music', 'Speech', 'Taste', 'Smell', 'Head', 'UpperLimb', 'LowerLimb', 'Practice', 'Landmark', 'Path', 'Scene', 'Near', 'Toward', 'Away', 'Number', 'Time', 'Duration', 'Long', 'Short', 'Caused', 'Consequential', 'Social', 'Human', 'Communication', 'Self', 'Cognition', 'Benefit', 'Harm', 'Pleasant', 'Unpleasant', 'Happy', 'Sad', 'Angry', 'Disgusted', 'Fearful', 'Surprised', 'Drive', 'Needs', 'Attention', 'Arousal'] as const;

/**
 * Binder et al. 2016: the 65 ratings (0-6) as they are; `na` cells (attributes not rated for a word
 * class) become 0 as in the reference code; `Super Category` gives the categories. `used` is rated
 * twice (adjective No 27, verb No 231): the concepts are kept apart as `used (adjective)` / `used (verb)`
 * sharing one embedding, instead of the reference code's silent overwrite.
 */
export function loadBinder(path: string, warn: Warn): RawNorms {
  const t = readDelimited(path, ',');
  const cols = requireColumns(t, ['Word', 'WC', ...BINDER_ATTRIBUTES], 'the Binder loader');
  const [wordCol, wcCol] = cols;
  const catCol = t.header.indexOf('Super Category');
  const words = new Map<string, string>();
  const categories = catCol >= 0 ? new Map<string, string>() : undefined;
  const counts = new Map<string, number>();
  for (const r of t.rows) counts.set(r.cells[wordCol], (counts.get(r.cells[wordCol]) ?? 0) + 1);
  const wc: Record<string, string> = { 1: 'noun', 2: 'verb', 3: 'adjective' };
  const entries: NormEntry[] = [];
  let na = 0;
  for (const r of t.rows) {
    const word = r.cells[wordCol].trim();
    const concept = counts.get(r.cells[wordCol])! > 1 ? `${word} (${wc[r.cells[wcCol]] ?? `line ${r.line}`})` : word;
    // `listened (to)`: the particle is not part of the word embedded
    words.set(concept, word.replace(/\s*\(.*\)$/, ''));
    if (categories) categories.set(concept, r.cells[catCol]?.trim() || 'none');
    BINDER_ATTRIBUTES.forEach((a, k) => {
      const cell = (r.cells[cols[k + 2]] ?? '').trim();
      if (cell === 'na') na++;
      entries.push({ concept, feature: a, value: cell === 'na' ? 0 : numeric(cell), line: r.line });
    });
  }
  const twice = [...counts].filter(([, c]) => c > 1).map(([w]) => w);
  if (twice.length > 0) warn(`${path}: ${twice.join(', ')} rated more than once; kept as separate concepts per word class sharing one embedding`);
  return {
    name: 'binder', path, entries, words, categories, metric: 'spearman',
    notes: [`Binder: 65 attribute ratings as they are, ${na} 'na' cells set to 0 (reference code); categories = Super Category`],
  };
}

/**
 * A user's own norms: CSV or TSV with a header naming `concept`, `feature`, `value` (any order, extra
 * columns ignored), one row per concept-feature pair; optional `category` and `word` (the word to embed
 * when it differs from the concept id). Metric: F1@10 when most cells of the dense matrix would be empty.
 */
export function loadGenericNorms(path: string, metric?: HeadlineMetric): RawNorms {
  const t = readDelimited(path);
  const [ci, fi, vi] = requireColumns(t, ['concept', 'feature', 'value'], 'a norm file');
  const lower = t.header.map((h) => h.toLowerCase());
  const cat = lower.indexOf('category');
  const wordCol = lower.indexOf('word');
  const words = new Map<string, string>();
  const categories = cat >= 0 ? new Map<string, string>() : undefined;
  const entries: NormEntry[] = t.rows.map(({ line, cells }) => {
    const concept = (cells[ci] ?? '').trim();
    words.set(concept, wordCol >= 0 && cells[wordCol]?.trim() ? cells[wordCol].trim() : concept);
    if (categories) categories.set(concept, (cells[cat] ?? '').trim() || 'none');
    return { concept, feature: (cells[fi] ?? '').trim(), value: numeric(cells[vi]), line };
  });
  const blank = entries.filter((e) => !e.concept || !e.feature);
  if (blank.length > 0) {
    throw epError('EP_NORMS_BLANK_ROWS', { file: path, count: blank.length, lines: blank.slice(0, 8).map((e) => e.line).join(', ') });
  }
  const nConcepts = new Set(entries.map((e) => e.concept)).size;
  const nFeatures = new Set(entries.map((e) => e.feature)).size;
  const density = entries.length / Math.max(1, nConcepts * nFeatures);
  // named after the file, so several user norm sets stay apart in tables and the store
  return { name: basename(path).replace(/\.[^.]+$/, ''), path, entries, words, categories, metric: metric ?? (density < 0.5 ? 'f1' : 'spearman'), notes: [`custom norms ${path}: ${nConcepts} concepts, ${nFeatures} features, density ${density.toFixed(3)}`] };
}

function numeric(cell: string | undefined): number {
  const s = (cell ?? '').trim();
  return s === '' ? NaN : Number(s);
}
