import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { epError } from '../errors.ts';
import { bertTokenizerJson } from './bert-tokenizer-json.ts';

export interface EncodedText {
  ids: number[];
  tokens: string[];
  /** True when the text had more tokens than the model's positions and was cut (the final [SEP] is kept). */
  truncated: boolean;
  /** Token count before truncation, with special tokens. */
  fullLength: number;
}

export interface TextEncoder {
  readonly source: 'tokenizer.json' | 'vocab.txt';
  readonly vocabSize: number;
  readonly maxLength: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  readonly maskId: number | undefined;
  encode(text: string): EncodedText;
  /** Word pieces of a bare word, without [CLS]/[SEP]. */
  pieces(word: string): { ids: number[]; tokens: string[] };
  tokenId(token: string): number | undefined;
}

interface TokenizerConfig { do_lower_case?: boolean; model_max_length?: number; [k: string]: unknown }

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw epError('EP_TOKENIZER_SYNTAX', { file: path, reason: (err as Error).message });
  }
}

/**
 * Loads the tokenizer of a model directory. tokenizer.json wins when present (it is the Hugging Face
 * standard); otherwise vocab.txt is turned into the equivalent BERT WordPiece definition.
 */
export function loadTextEncoder(modelDir: string, maxPositions: number): TextEncoder {
  const tjPath = join(modelDir, 'tokenizer.json');
  const vocabPath = join(modelDir, 'vocab.txt');
  const cfgPath = join(modelDir, 'tokenizer_config.json');
  const config: TokenizerConfig = existsSync(cfgPath) ? (readJson(cfgPath) as TokenizerConfig) : {};
  let json: Record<string, unknown>;
  let source: TextEncoder['source'];
  if (existsSync(tjPath)) {
    json = readJson(tjPath);
    source = 'tokenizer.json';
  } else if (existsSync(vocabPath)) {
    const vocab = readFileSync(vocabPath, 'utf8').split(/\r?\n/);
    while (vocab.length > 0 && vocab[vocab.length - 1] === '') vocab.pop();
    json = bertTokenizerJson({ vocab, lowercase: config.do_lower_case ?? true, maxLength: maxPositions });
    source = 'vocab.txt';
  } else {
    throw epError('EP_TOKENIZER_MISSING', { dir: modelDir });
  }
  const model = json.model as { vocab?: Record<string, number> | unknown[] } | undefined;
  if (!model || !model.vocab) throw epError('EP_TOKENIZER_NO_VOCAB', { file: source === 'tokenizer.json' ? tjPath : vocabPath });
  const vocabSize = Array.isArray(model.vocab) ? model.vocab.length : Object.keys(model.vocab).length;
  const tokenizer = new Tokenizer(json as never, config as never);
  const vocabMap = Array.isArray(model.vocab) ? undefined : (model.vocab as Record<string, number>);
  const tokenId = (t: string): number | undefined => vocabMap?.[t];
  const need = (t: string): number => {
    const id = tokenId(t);
    if (id === undefined) throw epError('EP_TOKENIZER_SPECIAL_TOKEN_MISSING', { dir: modelDir, token: t });
    return id;
  };
  const clsId = need('[CLS]');
  const sepId = need('[SEP]');
  const padId = need('[PAD]');
  const maxLength = Math.min(maxPositions, config.model_max_length && config.model_max_length < 1e6 ? config.model_max_length : maxPositions);
  return {
    source, vocabSize, maxLength, clsId, sepId, padId, maskId: tokenId('[MASK]'), tokenId,
    encode(text: string): EncodedText {
      if (text.trim().length === 0) throw epError('EP_ENCODE_TEXT_EMPTY');
      const enc = tokenizer.encode(text);
      const fullLength = enc.ids.length;
      if (fullLength <= maxLength) return { ids: enc.ids, tokens: enc.tokens, truncated: false, fullLength };
      // keep [CLS] + the first tokens, and end with [SEP] as the model saw in training
      const ids = [...enc.ids.slice(0, maxLength - 1), sepId];
      const tokens = [...enc.tokens.slice(0, maxLength - 1), '[SEP]'];
      return { ids, tokens, truncated: true, fullLength };
    },
    pieces(word: string) {
      const enc = tokenizer.encode(word, { add_special_tokens: false } as never);
      return { ids: enc.ids, tokens: enc.tokens };
    },
  };
}
