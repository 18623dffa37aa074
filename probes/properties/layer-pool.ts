import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { IS_BUILD, workerScript } from '../../core/build-layout.ts';
import { EMBEDDING_CONTROLS, mergeLayerScores, runLayerJob, type LayerJob, type LayerScores } from './layer-suite.ts';

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
export async function runLayerJobs(jobs: readonly LayerJob[], workers: number, onDone?: (r: LayerScores) => void): Promise<LayerScores[]> {
  if (workers <= 1) {
    const out: LayerScores[] = [];
    for (const j of jobs) { const r = await runLayerJob(j); onDone?.(r); out.push(r); }
    return out;
  }
  const parts = jobs.flatMap((j, layer) => EMBEDDING_CONTROLS.map((c) => ({ layer, job: { ...j, controls: [c] } })));
  const got = jobs.map(() => [] as LayerScores[]);
  const merged = new Array<LayerScores>(jobs.length);
  await runOnWorkers(parts.map((x) => x.job), workers, (r, i) => {
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

async function runOnWorkers(jobs: readonly LayerJob[], workers: number, onResult: (r: LayerScores, index: number) => void): Promise<void> {
  let next = 0;
  const pool = Array.from({ length: Math.min(workers, jobs.length) }, () => new Worker(LAYER_WORKER));
  try {
    await Promise.all(pool.map((w) => new Promise<void>((resolve, reject) => {
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
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}
