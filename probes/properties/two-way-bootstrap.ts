import { SeededRandom } from '../../core/numeric/seeded-random.ts';

/**
 * Per-concept scores of one control under repeated cross-validation: rows = repeats (each its own fold
 * assignment and shuffle/random seed), columns = concepts. NaN cells (e.g. F1 of an empty gold set) are skipped.
 */
export type RepeatScores = number[][];

/** Doubles of repeat-weighted tables kept across resamples (64 MB); past it a table is rebuilt per resample (option: tests). */
const CACHE_DOUBLES = 1 << 23;

/**
 * Means of `B` two-way bootstrap resamples of every matrix in `ms`, all from the same draws (common
 * random numbers). Resample b draws R repeats and then n concepts with replacement from `seed`, in that
 * order, exactly as a lone matrix would: `out[k]` equals the resampling of `ms[k]` alone with the same seed,
 * whatever else is in `ms` (matrices of another shape get their own, equally seeded, stream).
 */
export function twoWayBootstrapMeansMany(ms: readonly RepeatScores[], B: number, seed: number, o: { cacheDoubles?: number } = {}): number[][] {
  const groups = new Map<string, number[]>();
  ms.forEach((m, k) => {
    const key = `${m.length}x${m[0]?.length ?? 0}`;
    groups.set(key, [...(groups.get(key) ?? []), k]);
  });
  const cacheDoubles = o.cacheDoubles ?? CACHE_DOUBLES;
  const out: number[][] = ms.map(() => []);
  for (const ks of groups.values()) {
    // matrices in chunks whose tables for every repeat draw fit the cache (each chunk redraws the same stream)
    const R = ms[ks[0]].length;
    const n = ms[ks[0]][0]?.length ?? 0;
    const chunk = Math.max(1, Math.floor(cacheDoubles / (repeatDraws(R) * Math.max(1, n))));
    for (let at = 0; at < ks.length; at += chunk) {
      const part = ks.slice(at, at + chunk);
      const means = sameShapeMeans(part.map((k) => ms[k]), B, seed, cacheDoubles);
      part.forEach((k, j) => { out[k] = means[j]; });
    }
  }
  return out;
}

/** Distinct repeat multiplicities u (R draws from R repeats, unordered): C(2R - 1, R). */
function repeatDraws(R: number): number {
  let c = 1;
  for (let j = 1; j <= R; j++) c = (c * (R - 1 + j)) / j;
  return c;
}

/** Flat indices r * n + i of the cells that are not finite (skipped by the mean). */
function missingCells(m: RepeatScores, R: number, n: number): Int32Array {
  const out: number[] = [];
  for (let r = 0; r < R; r++) for (let i = 0; i < n; i++) if (!Number.isFinite(m[r][i])) out.push(r * n + i);
  return Int32Array.from(out);
}
const sameCells = (a: Int32Array, b: Int32Array): boolean => a.length === b.length && a.every((v, t) => v === b[t]);

/**
 * A resample is multiplicities u (repeats, sum R) and w (concepts, sum n); its mean is
 * sum_r u_r sum_i w_i x_ri / sum_r u_r sum_i w_i [x_ri finite]. The repeat part u takes few values
 * (10 for R = 3), so for each u the repeat-weighted cells sum_r u_r x_ri (0 where missing) of all matrices are
 * tabulated once, one column per matrix; a resample is then one rng pass for w and one sequential dot
 * product with w per matrix, instead of a random gather of R x n cells per matrix. Missing cells are few
 * (no gold feature, constant predictions), so the weight lost to them, sum u_r w_i over the missing cells,
 * is summed over a list of them (shared by matrices whose missing cells coincide).
 */
function sameShapeMeans(ms: readonly RepeatScores[], B: number, seed: number, cacheDoubles: number): number[][] {
  const K = ms.length;
  const R = ms[0].length;
  const n = ms[0][0]?.length ?? 0;
  const lists: Int32Array[] = [];
  const listOf = ms.map((m) => {
    const miss = missingCells(m, R, n);
    if (miss.length === 0) return -1;
    const j = lists.findIndex((g) => sameCells(g, miss));
    return j >= 0 ? j : lists.push(miss) - 1;
  });
  // cells[(r * K + k) * n + i]: value of matrix k at (r, i), 0 where not finite
  const cells = new Float64Array(R * K * n);
  for (let r = 0; r < R; r++) for (let k = 0; k < K; k++) {
    const row = ms[k][r];
    const off = (r * K + k) * n;
    for (let i = 0; i < n; i++) { const v = row[i]; if (Number.isFinite(v)) cells[off + i] = v; }
  }
  const size = K * n;
  const maxCached = Math.floor(cacheDoubles / Math.max(1, size));
  const cache = new Map<string, Float64Array>();
  let scratch: Float64Array | undefined;
  const u = new Int32Array(R);
  const table = (): Float64Array => {
    const key = u.join(',');
    const hit = cache.get(key);
    if (hit) return hit;
    const c = cache.size < maxCached ? new Float64Array(size) : (scratch ??= new Float64Array(size)).fill(0);
    for (let r = 0; r < R; r++) {
      const ur = u[r];
      if (ur === 0) continue;
      const off = r * size;
      for (let t = 0; t < size; t++) c[t] += ur * cells[off + t];
    }
    if (c !== scratch) cache.set(key, c);
    return c;
  };
  const rng = new SeededRandom(seed);
  const w = new Float64Array(n);
  const lost = new Float64Array(lists.length);
  const sums = new Float64Array(K);
  const out = ms.map(() => new Array<number>(B));
  for (let b = 0; b < B; b++) {
    u.fill(0);
    for (let a = 0; a < R; a++) u[rng.int(R)]++;
    w.fill(0);
    for (let t = 0; t < n; t++) w[rng.int(n)]++;
    const c = table();
    lists.forEach((miss, j) => {
      let s = 0;
      for (let t = 0; t < miss.length; t++) { const ri = miss[t]; s += u[(ri / n) | 0] * w[ri % n]; }
      lost[j] = s;
    });
    dots(c, w, K, n, sums);
    for (let k = 0; k < K; k++) {
      const count = R * n - (listOf[k] < 0 ? 0 : lost[listOf[k]]);
      out[k][b] = count > 0 ? sums[k] / count : NaN;
    }
  }
  return out;
}

/** sums[k] = sum_i w_i c[k * n + i]; four columns per pass over w (about half the time of one at a time; same order of summation). */
function dots(c: Float64Array, w: Float64Array, K: number, n: number, sums: Float64Array): void {
  let k = 0;
  for (; k + 4 <= K; k += 4) {
    const o0 = k * n, o1 = o0 + n, o2 = o1 + n, o3 = o2 + n;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let i = 0; i < n; i++) {
      const wi = w[i];
      s0 += wi * c[o0 + i]; s1 += wi * c[o1 + i]; s2 += wi * c[o2 + i]; s3 += wi * c[o3 + i];
    }
    sums[k] = s0; sums[k + 1] = s1; sums[k + 2] = s2; sums[k + 3] = s3;
  }
  for (; k < K; k++) {
    const off = k * n;
    let s = 0;
    for (let i = 0; i < n; i++) s += w[i] * c[off + i];
    sums[k] = s;
  }
}
