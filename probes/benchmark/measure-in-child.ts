import { fork } from 'node:child_process';
import { workerScript } from '../../core/build-layout.ts';
import { reviveEdgeprobeError } from '../../core/errors.ts';
import type { WorkerRequest, WorkerResult } from './measure-worker.ts';

const WORKER = workerScript(new URL('./measure-worker.ts', import.meta.url));

interface WorkerReply { ok: boolean; result?: WorkerResult; error?: { message: string; code?: string; params?: Record<string, string | number>; stack?: string } }

/** Runs measure-worker.ts in a fresh Node process (TypeScript via tsx, or the built worker) and returns its measurements. */
export function measureInChild(req: WorkerRequest): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const child = fork(WORKER.path, [], { execArgv: WORKER.execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    let settled = false;
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('message', (reply: WorkerReply) => {
      settled = true;
      const coded = reviveEdgeprobeError(reply.error?.code, reply.error?.params);
      if (reply.ok && reply.result) resolve(reply.result);
      else if (coded) reject(coded);
      else reject(new Error(`benchmark worker failed on ${req.onnxPath}: ${reply.error?.message}\n${reply.error?.stack ?? ''}`));
    });
    child.on('exit', (code) => {
      if (!settled) reject(new Error(`benchmark worker for ${req.onnxPath} exited with code ${code} before reporting\n${stderr.slice(-2000)}`));
    });
    child.send(req);
  });
}
