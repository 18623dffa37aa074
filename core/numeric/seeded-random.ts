/**
 * Seeded pseudo-random numbers (mulberry32 + Box-Muller). Written here because every seeded piece
 * of edgeprobe (generated models, folds, shuffles, randomisation checks) needs the same stream on every
 * device and Node version, which Math.random cannot give; the generator is 6 lines of public-domain code.
 */
export class SeededRandom {
  private state: number;
  private spare: number | undefined;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal. */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  normalArray(n: number, std: number, mean = 0): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** Fisher-Yates shuffle of a copy. */
  shuffle<T>(items: readonly T[]): T[] {
    return this.shuffleInPlace(items.slice());
  }

  /**
   * A random permutation of 0..n-1: the same draws as shuffle() of [0..n) (the properties controls make
   * ~10^7 of them a layer; a destructuring swap over a spread copy was ~75 ns an element, this ~10).
   */
  permutation(n: number): number[] {
    const a = new Array<number>(n);
    for (let i = 0; i < n; i++) a[i] = i;
    return this.shuffleInPlace(a);
  }

  /**
   * permutation(n) written into a reused buffer (its first n entries): the same draws and the same
   * order, without an allocation per call (the properties `shuffle-upper` control draws one per concept).
   */
  permutationInto(a: Int32Array, n = a.length): Int32Array {
    for (let i = 0; i < n; i++) a[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  private shuffleInPlace<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }
}
