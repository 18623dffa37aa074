import type { TextEncoder } from '../../core/tokenizer/text-encoder.ts';

/** Fixed sentences for drift against fp32: short and long, plain words and rarer word pieces. */
export const DRIFT_SENTENCES = [
  'the cat sat on the mat.',
  'a dog is a domesticated carnivore kept as a pet.',
  'edge devices run quantized transformer models with limited memory.',
  'an oak is a tree that produces acorns.',
  'she played the violin beautifully at the concert last night.',
  'water boils at one hundred degrees celsius at sea level.',
  'the committee postponed its decision until further notice.',
  'a hammer is a tool with a heavy head used for driving nails.',
];

/**
 * A token-id sequence of exactly `seqLen` ids ([CLS] ... [SEP]) built from real words, so every
 * variant and device times the same input; the text is repeated until it is long enough.
 */
export function benchmarkSequence(tokenizer: TextEncoder, seqLen: number): number[] {
  const body = tokenizer.pieces(DRIFT_SENTENCES.join(' ')).ids;
  const n = Math.min(seqLen, tokenizer.maxLength) - 2;
  const ids = Array.from({ length: n }, (_, i) => body[i % body.length]);
  return [tokenizer.clsId, ...ids, tokenizer.sepId];
}
