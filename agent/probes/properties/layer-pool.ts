import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { runLayerJob, type LayerJob, type LayerScores } from './layer-suite.ts';

/** Worker threads for `workers: 'auto'`: one per core the OS gives this process. */
export function workerCount(setting: number | 'auto' | undefined, jobs: number): number {
  const want = setting === undefined || setting === 'auto' ? availableParallelism() : setting;
  return Math.max(1, Math.min(want, jobs));
}

/**
 * Runs one job per layer, on `workers` threads (layers are independent, and a layer's controls are the
 * whole cost); workers = 1 runs them in this thread. Results come back in job order. Workers start from a .mjs entry that
 * registers tsx itself, so they load the TypeScript however the main thread was started.
 */
export async function runLayerJobs(jobs: readonly LayerJob[], workers: number, onDone?: (r: LayerScores) => void): Promise<LayerScores[]> {
  if (workers <= 1 || jobs.length <= 1) {
    return jobs.map((j) => { const r = runLayerJob(j); onDone?.(r); return r; });
  }
  const results = new Array<LayerScores>(jobs.length);
  let next = 0;
  const pool = Array.from({ length: Math.min(workers, jobs.length) }, () => new Worker(new URL('./layer-worker-boot.mjs', import.meta.url)));
  try {
    await Promise.all(pool.map((w) => new Promise<void>((resolve, reject) => {
      const give = (): void => {
        if (next >= jobs.length) { resolve(); return; }
        const i = next++;
        const onMessage = (msg: { ok: boolean; result?: LayerScores; error?: string }): void => {
          w.off('error', reject);
          if (!msg.ok) { reject(new Error(`properties worker failed on ${msg.error}`)); return; }
          results[i] = msg.result!;
          onDone?.(msg.result!);
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
  return results;
}
