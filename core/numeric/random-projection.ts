import { SeededRandom } from './seeded-random.ts';

/**
 * A seeded Gaussian projection R^width -> R^dims, scaled by 1/sqrt(dims) so that squared lengths and
 * distances are preserved in expectation (Johnson-Lindenstrauss). Used to make small, comparable
 * fingerprints of embeddings: the same seed on every device gives the same matrix.
 */
export class RandomProjection {
  private readonly matrix: Float64Array;

  constructor(readonly width: number, readonly dims: number, seed: number) {
    const rng = new SeededRandom(seed);
    const scale = 1 / Math.sqrt(dims);
    this.matrix = new Float64Array(width * dims);
    for (let i = 0; i < this.matrix.length; i++) this.matrix[i] = rng.normal() * scale;
  }

  project(v: ArrayLike<number>): number[] {
    if (v.length !== this.width) throw new Error(`projection expects width ${this.width}, got ${v.length}`);
    const out = new Array<number>(this.dims).fill(0);
    for (let d = 0; d < this.dims; d++) {
      let s = 0;
      const off = d * this.width;
      for (let j = 0; j < this.width; j++) s += this.matrix[off + j] * v[j];
      out[d] = s;
    }
    return out;
  }
}
