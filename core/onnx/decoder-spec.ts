// The decoder generator's settings (buildDecoderGraph in decoder-graph.ts), apart so planted-induction.ts can read them
// without an import circle.
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
  /** llama: the LM head reads the word embeddings (Transpose(wte)), as Qwen2.5-0.5B ties them. Default: untied */
  tieEmbeddings?: boolean;
  /** llama: q/k/v projections with a bias (Qwen2 has them, Llama not). Default: none */
  attentionBias?: boolean;
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
