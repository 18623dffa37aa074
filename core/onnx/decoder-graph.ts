import { SeededRandom } from '../numeric/seeded-random.ts';
import { DataType, intsInitializer, makeModel, node, scalarInitializer, tensorValueInfo } from './graph-builder.ts';
import { onnx, type ModelProto, type NodeProto, type TensorProto } from './proto.ts';
import { floatTensor, int64Tensor } from './tensor-data.ts';
import type { DecoderGraphSpec } from './decoder-spec.ts';
import { plantInduction, plantRotaryInduction } from './planted-induction.ts';

export type { DecoderGraphSpec, PlantedInduction } from './decoder-spec.ts';

const MASKED = -10000;

/**
 * Writes a decoder-only causal language model as an ONNX graph with seeded random weights, in the two
 * shapes small edge LMs come in:
 * - `gpt2`: learned position embeddings, pre-LayerNorm blocks (fused LayerNormalization, as torch.onnx
 *   writes at opset 17), one c_attn [H, 3H] projection split into Q/K/V, the causal mask as a lower-triangular
 *   BOOL buffer sliced to the sequence and applied with Where (HF GPT-2's `attn.bias`), tanh-GELU MLP, final
 *   LayerNorm and an LM head tied to the word embeddings (MatMul with Transpose(wte)).
 * - `llama`: no position embeddings but rotary ones on Q and K, RMSNorm written out (Pow, ReduceMean, Add,
 *   Sqrt, Div, Mul), grouped-query attention whose K/V heads are repeated to the query heads (HF repeat_kv),
 *   the causal mask from comparing two Ranges (what recent torch exports contain), a SwiGLU MLP and an
 *   untied LM head.
 * Inputs `input_ids` and `attention_mask` [batch, sequence]; output `logits` [batch, sequence, vocab].
 * `plantInduction` hand-sets two heads into a previous-token head and an induction head (both shapes).
 */
export function buildDecoderGraph(spec: DecoderGraphSpec): ModelProto {
  const { hidden: H, heads, layers, intermediate: I, vocabSize: V, maxPositions: P } = spec;
  if (H % heads !== 0) throw new Error(`hidden size ${H} is not divisible by ${heads} heads`);
  const kvHeads = spec.kvHeads ?? heads;
  if (heads % kvHeads !== 0) throw new Error(`${heads} query heads are not a multiple of ${kvHeads} key/value heads`);
  if (spec.plantInduction && spec.tieEmbeddings && spec.family === 'llama') throw new Error('the planted Llama-shape induction heads set an untied LM head: leave tieEmbeddings off');
  const d = H / heads;
  const rng = new SeededRandom(spec.seed);
  const std = spec.initStd ?? 0.02;
  const nodes: NodeProto[] = [];
  const inits: TensorProto[] = [];
  const tables = new Map<string, Float32Array>();
  const add = (op: string, inputs: string[], out: string, attrs: Parameters<typeof node>[3] = {}): string => {
    nodes.push(node(op, inputs, [out], attrs));
    return out;
  };
  const weight = (name: string, dims: number[], s = std, fill?: number): string => {
    const n = dims.reduce((a, b) => a * b, 1);
    const values = fill === undefined ? rng.normalArray(n, s) : new Float32Array(n).fill(fill);
    tables.set(name, values);
    inits.push(floatTensor(name, dims, values));
    return name;
  };
  const scalar = (name: string, value: number): string => scalarInitializer(inits, name, value);
  const ints = (name: string, values: number[]): string => intsInitializer(inits, name, values);
  const linear = (x: string, prefix: string, inDim: number, outDim: number, bias: boolean): string => {
    const mm = add('MatMul', [x, weight(`${prefix}.weight`, [inDim, outDim])], `${prefix}/mm`);
    return bias ? add('Add', [mm, weight(`${prefix}.bias`, [outDim], 0, 0)], `${prefix}/out`) : mm;
  };
  const norm = (x: string, prefix: string): string => {
    const gamma = weight(`${prefix}.weight`, [H], 0, 1);
    if (spec.family === 'gpt2') {
      return add('LayerNormalization', [x, gamma, weight(`${prefix}.bias`, [H], 0, 0)], `${prefix}/out`, { axis: -1, epsilon: { float: 1e-5 } });
    }
    // RMSNorm as HF Llama writes it: x / sqrt(mean(x^2) + eps) * weight
    const sq = add('Pow', [x, scalar(`${prefix}/two`, 2)], `${prefix}/sq`);
    const ms = add('ReduceMean', [sq], `${prefix}/ms`, { axes: [-1], keepdims: 1 });
    const rms = add('Sqrt', [add('Add', [ms, scalar(`${prefix}/eps`, 1e-6)], `${prefix}/ms_eps`)], `${prefix}/rms`);
    return add('Mul', [add('Div', [x, rms], `${prefix}/normed`), gamma], `${prefix}/out`);
  };

  // sequence length as a scalar and a 1-D tensor, and the position ids 0..s-1
  add('Shape', ['input_ids'], 'seq/shape');
  const seq1 = add('Gather', ['seq/shape', ints('seq/one', [1])], 'seq/len_1d', { axis: 0 });
  const seqLen = add('Squeeze', [seq1, ints('seq/axes0', [0])], 'seq/len');
  inits.push(int64Tensor('seq/step', [], [1]));
  // 0 starts the positions, or (llama with a cache) the key positions
  if (!spec.kvCache || spec.family === 'llama') inits.push(int64Tensor('seq/zero', [], [0]));
  // with a cache, the current tokens sit at positions past .. past + s - 1 of past + s keys
  let past = 'seq/zero';
  let total = seqLen;
  let past1 = '';
  if (spec.kvCache) {
    add('Shape', ['past_key_values.0.key'], 'past/shape');
    past1 = add('Gather', ['past/shape', ints('past/two', [2])], 'past/len_1d', { axis: 0 });
    past = add('Squeeze', [past1, 'seq/axes0'], 'past/len');
    total = add('Add', [past, seqLen], 'past/total');
  }
  const positions = add('Range', [past, total, 'seq/step'], 'seq/positions');

  const wte = weight('wte.weight', [V, H]);
  let x = add('Gather', [wte, 'input_ids'], 'embed/tokens', { axis: 0 });
  if (spec.family === 'gpt2') {
    const wpe = weight('wpe.weight', [P, H]);
    const ids = spec.positionIdsInput ? 'position_ids' : add('Unsqueeze', [positions, 'seq/axes0'], 'seq/position_ids');
    const pos = add('Gather', [wpe, ids], 'embed/positions', { axis: 0 });
    x = add('Add', [x, pos], 'embed/sum');
  }

  // padding: additive [batch, 1, 1, seq], 0 for tokens and MASKED for padding
  add('Cast', ['attention_mask'], 'mask/float', { to: DataType.FLOAT });
  add('Sub', [scalar('mask/one', 1), 'mask/float'], 'mask/inv');
  add('Mul', ['mask/inv', scalar('mask/neg', MASKED)], 'mask/add');
  const padding = add('Unsqueeze', ['mask/add', ints('mask/axes', [1, 2])], 'mask/bias');
  // causal mask: gpt2 slices a lower-triangular BOOL buffer; llama compares key and query positions
  let causal: string;
  if (spec.family === 'gpt2') {
    const tril = new Uint8Array(P * P);
    for (let i = 0; i < P; i++) for (let j = 0; j <= i; j++) tril[i * P + j] = 1;
    inits.push(onnx.TensorProto.create({ name: 'attn.bias', dims: [1, 1, P, P], dataType: DataType.BOOL, rawData: tril }) as TensorProto);
    // rows past .. past+s, columns 0 .. past+s (HF GPT-2: bias[:, :, k - q : k, :k])
    const total1 = spec.kvCache ? add('Unsqueeze', [total, 'seq/axes0'], 'causal/total_1d') : seq1;
    const starts = spec.kvCache ? add('Concat', [past1, ints('causal/zero_1d', [0])], 'causal/starts_dyn', { axis: 0 }) : ints('causal/starts', [0, 0]);
    const ends = add('Concat', [total1, total1], 'causal/ends', { axis: 0 });
    causal = add('Slice', ['attn.bias', starts, ends, ints('causal/axes', [2, 3])], 'causal/keep');
  } else {
    const rows = add('Unsqueeze', [positions, ints('causal/axis1', [1])], 'causal/rows');
    const keys = spec.kvCache ? add('Range', ['seq/zero', total, 'seq/step'], 'causal/key_positions') : positions;
    const cols = add('Unsqueeze', [keys, 'seq/axes0'], 'causal/cols');
    const future = add('Greater', [cols, rows], 'causal/future');
    causal = add('Where', [future, scalar('causal/neg', MASKED), scalar('causal/zero', 0)], 'causal/add');
  }

  // rotary tables (llama): cos/sin [P, d] gathered by position, halves rotated as HF rotate_half does
  let rotary: { cos: string; sin: string } | undefined;
  if (spec.family === 'llama') {
    const cos = new Float32Array(P * d);
    const sin = new Float32Array(P * d);
    for (let p = 0; p < P; p++) {
      for (let i = 0; i < d / 2; i++) {
        const angle = p / 10000 ** ((2 * i) / d);
        cos[p * d + i] = cos[p * d + i + d / 2] = Math.cos(angle);
        sin[p * d + i] = sin[p * d + i + d / 2] = Math.sin(angle);
      }
    }
    inits.push(floatTensor('rotary.cos', [P, d], cos), floatTensor('rotary.sin', [P, d], sin));
    rotary = { cos: add('Gather', ['rotary.cos', positions], 'rotary/cos_s', { axis: 0 }), sin: add('Gather', ['rotary.sin', positions], 'rotary/sin_s', { axis: 0 }) };
  }
  const scale = scalar('attn/scale', Math.sqrt(d));
  const merge = ints('attn/merge_shape', [0, 0, H]);

  for (let l = 0; l < layers; l++) {
    const p = `h.${l}`;
    const split = (t: string, name: string, n: number): string => {
      const s = add('Reshape', [t, ints(`${p}/${name}_shape`, [0, 0, n, d])], `${p}/${name}_split`);
      return add('Transpose', [s], `${p}/${name}_heads`, { perm: [0, 2, 1, 3] });
    };
    const rotate = (t: string, name: string): string => {
      if (!rotary) return t;
      nodes.push(node('Split', [t, ints(`${p}/${name}_halves`, [d / 2, d / 2])], [`${p}/${name}_x1`, `${p}/${name}_x2`], { axis: -1 }));
      const half = add('Concat', [add('Neg', [`${p}/${name}_x2`], `${p}/${name}_negx2`), `${p}/${name}_x1`], `${p}/${name}_rot_half`, { axis: -1 });
      return add('Add', [add('Mul', [t, rotary.cos], `${p}/${name}_cos`), add('Mul', [half, rotary.sin], `${p}/${name}_sin`)], `${p}/${name}_rot`);
    };
    const cached = (t: string, name: 'key' | 'value'): string => {
      if (!spec.kvCache) return t;
      const all = add('Concat', [`past_key_values.${l}.${name}`, t], `${p}/${name}_with_past`, { axis: 2 });
      add('Identity', [all], `present.${l}.${name}`);
      return all;
    };
    const repeat = (t: string, name: string): string => {
      if (kvHeads === heads) return t;
      const u = add('Unsqueeze', [t, ints(`${p}/${name}_axis2`, [2])], `${p}/${name}_u`);
      const r = add('Concat', Array.from({ length: heads / kvHeads }, () => u), `${p}/${name}_rep`, { axis: 2 });
      return add('Reshape', [r, ints(`${p}/${name}_rep_shape`, [0, heads, -1, d])], `${p}/${name}_repeated`);
    };
    const a = norm(x, spec.family === 'gpt2' ? `${p}.ln_1` : `${p}.input_layernorm`);
    let q: string, k: string, v: string;
    if (spec.family === 'gpt2') {
      const qkv = linear(a, `${p}.attn.c_attn`, H, 3 * H, true);
      nodes.push(node('Split', [qkv, ints(`${p}/qkv_sizes`, [H, H, H])], [`${p}/q`, `${p}/k`, `${p}/v`], { axis: 2 }));
      [q, k, v] = [split(`${p}/q`, 'q', heads), cached(split(`${p}/k`, 'k', heads), 'key'), cached(split(`${p}/v`, 'v', heads), 'value')];
    } else {
      const bias = spec.attentionBias ?? false;
      q = rotate(split(linear(a, `${p}.self_attn.q_proj`, H, H, bias), 'q', heads), 'q');
      k = repeat(cached(rotate(split(linear(a, `${p}.self_attn.k_proj`, H, kvHeads * d, bias), 'k', kvHeads), 'k'), 'key'), 'k');
      v = repeat(cached(split(linear(a, `${p}.self_attn.v_proj`, H, kvHeads * d, bias), 'v', kvHeads), 'value'), 'v');
    }
    const kt = add('Transpose', [k], `${p}/k_t`, { perm: [0, 1, 3, 2] });
    let scores = add('Div', [add('MatMul', [q, kt], `${p}/scores_raw`), scale], `${p}/scores_scaled`);
    scores = spec.family === 'gpt2'
      ? add('Where', [causal, scores, scalar(`${p}/masked`, MASKED)], `${p}/scores_causal`)
      : add('Add', [scores, causal], `${p}/scores_causal`);
    const probs = add('Softmax', [add('Add', [scores, padding], `${p}/scores`)], `${p}/probs`, { axis: -1 });
    const ctxHeads = add('MatMul', [probs, v], `${p}/context_heads`);
    const context = add('Reshape', [add('Transpose', [ctxHeads], `${p}/context_t`, { perm: [0, 2, 1, 3] }), merge], `${p}/context`);
    const attnOut = spec.family === 'gpt2' ? linear(context, `${p}.attn.c_proj`, H, H, true) : linear(context, `${p}.self_attn.o_proj`, H, H, false);
    x = add('Add', [x, attnOut], `${p}/attn_residual`);
    const m = norm(x, spec.family === 'gpt2' ? `${p}.ln_2` : `${p}.post_attention_layernorm`);
    let mlp: string;
    if (spec.family === 'gpt2') {
      const up = linear(m, `${p}.mlp.c_fc`, H, I, true);
      mlp = linear(tanhGelu(add, scalar, up, `${p}/gelu`), `${p}.mlp.c_proj`, I, H, true);
    } else {
      const gate = linear(m, `${p}.mlp.gate_proj`, H, I, false);
      const silu = add('Mul', [gate, add('Sigmoid', [gate], `${p}/gate_sigmoid`)], `${p}/silu`);
      mlp = linear(add('Mul', [silu, linear(m, `${p}.mlp.up_proj`, H, I, false)], `${p}/swiglu`), `${p}.mlp.down_proj`, I, H, false);
    }
    x = add('Add', [x, mlp], `${p}/mlp_residual`);
  }
  const final = norm(x, spec.family === 'gpt2' ? 'ln_f' : 'norm');
  if (spec.family === 'gpt2' || spec.tieEmbeddings) add('MatMul', [final, add('Transpose', [wte], 'lm_head/wte_t', { perm: [1, 0] })], 'logits');
  else add('MatMul', [final, weight('lm_head.weight', [H, V])], 'logits');

  if (spec.plantInduction) (spec.family === 'gpt2' ? plantInduction : plantRotaryInduction)(spec, tables, new SeededRandom(spec.seed + 1));
  // the planted values were written into the same arrays the initializers view
  const cache = spec.kvCache ? Array.from({ length: layers }, (_, l) => ['key', 'value'].map((kv) => `${l}.${kv}`)).flat() : [];
  const cacheDims = ['batch', kvHeads, 'past_sequence', d];
  return makeModel({
    name: spec.name ?? `edgeprobe-generated-${spec.family}`,
    nodes,
    initializers: inits,
    inputs: [
      ...['input_ids', 'attention_mask'].map((n) => tensorValueInfo(n, DataType.INT64, ['batch', n === 'input_ids' || !spec.kvCache ? 'sequence' : 'total_sequence'])),
      ...(spec.positionIdsInput ? [tensorValueInfo('position_ids', DataType.INT64, ['batch', 'sequence'])] : []),
      ...cache.map((c) => tensorValueInfo(`past_key_values.${c}`, DataType.FLOAT, cacheDims)),
    ],
    outputs: [tensorValueInfo('logits', DataType.FLOAT, ['batch', 'sequence', V]), ...cache.map((c) => tensorValueInfo(`present.${c}`, DataType.FLOAT, ['batch', kvHeads, 'total_sequence', d]))],
    opset: 17,
  });
}

/** GPT-2's "gelu_new": 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
function tanhGelu(add: (op: string, i: string[], o: string) => string, scalar: (n: string, v: number) => string, x: string, p: string): string {
  const cube = add('Mul', [add('Mul', [x, x], `${p}/x2`), x], `${p}/x3`);
  const inner = add('Add', [x, add('Mul', [cube, scalar(`${p}/c`, 0.044715)], `${p}/cx3`)], `${p}/inner`);
  const t = add('Tanh', [add('Mul', [inner, scalar(`${p}/k`, Math.sqrt(2 / Math.PI))], `${p}/scaled`)], `${p}/tanh`);
  return add('Mul', [add('Mul', [x, scalar(`${p}/half`, 0.5)], `${p}/halfx`), add('Add', [t, scalar(`${p}/one`, 1)], `${p}/t1`)], `${p}/out`);
}
