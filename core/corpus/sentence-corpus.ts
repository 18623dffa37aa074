import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.ts';
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
  if (!existsSync(path) || !statSync(path).isFile()) throw new UserError(`text file not found: ${path}`, 'pass --text with a UTF-8 file holding one sentence per line');
  const lines = nonEmptyLines(readFileSync(path, 'utf8'));
  if (lines.length === 0) throw new UserError(`text file ${path} has no sentences (it is empty or only blank lines)`, 'write one sentence per line, or leave out --text to use the built-in corpus');
  return { source: 'file', path, seed, sentences: pick(lines, seed, count) };
}

function pick(lines: string[], seed: number, count?: number): string[] {
  const ordered = new SeededRandom(seed).shuffle(lines);
  if (count === undefined) return ordered;
  if (!Number.isInteger(count) || count < 1) throw new UserError(`--sentences must be a positive integer, got ${count}`, 'e.g. --sentences 200');
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
    throw new UserError(
      `${tooLong.length} sentence(s)${where} exceed the model's ${tokenizer.maxLength} positions: ${tooLong.slice(0, 3).join('; ')}${tooLong.length > 3 ? '; ...' : ''}`,
      `split these sentences into parts of at most ${tokenizer.maxLength - 2} word pieces`,
    );
  }
  if (out.length < 2) throw new UserError(`the attention probe needs at least 2 sentences, got ${out.length}`, 'add sentences to the text file or raise --sentences');
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
  if (fits.length < 2) throw new UserError(`fewer than 2 built-in sentences fit the model's ${tokenizer.maxLength} positions`, 'use a model with at least 16 positions');
  return { ...all, sentences: fits.slice(0, count) };
}
