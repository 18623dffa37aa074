import { jsDivergence } from '../../core/numeric/distributions.ts';
import { cosine } from '../../core/numeric/vectors.ts';
import type { InstrumentedBatch } from '../../core/runtime/instrumented-runner.ts';

/** Per-layer divergence of a variant from the reference (fp32), accumulated over batches. */
export interface LayerDivergence {
  /** 0 = embeddings output, l = output of layer l */
  layer: number;
  /** mean over real tokens of the cosine between reference and variant hidden vectors */
  hiddenCosine: number;
  /** ||h_ref - h_var|| / ||h_ref|| over all real tokens of the layer */
  relativeL2: number;
  /** Jensen-Shannon divergence (nats) of attention rows, averaged over rows then heads; null for layer 0 */
  attentionJs: number | null;
  /** per-head JS divergence (nats), for the heat map; empty for layer 0 */
  attentionJsPerHead: number[];
}

/** Running sums so any number of batches can be folded in without keeping tensors. */
export class DivergenceAccumulator {
  private readonly cosSum: number[];
  private readonly tokens: number[];
  private readonly errSq: number[];
  private readonly refSq: number[];
  private jsSum: number[][] = [];
  private rows: number[] = [];

  constructor(private readonly layers: number) {
    this.cosSum = new Array<number>(layers + 1).fill(0);
    this.tokens = new Array<number>(layers + 1).fill(0);
    this.errSq = new Array<number>(layers + 1).fill(0);
    this.refSq = new Array<number>(layers + 1).fill(0);
  }

  add(ref: InstrumentedBatch, variant: InstrumentedBatch): void {
    if (ref.seqLen !== variant.seqLen || ref.lengths.length !== variant.lengths.length) throw new Error('reference and variant batches differ in shape');
    const { seqLen, lengths, hiddenSize: H, heads } = ref;
    if (this.jsSum.length === 0) {
      this.jsSum = Array.from({ length: this.layers }, () => new Array<number>(heads).fill(0));
      this.rows = new Array<number>(this.layers).fill(0);
    }
    for (let l = 0; l <= this.layers; l++) {
      const a = ref.hidden[l];
      const b = variant.hidden[l];
      lengths.forEach((len, s) => {
        for (let t = 0; t < len; t++) {
          const off = (s * seqLen + t) * H;
          this.cosSum[l] += cosine(a, b, H, off, off);
          for (let j = 0; j < H; j++) {
            const d = a[off + j] - b[off + j];
            this.errSq[l] += d * d;
            this.refSq[l] += a[off + j] * a[off + j];
          }
        }
        this.tokens[l] += len;
      });
    }
    for (let l = 1; l <= this.layers; l++) {
      const a = ref.attention[l - 1];
      const b = variant.attention[l - 1];
      lengths.forEach((len, s) => {
        for (let h = 0; h < heads; h++) {
          for (let r = 0; r < len; r++) {
            const off = ((s * heads + h) * seqLen + r) * seqLen;
            // padding columns carry ~0 probability in both; compare the real-token part of the row
            this.jsSum[l - 1][h] += jsDivergence(a, b, len, off, off);
          }
        }
        this.rows[l - 1] += len;
      });
    }
  }

  result(): LayerDivergence[] {
    return Array.from({ length: this.layers + 1 }, (_, l) => {
      const perHead = l === 0 ? [] : this.jsSum[l - 1].map((x) => x / this.rows[l - 1]);
      return {
        layer: l,
        hiddenCosine: this.cosSum[l] / this.tokens[l],
        relativeL2: this.refSq[l] === 0 ? 0 : Math.sqrt(this.errSq[l] / this.refSq[l]),
        attentionJs: l === 0 ? null : perHead.reduce((x, y) => x + y, 0) / perHead.length,
        attentionJsPerHead: perHead,
      };
    });
  }
}
