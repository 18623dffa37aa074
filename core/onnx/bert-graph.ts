import { SeededRandom } from '../numeric/seeded-random.ts';
import { DataType, intsInitializer, makeModel, node, scalarInitializer, tensorValueInfo } from './graph-builder.ts';
import { onnx, type ModelProto, type NodeProto, type TensorProto } from './proto.ts';
import { floatTensor, int64Tensor } from './tensor-data.ts';

/**
 * Writes a BERT-architecture encoder (the shape of Hugging Face BertModel) as an ONNX graph with
 * seeded random weights. Used for the offline demo, for latency benchmarks at MiniLM / BERT-base
 * shape, and for tests that need a model with a planted property (a noisy layer, large activations).
 */
export interface BertGraphSpec {
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  maxPositions: number;
  seed: number;
  /** std of weight initialisation (BERT uses 0.02; larger values give peakier attention) */
  initStd?: number;
  /** 'decomposed' writes LayerNorm as ReduceMean/Sub/Pow/Sqrt/Div like PyTorch exports; 'fused' uses LayerNormalization */
  layerNorm?: 'decomposed' | 'fused';
  /** add a masked-LM head with output `logits` (decoder tied to the word embeddings) */
  mlmHead?: boolean;
  /** add a sequence-classification head with this many labels: `logits` [batch, labels] from the [CLS] state */
  classifierLabels?: number;
  /** per-layer multiplier on the feed-forward output weights, to plant large activations in a chosen layer */
  ffnScale?: Record<number, number>;
  /** set every position-embedding row from `from` on to `value`: plants activations that only long inputs reach */
  positionSpike?: { from: number; value: number };
  /** graph name recorded in the file */
  name?: string;
  /**
   * How attention is written: 'decomposed' (default) as PyTorch exports it (MatMul/Softmax/MatMul); 'fused' as one
   * com.microsoft Attention node per layer (packed QKV weight and bias), 'multi-head' as com.microsoft
   * MultiHeadAttention (separate Q/K/V projections, packed bias), the forms onnxruntime's transformer optimizer
   * and Optimum write. Weights are drawn in the same order in every form, so one seed gives the same model.
   */
  attention?: 'decomposed' | 'fused' | 'multi-head';
  /** mask form of the fused ops: '2d' the 0/1 key padding mask [batch, seq] (default), '1d' valid lengths [batch] */
  attentionMask?: '1d' | '2d';
  /** std of linear-layer biases (default 0: zero biases, as BERT is initialised) */
  biasStd?: number;
}

export function buildBertGraph(spec: BertGraphSpec): ModelProto {
  const rng = new SeededRandom(spec.seed);
  const std = spec.initStd ?? 0.02;
  const { hidden: H, heads, layers, intermediate: I } = spec;
  if (H % heads !== 0) throw new Error(`hidden size ${H} is not divisible by ${heads} heads`);
  const headDim = H / heads;
  const nodes: NodeProto[] = [];
  const inits: TensorProto[] = [];
  const weight = (name: string, dims: number[], s = std): string => {
    inits.push(floatTensor(name, dims, rng.normalArray(dims.reduce((a, b) => a * b, 1), s)));
    return name;
  };
  const constant = (name: string, dims: number[], value: number): string => {
    inits.push(floatTensor(name, dims, new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(value)));
    return name;
  };
  const scalar = (name: string, value: number): string => scalarInitializer(inits, name, value);
  const ints = (name: string, values: number[]): string => intsInitializer(inits, name, values);

  const layerNorm = (x: string, prefix: string): string => {
    const gamma = constant(`${prefix}.weight`, [H], 1);
    const beta = constant(`${prefix}.bias`, [H], 0);
    if (spec.layerNorm === 'fused') {
      nodes.push(node('LayerNormalization', [x, gamma, beta], [`${prefix}.out`], { axis: -1, epsilon: { float: 1e-12 } }, `${prefix}/LayerNormalization`));
      return `${prefix}.out`;
    }
    const p = (s: string): string => `${prefix}/${s}`;
    nodes.push(node('ReduceMean', [x], [p('mean')], { axes: [-1], keepdims: 1 }));
    nodes.push(node('Sub', [x, p('mean')], [p('centered')]));
    nodes.push(node('Pow', [p('centered'), scalar(p('two'), 2)], [p('sq')]));
    nodes.push(node('ReduceMean', [p('sq')], [p('var')], { axes: [-1], keepdims: 1 }));
    nodes.push(node('Add', [p('var'), scalar(p('eps'), 1e-12)], [p('var_eps')]));
    nodes.push(node('Sqrt', [p('var_eps')], [p('std')]));
    nodes.push(node('Div', [p('centered'), p('std')], [p('normed')]));
    nodes.push(node('Mul', [p('normed'), gamma], [p('scaled')]));
    nodes.push(node('Add', [p('scaled'), beta], [p('out')]));
    return p('out');
  };
  // a bias is drawn right after its weight when biasStd is set, so the stream is the same whatever form attention takes
  const drawLinear = (inDim: number, outDim: number, scale = 1): { w: Float32Array; b: Float32Array } => ({
    w: rng.normalArray(inDim * outDim, std * scale),
    b: spec.biasStd ? rng.normalArray(outDim, spec.biasStd) : new Float32Array(outDim),
  });
  const linear = (x: string, prefix: string, inDim: number, outDim: number, scale = 1): string => {
    const drawn = drawLinear(inDim, outDim, scale);
    const w = `${prefix}.weight`;
    const b = `${prefix}.bias`;
    inits.push(floatTensor(w, [inDim, outDim], drawn.w), floatTensor(b, [outDim], drawn.b));
    nodes.push(node('MatMul', [x, w], [`${prefix}/mm`]));
    nodes.push(node('Add', [`${prefix}/mm`, b], [`${prefix}/out`]));
    return `${prefix}/out`;
  };
  const gelu = (x: string, prefix: string): string => {
    // exact GELU, x * 0.5 * (1 + erf(x / sqrt 2)), as PyTorch exports it
    nodes.push(node('Div', [x, scalar(`${prefix}/sqrt2`, Math.SQRT2)], [`${prefix}/xs`]));
    nodes.push(node('Erf', [`${prefix}/xs`], [`${prefix}/erf`]));
    nodes.push(node('Add', [`${prefix}/erf`, scalar(`${prefix}/one`, 1)], [`${prefix}/erf1`]));
    nodes.push(node('Mul', [x, `${prefix}/erf1`], [`${prefix}/xe`]));
    nodes.push(node('Mul', [`${prefix}/xe`, scalar(`${prefix}/half`, 0.5)], [`${prefix}/out`]));
    return `${prefix}/out`;
  };

  // embeddings: word + position + token type, then LayerNorm
  const wordTable = weight('embeddings.word.weight', [spec.vocabSize, H]);
  nodes.push(node('Gather', [wordTable, 'input_ids'], ['embeddings/word'], { axis: 0 }));
  nodes.push(node('Shape', ['input_ids'], ['embeddings/shape']));
  nodes.push(node('Gather', ['embeddings/shape', ints('embeddings/one_idx', [1])], ['embeddings/seq_len_1d'], { axis: 0 }));
  nodes.push(node('Squeeze', ['embeddings/seq_len_1d', ints('embeddings/axes0', [0])], ['embeddings/seq_len']));
  inits.push(int64Tensor('embeddings/zero', [], [0]), int64Tensor('embeddings/step', [], [1]));
  nodes.push(node('Range', ['embeddings/zero', 'embeddings/seq_len', 'embeddings/step'], ['embeddings/positions']));
  nodes.push(node('Unsqueeze', ['embeddings/positions', 'embeddings/axes0'], ['embeddings/position_ids']));
  const positionTable = weight('embeddings.position.weight', [spec.maxPositions, H]);
  if (spec.positionSpike) {
    const data = new Float32Array(inits[inits.length - 1].rawData.buffer);
    data.fill(spec.positionSpike.value, spec.positionSpike.from * H);
  }
  nodes.push(node('Gather', [positionTable, 'embeddings/position_ids'], ['embeddings/pos'], { axis: 0 }));
  nodes.push(node('Gather', [weight('embeddings.type.weight', [2, H]), 'token_type_ids'], ['embeddings/type'], { axis: 0 }));
  nodes.push(node('Add', ['embeddings/word', 'embeddings/pos'], ['embeddings/wp']));
  nodes.push(node('Add', ['embeddings/wp', 'embeddings/type'], ['embeddings/sum']));
  let h = layerNorm('embeddings/sum', 'embeddings.ln');

  // additive mask [batch, 1, 1, seq]: 0 for tokens, -10000 for padding, as BERT does
  const fused = spec.attention === 'fused' || spec.attention === 'multi-head';
  if (!fused) {
    nodes.push(node('Cast', ['attention_mask'], ['mask/float'], { to: DataType.FLOAT }));
    nodes.push(node('Sub', [scalar('mask/one', 1), 'mask/float'], ['mask/inv']));
    nodes.push(node('Mul', ['mask/inv', scalar('mask/neg', -10000)], ['mask/add']));
    nodes.push(node('Unsqueeze', ['mask/add', ints('mask/axes', [1, 2])], ['mask/bias']));
  }
  const [splitShape, mergeShape, scale] = fused ? ['', '', '']
    : [ints('attn/split_shape', [0, 0, heads, headDim]), ints('attn/merge_shape', [0, 0, H]), scalar('attn/scale', Math.sqrt(headDim))];
  // the fused ops take an int32 mask: the 0/1 mask itself, or each row's valid length (ReduceSum), as the optimizer writes them
  const fusedMask = fused ? 'mask/index' : '';
  if (fusedMask) {
    nodes.push(node('Cast', ['attention_mask'], [spec.attentionMask === '1d' ? 'mask/int32' : fusedMask], { to: DataType.INT32 }));
    if (spec.attentionMask === '1d') nodes.push(node('ReduceSum', ['mask/int32', ints('mask/sum_axes', [1])], [fusedMask], { keepdims: 0 }));
  }
  const fusedAttention = (x: string, p: string): void => {
    const [q, k, v] = ['query', 'key', 'value'].map(() => drawLinear(H, H));
    const bias = floatTensor(`${p}.attention.qkv.bias`, [3 * H], Float32Array.from([...q.b, ...k.b, ...v.b]));
    inits.push(bias);
    if (spec.attention === 'fused') {
      // packed weight [H, 3H]: row i is query row i, then key row i, then value row i
      const packed = new Float32Array(H * 3 * H);
      for (let i = 0; i < H; i++) [q, k, v].forEach((d, j) => packed.set(d.w.subarray(i * H, (i + 1) * H), i * 3 * H + j * H));
      inits.push(floatTensor(`${p}.attention.qkv.weight`, [H, 3 * H], packed));
      nodes.push(node('Attention', [x, `${p}.attention.qkv.weight`, bias.name, fusedMask], [`${p}/context`], { num_heads: heads }, `${p}/Attention`, 'com.microsoft'));
      return;
    }
    const proj = ['query', 'key', 'value'].map((name, j) => {
      inits.push(floatTensor(`${p}.attention.${name}.weight`, [H, H], [q, k, v][j].w));
      nodes.push(node('MatMul', [x, `${p}.attention.${name}.weight`], [`${p}/${name}_mm`]));
      return `${p}/${name}_mm`;
    });
    nodes.push(node('MultiHeadAttention', [...proj, bias.name, fusedMask], [`${p}/context`], { num_heads: heads }, `${p}/MultiHeadAttention`, 'com.microsoft'));
  };

  for (let l = 0; l < layers; l++) {
    const p = `layer.${l}`;
    const heads4 = (x: string, name: string, perm: number[]): string => {
      nodes.push(node('Reshape', [x, splitShape], [`${p}/${name}_split`]));
      nodes.push(node('Transpose', [`${p}/${name}_split`], [`${p}/${name}_heads`], { perm }));
      return `${p}/${name}_heads`;
    };
    if (fused) {
      fusedAttention(h, p);
    } else {
      const q = heads4(linear(h, `${p}.attention.query`, H, H), 'q', [0, 2, 1, 3]);
      const k = heads4(linear(h, `${p}.attention.key`, H, H), 'k', [0, 2, 3, 1]);
      const v = heads4(linear(h, `${p}.attention.value`, H, H), 'v', [0, 2, 1, 3]);
      nodes.push(node('MatMul', [q, k], [`${p}/scores_raw`]));
      nodes.push(node('Div', [`${p}/scores_raw`, scale], [`${p}/scores_scaled`]));
      nodes.push(node('Add', [`${p}/scores_scaled`, 'mask/bias'], [`${p}/scores`]));
      nodes.push(node('Softmax', [`${p}/scores`], [`${p}/probs`], { axis: -1 }));
      nodes.push(node('MatMul', [`${p}/probs`, v], [`${p}/context_heads`]));
      nodes.push(node('Transpose', [`${p}/context_heads`], [`${p}/context_t`], { perm: [0, 2, 1, 3] }));
      nodes.push(node('Reshape', [`${p}/context_t`, mergeShape], [`${p}/context`]));
    }
    const attnOut = linear(`${p}/context`, `${p}.attention.output`, H, H);
    nodes.push(node('Add', [attnOut, h], [`${p}/attn_residual`]));
    const a = layerNorm(`${p}/attn_residual`, `${p}.attention.ln`);
    const up = gelu(linear(a, `${p}.ffn.up`, H, I), `${p}/gelu`);
    const down = linear(up, `${p}.ffn.down`, I, H, spec.ffnScale?.[l + 1] ?? 1);
    nodes.push(node('Add', [down, a], [`${p}/ffn_residual`]));
    h = layerNorm(`${p}/ffn_residual`, `${p}.output.ln`);
  }

  const outputs = [tensorValueInfo('last_hidden_state', DataType.FLOAT, ['batch', 'sequence', H])];
  if (spec.mlmHead) {
    const t = gelu(linear(h, 'mlm.transform', H, H), 'mlm/gelu');
    const tn = layerNorm(t, 'mlm.ln');
    nodes.push(node('Transpose', [wordTable], ['mlm/decoder_t'], { perm: [1, 0] }));
    nodes.push(node('MatMul', [tn, 'mlm/decoder_t'], ['mlm/decoded']));
    nodes.push(node('Add', ['mlm/decoded', constant('mlm.bias', [spec.vocabSize], 0)], ['logits']));
    outputs.splice(0, 1, tensorValueInfo('logits', DataType.FLOAT, ['batch', 'sequence', spec.vocabSize]));
  }
  if (spec.classifierLabels) {
    const C = spec.classifierLabels;
    nodes.push(node('Gather', [h, ints('cls/index', [0])], ['cls/state_1'], { axis: 1 }));
    nodes.push(node('Squeeze', ['cls/state_1', ints('cls/axes', [1])], ['cls/state']));
    nodes.push(node('MatMul', ['cls/state', weight('classifier.weight', [H, C], std * 10)], ['cls/scores']));
    nodes.push(node('Add', ['cls/scores', constant('classifier.bias', [C], 0)], ['logits']));
    outputs.splice(0, 1, tensorValueInfo('logits', DataType.FLOAT, ['batch', C]));
    outputs.push(tensorValueInfo('last_hidden_state', DataType.FLOAT, ['batch', 'sequence', H]));
  }
  nodes.push(node('Identity', [h], ['last_hidden_state']));
  if (spec.mlmHead) outputs.push(tensorValueInfo('last_hidden_state', DataType.FLOAT, ['batch', 'sequence', H]));

  const model = makeModel({
    name: spec.name ?? 'edgeprobe-generated-bert',
    nodes,
    initializers: inits,
    inputs: ['input_ids', 'attention_mask', 'token_type_ids'].map((n) => tensorValueInfo(n, DataType.INT64, ['batch', 'sequence'])),
    outputs,
    opset: 17,
  });
  if (fusedMask) model.opsetImport.push(onnx.OperatorSetIdProto.create({ domain: 'com.microsoft', version: 1 }));
  return model;
}
