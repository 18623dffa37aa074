import { parentPort } from 'node:worker_threads';
import { runLayerJob, type LayerJob } from './layer-suite.ts';

// one layer's controls per message; errors go back as text so the pool can name the layer
parentPort!.on('message', async (job: LayerJob) => {
  try {
    parentPort!.postMessage({ ok: true, result: await runLayerJob(job) });
  } catch (err) {
    parentPort!.postMessage({ ok: false, error: `${job.layer}: ${(err as Error).stack ?? String(err)}` });
  }
});
