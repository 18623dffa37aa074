import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { epError } from '../errors.ts';
import { SeededRandom } from '../numeric/seeded-random.ts';
import type { TextEncoder } from '../tokenizer/text-encoder.ts';

/** The built-in sentences: written for edgeprobe (not taken from a dataset), 5-54 tokens with the BERT WordPiece vocabulary. */
export const BUILT_IN_CORPUS_PATH = join(dirname(fileURLToPath(import.meta.url)), 'corpus-sentences.txt');

export interface Corpus {
  source: 'built-in' | 'file';
  /** the file for `file` corpora */
  path?: string;
  seed: number;
  sentences: string[];
}

export interface EncodedSentence {
  text: string;
  ids: number[];
}

function nonEmptyLines(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
}

/** The built-in corpus in a seeded order, cut to `count` sentences when given. */
export function builtInCorpus(seed: number, count?: number): Corpus {
  const all = nonEmptyLines(readFileSync(BUILT_IN_CORPUS_PATH, 'utf8'));
  return { source: 'built-in', seed, sentences: pick(all, seed, count) };
}

/** A user's text file, one sentence a line (blank lines skipped), in a seeded order. */
export function corpusFromFile(path: string, seed: number, count?: number): Corpus {
  if (!existsSync(path) || !statSync(path).isFile()) throw epError('EP_TEXT_FILE_MISSING', { file: path });
  const lines = nonEmptyLines(readFileSync(path, 'utf8'));
  if (lines.length === 0) throw epError('EP_TEXT_FILE_EMPTY', { file: path });
  return { source: 'file', path, seed, sentences: pick(lines, seed, count) };
}

function pick(lines: string[], seed: number, count?: number): string[] {
  const ordered = new SeededRandom(seed).shuffle(lines);
  if (count === undefined) return ordered;
  if (!Number.isInteger(count) || count < 1) throw epError('EP_FLAG_OUT_OF_RANGE', { flag: 'sentences', range: 'a positive integer', value: count, example: '200' });
  return ordered.slice(0, count);
}

/**
 * Tokenizes every sentence. A sentence longer than the model's positions is an error rather than cut:
 * a truncated sentence would silently change the token relations being measured.
 */
export function encodeCorpus(corpus: Corpus, tokenizer: TextEncoder): EncodedSentence[] {
  const tooLong: string[] = [];
  const out = corpus.sentences.map((text) => {
    const enc = tokenizer.encode(text);
    if (enc.truncated) tooLong.push(`"${text.length > 50 ? `${text.slice(0, 47)}...` : text}" (${enc.fullLength} tokens)`);
    return { text, ids: enc.ids };
  });
  if (tooLong.length > 0) {
    const where = corpus.path ? ` in ${corpus.path}` : '';
    throw epError('EP_SENTENCES_TOO_LONG', {
      count: tooLong.length, where, positions: tokenizer.maxLength, examples: `${tooLong.slice(0, 3).join('; ')}${tooLong.length > 3 ? '; ...' : ''}`, pieces: tokenizer.maxLength - 2,
    });
  }
  if (out.length < 2) throw epError('EP_TOO_FEW_SENTENCES', { count: out.length });
  return out;
}

/**
 * The built-in corpus without sentences longer than the model's positions, cut to `count`: a fleet
 * plan asks for N sentences of whatever model a device runs, and a short-context model (e.g. a
 * generated test model) gets the first N that fit (in the seeded order) rather than an error.
 */
export function fittingCorpus(tokenizer: TextEncoder, seed: number, count: number): Corpus {
  const all = builtInCorpus(seed);
  const fits = all.sentences.filter((s) => !tokenizer.encode(s).truncated);
  if (fits.length < 2) throw epError('EP_MODEL_TOO_FEW_POSITIONS', { positions: tokenizer.maxLength });
  return { ...all, sentences: fits.slice(0, count) };
}
