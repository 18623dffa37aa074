import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { IS_BUILD, workerScript } from '../../core/build-layout.ts';
import { EMBEDDING_CONTROLS, mergeLayerScores, runLayerJob, type EmbeddingControl, type LayerJob, type LayerScores } from './layer-suite.ts';

/** Worker threads for `workers: 'auto'`: one per core the OS gives this process. */
export function workerCount(setting: number | 'auto' | undefined): number {
  const want = setting === undefined || setting === 'auto' ? availableParallelism() : setting;
  return Math.max(1, want);
}

/**
 * Runs the layer jobs on `workers` threads; workers = 1 runs them in this thread. With several workers each
 * layer is split into one job per control (the controls are independent given the folds), so a single
 * layer (the FFNN suite) or a few layers still keep every core busy; the parts are merged per layer.
 * Results come back in job order. Workers start from a .mjs entry that registers tsx itself, so they load
 * the TypeScript however the main thread was started.
 */
export async function runLayerJobs(jobs: readonly LayerJob[], workers: number, onDone?: (r: LayerScores) => void, whileRunning?: () => void): Promise<LayerScores[]> {
  if (workers <= 1) {
    whileRunning?.();
    const out: LayerScores[] = [];
    for (const j of jobs) { const r = await runLayerJob(j); onDone?.(r); out.push(r); }
    return out;
  }
  const parts = firstWithoutCategories(jobs.flatMap((j, layer) => LONGEST_FIRST.map((c) => ({ layer, job: { ...j, controls: [c] } }))), workers);
  const got = jobs.map(() => [] as LayerScores[]);
  const merged = new Array<LayerScores>(jobs.length);
  await runOnWorkers(parts.map((x) => x.job), workers, whileRunning, (r, i) => {
    const layer = parts[i].layer;
    got[layer].push(r);
    if (got[layer].length === EMBEDDING_CONTROLS.length) { merged[layer] = mergeLayerScores(got[layer]); onDone?.(merged[layer]); }
  });
  return merged;
}

/**
 * The thread's entry: from the sources a small .mjs that registers tsx first (a worker thread starts with
 * its own module loader), from the shipped build dist/layer-worker.js (scripts/build.ts WORKERS).
 */
const LAYER_WORKER = IS_BUILD ? pathToFileURL(workerScript(new URL('./layer-worker.ts', import.meta.url)).path) : new URL('./layer-worker-boot.mjs', import.meta.url);

/**
 * A layer's controls, the longest job first (Buchanan, one layer-repeat on one thread: category-destroyed
 * 3.7 s, sys 2.6, the others ~1.7: they search 12-16 components, the controls 1-2), so the pool's last jobs
 * are short ones and the worker that runs out of jobs first waits less for the other. Layers stay in order,
 * so the progress lines still come layer by layer.
 */
const LONGEST_FIRST: readonly EmbeddingControl[] = ['category-destroyed', 'sys', 'shuffle', 'category-shuffle', 'rand', 'rand-marginal'];
if (EMBEDDING_CONTROLS.some((c) => !LONGEST_FIRST.includes(c))) throw new Error('layer-pool.ts LONGEST_FIRST must list every embedding control');

/** The category controls read `foldCats`, which `whileRunning` may still be filling: none of them is among the first jobs sent. */
function firstWithoutCategories<T extends { job: LayerJob }>(parts: T[], first: number): T[] {
  const late = (x: T): boolean => x.job.controls!.some((c) => c === 'category-shuffle' || c === 'category-destroyed');
  const early = parts.filter((x) => !late(x)).slice(0, first);
  return [...early, ...parts.filter((x) => !early.includes(x))];
}

/**
 * `whileRunning` runs on this thread once the first job of every worker is posted (each job is copied
 * when posted): the serial preparation that no early job needs overlaps the pool instead of adding to it.
 */
async function runOnWorkers(jobs: readonly LayerJob[], workers: number, whileRunning: (() => void) | undefined, onResult: (r: LayerScores, index: number) => void): Promise<void> {
  let next = 0;
  const pool = Array.from({ length: Math.min(workers, jobs.length) }, () => new Worker(LAYER_WORKER));
  try {
    const running = Promise.all(pool.map((w) => new Promise<void>((resolve, reject) => {
      const give = (): void => {
        if (next >= jobs.length) { resolve(); return; }
        const i = next++;
        const onMessage = (msg: { ok: boolean; result?: LayerScores; error?: string }): void => {
          w.off('error', reject);
          if (!msg.ok) { reject(new Error(`properties worker failed on ${msg.error}`)); return; }
          onResult(msg.result!, i);
          give();
        };
        w.once('message', onMessage);
        w.once('error', reject);
        w.postMessage(jobs[i]);
      };
      give();
    })));
    // a failure of whileRunning must not leave a rejected pool unobserved (the finally stops the workers)
    running.catch(() => undefined);
    whileRunning?.();
    await running;
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}
