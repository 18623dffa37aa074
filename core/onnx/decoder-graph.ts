import { SeededRandom } from '../numeric/seeded-random.ts';
import { DataType, intsInitializer, makeModel, node, scalarInitializer, tensorValueInfo } from './graph-builder.ts';
import { onnx, type ModelProto, type NodeProto, type TensorProto } from './proto.ts';
import { floatTensor, int64Tensor } from './tensor-data.ts';

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
export interface DecoderGraphSpec {
  family: 'gpt2' | 'llama';
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  /** llama: key/value heads (grouped-query attention); must divide `heads`. Default: `heads` */
  kvHeads?: number;
  intermediate: number;
  maxPositions: number;
  seed: number;
  initStd?: number;
  plantInduction?: PlantedInduction;
  /**
   * take a key/value cache as optimum's text-generation-with-past exports do: inputs `past_key_values.{l}.key|value`
   * [batch, kvHeads, past_sequence, headDim] concatenated before the keys and values, outputs `present.{l}.key|value`,
   * positions and causal mask offset by the past length, `attention_mask` over past + current tokens
   */
  kvCache?: boolean;
  /** gpt2: take `position_ids` [batch, sequence] as an input (as HF exports with it do) instead of computing 0..s-1 */
  positionIdsInput?: boolean;
  name?: string;
}

/**
 * Two hand-set heads that implement induction the way Olsson et al. (2022) describe it. The residual stream is
 * cut into three subspaces of the head width D: tokens T = [0, D), positions P = [D, 3D), previous token
 * S = [3D, 4D), so hidden = 4D (4 heads of width D). Word embeddings are unit random directions in T scaled to
 * norm sqrt(D); position embeddings are D/2 frequencies w_f = pi f / (D/2 + 1) written as (cos, sin, -cos, -sin),
 * so every embedding row has mean 0 and LayerNorm only rescales. The previous-token head reads P with its
 * query phase-shifted by one step, so q_i . k_j is a Dirichlet kernel peaked at j = i - 1 (no alias before
 * D + 2 positions), and copies T into S. The induction head's query reads T (the current token), its key S
 * (the token before the key position) and its value T, written back into T four times stronger than the
 * current token, so the tied LM head predicts the token that followed the current one last time.
 * Every other weight stays seeded random.
 */
export interface PlantedInduction {
  previousToken: { layer: number; head: number };
  induction: { layer: number; head: number };
}

const MASKED = -10000;

export function buildDecoderGraph(spec: DecoderGraphSpec): ModelProto {
  const { hidden: H, heads, layers, intermediate: I, vocabSize: V, maxPositions: P } = spec;
  if (H % heads !== 0) throw new Error(`hidden size ${H} is not divisible by ${heads} heads`);
  const kvHeads = spec.kvHeads ?? heads;
  if (heads % kvHeads !== 0) throw new Error(`${heads} query heads are not a multiple of ${kvHeads} key/value heads`);
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
      q = rotate(split(linear(a, `${p}.self_attn.q_proj`, H, H, false), 'q', heads), 'q');
      k = repeat(cached(rotate(split(linear(a, `${p}.self_attn.k_proj`, H, kvHeads * d, false), 'k', kvHeads), 'k'), 'key'), 'k');
      v = repeat(cached(split(linear(a, `${p}.self_attn.v_proj`, H, kvHeads * d, false), 'v', kvHeads), 'value'), 'v');
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
  if (spec.family === 'gpt2') add('MatMul', [final, add('Transpose', [wte], 'lm_head/wte_t', { perm: [1, 0] })], 'logits');
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

/** Overwrites embeddings and two heads' weights in place (see PlantedInduction for the construction). */
function plantInduction(spec: DecoderGraphSpec, tables: Map<string, Float32Array>, rng: SeededRandom): void {
  const { hidden: H, heads, vocabSize: V, maxPositions: P } = spec;
  const plant = spec.plantInduction!;
  const D = H / heads;
  const F = D / 2;
  if (heads !== 4 || D % 2 !== 0) throw new Error('plantInduction needs 4 heads of even width (hidden = 4 x head width)');
  if (P > D + 2) throw new Error(`plantInduction: ${P} positions alias in ${F} frequencies; use at most ${D + 2} positions`);
  if (plant.induction.layer <= plant.previousToken.layer) throw new Error('the induction head must sit in a later layer than the previous-token head');
  const T0 = 0;
  const P0 = D;
  const S0 = 3 * D;
  const wte = tables.get('wte.weight')!;
  const wpe = tables.get('wpe.weight')!;
  wte.fill(0);
  wpe.fill(0);
  for (let t = 0; t < V; t++) {
    const u = rng.normalArray(D, 1);
    const mean = u.reduce((s, a) => s + a, 0) / D;
    let n2 = 0;
    for (let i = 0; i < D; i++) { u[i] -= mean; n2 += u[i] * u[i]; }
    const s = Math.sqrt(D / n2);
    for (let i = 0; i < D; i++) wte[t * H + T0 + i] = u[i] * s;
  }
  const omega = (f: number): number => (Math.PI * (f + 1)) / (F + 1);
  for (let pos = 0; pos < P; pos++) {
    for (let f = 0; f < F; f++) {
      const [c, s] = [Math.cos(omega(f) * pos), Math.sin(omega(f) * pos)];
      wpe[pos * H + P0 + 2 * f] = c;
      wpe[pos * H + P0 + 2 * f + 1] = s;
      wpe[pos * H + P0 + D + 2 * f] = -c;
      wpe[pos * H + P0 + D + 2 * f + 1] = -s;
    }
  }
  // LayerNorm scales a mean-0 row by sqrt(H) / |x|: 1/sqrt(2 D / H) at the first block (T and P filled)
  const ln0 = Math.sqrt(H / (2 * D));
  const ln1 = Math.sqrt(H / (3 * D)); // after the previous-token head has filled S
  const setHead = (layer: number, head: number, qk: (q: Float32Array, k: Float32Array, v: Float32Array) => void, out: (o: Float32Array) => void): void => {
    const w = tables.get(`h.${layer}.attn.c_attn.weight`)!; // [H, 3H]: Q | K | V columns, head h at h*D
    const q = new Float32Array(H * D); const k = new Float32Array(H * D); const v = new Float32Array(H * D);
    qk(q, k, v);
    for (let r = 0; r < H; r++) {
      for (let c = 0; c < D; c++) {
        w[r * 3 * H + head * D + c] = q[r * D + c];
        w[r * 3 * H + H + head * D + c] = k[r * D + c];
        w[r * 3 * H + 2 * H + head * D + c] = v[r * D + c];
      }
    }
    const proj = tables.get(`h.${layer}.attn.c_proj.weight`)!; // [H, H]: rows head*D.. are this head's context
    const o = new Float32Array(D * H);
    out(o);
    proj.set(o, head * D * H);
  };
  // previous-token head: q_i = R(-w) p_i, k_j = p_j, so q_i . k_j = (ln0^2) sum_f cos(w_f (i - 1 - j)); beta 2
  const beta = 2;
  setHead(plant.previousToken.layer, plant.previousToken.head, (q, k, v) => {
    for (let f = 0; f < F; f++) {
      const [c, s] = [Math.cos(omega(f)), Math.sin(omega(f))];
      const rc = (P0 + 2 * f) * D + 2 * f;
      const rs = (P0 + 2 * f + 1) * D + 2 * f;
      q[rc] = beta * c; q[rs] = beta * s; // q_cos = cos(w(i-1))
      q[rc + 1] = -beta * s; q[rs + 1] = beta * c; // q_sin = sin(w(i-1))
      k[rc] = 1; k[rs + 1] = 1;
    }
    for (let i = 0; i < D; i++) v[(T0 + i) * D + i] = 1;
  }, (o) => { for (let i = 0; i < D; i++) o[i * H + S0 + i] = 1 / ln0; });
  // induction head: query = current token (T), key = previous token (S), value = token (T) written back x4
  const betaInd = 2;
  setHead(plant.induction.layer, plant.induction.head, (q, k, v) => {
    for (let i = 0; i < D; i++) {
      q[(T0 + i) * D + i] = betaInd;
      k[(S0 + i) * D + i] = 1;
      v[(T0 + i) * D + i] = 1;
    }
  }, (o) => { for (let i = 0; i < D; i++) o[i * H + T0 + i] = 4 / ln1; });
}

/** Unit random directions with mean 0, scaled to `norm`, one per token: the planted token code. */
function tokenCodes(rng: SeededRandom, vocab: number, dims: number, norm: number): Float32Array[] {
  return Array.from({ length: vocab }, () => {
    const u = rng.normalArray(dims, 1);
    const mean = u.reduce((s, a) => s + a, 0) / dims;
    for (let i = 0; i < dims; i++) u[i] -= mean;
    const n = Math.sqrt(u.reduce((s, a) => s + a * a, 0));
    return u.map((x) => (x * norm) / n);
  });
}

/**
 * The llama-shape plant (rotary, RMSNorm, grouped-query): tokens T = 32 dims of norm 8 plus one constant
 * dim B = 8 in every word-embedding row, so RMSNorm only rescales and B is the same at every position.
 * Rotary multiplies pair c of a head (dims c and c + D/2) by e^{i theta_c p}, theta_c = 10000^(-2c/D). The
 * previous-token head takes a constant query e^{-i theta_c} and key 1 from B in the five fastest pairs, so
 * q_i . k_j = sum_c cos(theta_c (i - j - 1)): largest at j = i - 1. The induction head matches T (query) with
 * S (key) in the 16 slowest pairs, where rotation over the sequence stays under 0.4 rad, and copies T back
 * four times stronger; the LM head is set to read the token codes (it is untied in this shape).
 */
function plantRotaryInduction(spec: DecoderGraphSpec, tables: Map<string, Float32Array>, rng: SeededRandom): void {
  const { hidden: H, heads, vocabSize: V, maxPositions: P } = spec;
  const plant = spec.plantInduction!;
  const kvHeads = spec.kvHeads ?? heads;
  const D = H / heads;
  if (heads !== 4 || D !== 64) throw new Error('the rotary plant needs 4 heads of width 64 (hidden 256)');
  if (P > 64) throw new Error('the rotary plant keeps the slow pairs aligned over at most 64 positions');
  if (plant.induction.layer <= plant.previousToken.layer) throw new Error('the induction head must sit in a later layer than the previous-token head');
  const T = 32; // token code width
  const B = 32; // the constant dim
  const S0 = 64; // previous-token code
  const code = 8;
  const wte = tables.get('wte.weight')!;
  const head = tables.get('lm_head.weight')!; // [H, V]
  wte.fill(0);
  head.fill(0);
  tokenCodes(rng, V, T, code).forEach((u, t) => {
    for (let i = 0; i < T; i++) { wte[t * H + i] = u[i]; head[i * V + t] = u[i]; }
    wte[t * H + B] = code;
  });
  const rms0 = Math.sqrt(H / (2 * code * code)); // RMSNorm's factor with T and B filled
  const rms1 = Math.sqrt(H / (3 * code * code)); // after S is filled too
  const kvOf = (h: number): number => Math.floor(h / (heads / kvHeads));
  const set = (name: string, cols: number, row: number, col: number, value: number): void => { tables.get(name)![row * cols + col] = value; };
  const clearHead = (layer: number, h: number): void => {
    const p = `h.${layer}.self_attn`;
    for (const [w, cols, at] of [[`${p}.q_proj.weight`, H, h], [`${p}.k_proj.weight`, kvHeads * D, kvOf(h)], [`${p}.v_proj.weight`, kvHeads * D, kvOf(h)]] as const) {
      const m = tables.get(w)!;
      for (let r = 0; r < H; r++) for (let c = 0; c < D; c++) m[r * cols + at * D + c] = 0;
    }
    tables.get(`${p}.o_proj.weight`)!.fill(0, h * D * H, (h + 1) * D * H);
  };
  const theta = (c: number): number => 10000 ** ((-2 * c) / D);
  // previous-token head: five fastest pairs, constant query e^{-i theta} and key 1 from B
  {
    const { layer, head: h } = plant.previousToken;
    const p = `h.${layer}.self_attn`;
    clearHead(layer, h);
    const beta = 1.5;
    for (let c = 0; c < 5; c++) {
      set(`${p}.q_proj.weight`, H, B, h * D + c, beta * Math.cos(theta(c)));
      set(`${p}.q_proj.weight`, H, B, h * D + c + D / 2, -beta * Math.sin(theta(c)));
      set(`${p}.k_proj.weight`, kvHeads * D, B, kvOf(h) * D + c, 1);
    }
    for (let i = 0; i < T; i++) {
      set(`${p}.v_proj.weight`, kvHeads * D, i, kvOf(h) * D + i, 1);
      set(`${p}.o_proj.weight`, H, h * D + i, S0 + i, 1 / rms0);
    }
  }
  // induction head: T against S in the 16 slowest pairs (c = 16..31: dims c and c + 32)
  {
    const { layer, head: h } = plant.induction;
    const p = `h.${layer}.self_attn`;
    clearHead(layer, h);
    const beta = 2;
    const slow = (m: number): number => (m < 16 ? 16 + m : 48 + (m - 16));
    for (let m = 0; m < T; m++) {
      set(`${p}.q_proj.weight`, H, m, h * D + slow(m), beta);
      set(`${p}.k_proj.weight`, kvHeads * D, S0 + m, kvOf(h) * D + slow(m), 1);
      set(`${p}.v_proj.weight`, kvHeads * D, m, kvOf(h) * D + m, 1);
      set(`${p}.o_proj.weight`, H, h * D + m, m, 4 / rms1);
    }
  }
}
