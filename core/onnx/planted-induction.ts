import type { SeededRandom } from '../numeric/seeded-random.ts';
import type { DecoderGraphSpec } from './decoder-spec.ts';

// The hand-set weights of a planted previous-token head and induction head (Olsson et al. 2022), written into
// the weight tables of buildDecoderGraph (decoder-graph.ts) before the graph is assembled.

/** Overwrites embeddings and two heads' weights in place (see PlantedInduction for the construction). */
export function plantInduction(spec: DecoderGraphSpec, tables: Map<string, Float32Array>, rng: SeededRandom): void {
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
export function plantRotaryInduction(spec: DecoderGraphSpec, tables: Map<string, Float32Array>, rng: SeededRandom): void {
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
