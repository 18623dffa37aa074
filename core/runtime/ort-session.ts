import * as ort from 'onnxruntime-node';
import { epError } from '../errors.ts';

export type { Tensor } from 'onnxruntime-node';
export { ort };

export interface SessionOptions {
  /** intra-op threads; default lets onnxruntime choose (all cores) */
  threads?: number;
  executionProviders?: string[];
  /** onnxruntime graph optimisation level; 'all' by default, as in deployment */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
}

export async function createSession(model: Uint8Array | string, label: string, opts: SessionOptions = {}): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: opts.optimization ?? 'all',
    executionProviders: opts.executionProviders ?? ['cpu'],
    ...(opts.threads ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {}),
  };
  try {
    return typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
  } catch (err) {
    throw epError('EP_ORT_LOAD_FAILED', { file: label, reason: (err as Error).message.split('\n')[0] });
  }
}

/** Execution providers this build of onnxruntime-node can use on this machine. */
export function availableExecutionProviders(): string[] {
  return ort.listSupportedBackends().map((b) => b.name);
}

export const ORT_VERSION: string = ort.env.versions.node ?? ort.env.versions.common;
