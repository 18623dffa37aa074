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
  /** [CLS], or a decoder tokenizer's begin-of-text token (GPT-2: <|endoftext|>) */
  readonly clsId: number;
  /** [SEP], or the end-of-text token */
  readonly sepId: number;
  /** [PAD], or <pad> when there is one, else the end-of-text token (as GPT-2 pads) */
  readonly padId: number;
  readonly maskId: number | undefined;
  encode(text: string): EncodedText;
  /** Word pieces of a bare word, without [CLS]/[SEP]. */
  pieces(word: string): { ids: number[]; tokens: string[] };
  tokenId(token: string): number | undefined;
}

/** Begin-, end-of-text and padding tokens of decoder LMs' tokenizers (GPT-2, Llama, Llama 3, Qwen), first found wins. */
const BOS_TOKENS = ['<s>', '<|begin_of_text|>', '<|endoftext|>', '<|im_start|>'];
const EOS_TOKENS = ['</s>', '<|end_of_text|>', '<|endoftext|>', '<|im_end|>'];
const PAD_TOKENS = ['<pad>', '<|pad|>', '<|finetune_right_pad_id|>'];

type ConfigToken = string | { content?: string } | null;
interface TokenizerConfig { do_lower_case?: boolean; model_max_length?: number; bos_token?: ConfigToken; eos_token?: ConfigToken; pad_token?: ConfigToken; [k: string]: unknown }

const configToken = (t: ConfigToken | undefined): string[] => (typeof t === 'string' ? [t] : t && typeof t.content === 'string' ? [t.content] : []);

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
  const model = json.model as { type?: string; vocab?: Record<string, number> | unknown[] } | undefined;
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
  // BERT-family (WordPiece) tokenizers have [CLS] [SEP] [PAD]. Decoder LMs' byte-level BPE (GPT-2, Qwen) and
  // SentencePiece-style ones (Llama: BPE with byte fallback, or Unigram) have begin/end-of-text tokens instead
  // (GPT-2 pads with <|endoftext|>), which then play the same parts: tokenizer_config.json's bos/eos/pad_token
  // first, then the usual names. The BPE itself is @huggingface/tokenizers' (merges, byte-level, byte fallback).
  const bert = ['[CLS]', '[SEP]', '[PAD]'].every((t) => tokenId(t) !== undefined);
  const decoderStyle = model.type !== undefined && model.type !== 'WordPiece' && !bert;
  const added = new Map(((json.added_tokens ?? []) as Array<{ id: number; content: string }>).map((a) => [a.content, a.id]));
  const first = (names: readonly string[]): number | undefined => names.map((t) => tokenId(t) ?? added.get(t)).find((id) => id !== undefined);
  const special = (configured: ConfigToken | undefined, names: readonly string[], part: string): number => {
    const candidates = [...configToken(configured), ...names];
    const id = first(candidates);
    if (id === undefined) throw epError('EP_TOKENIZER_SPECIAL_TOKEN_MISSING', { dir: modelDir, token: `${part} token (${model.type} model; looked for ${candidates.join(', ')})` });
    return id;
  };
  const clsId = decoderStyle ? special(config.bos_token, BOS_TOKENS, 'begin-of-text') : need('[CLS]');
  const sepId = decoderStyle ? special(config.eos_token, EOS_TOKENS, 'end-of-text') : need('[SEP]');
  const padId = decoderStyle ? first([...configToken(config.pad_token), ...PAD_TOKENS]) ?? sepId : need('[PAD]');
  const maxLength = Math.min(maxPositions, config.model_max_length && config.model_max_length < 1e6 ? config.model_max_length : maxPositions);
  return {
    source, vocabSize, maxLength, clsId, sepId, padId, maskId: tokenId('[MASK]'), tokenId,
    encode(text: string): EncodedText {
      if (text.trim().length === 0) throw epError('EP_ENCODE_TEXT_EMPTY');
      const enc = tokenizer.encode(text);
      const fullLength = enc.ids.length;
      if (fullLength <= maxLength) return { ids: enc.ids, tokens: enc.tokens, truncated: false, fullLength };
      // a causal LM's text is cut, never closed with an end token it would not have seen there
      if (decoderStyle) return { ids: enc.ids.slice(0, maxLength), tokens: enc.tokens.slice(0, maxLength), truncated: true, fullLength };
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
