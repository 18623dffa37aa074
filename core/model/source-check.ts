import { epError } from '../errors.ts';
import { detectQuantization } from '../onnx/quantization-detect.ts';
import type { ModelDir } from './model-dir.ts';

/**
 * The model a command compresses and compares against is its fp32 reference. A file that is already
 * quantized would be labelled fp32 and judged only against its own re-compressions (which quantize
 * nothing more), so it is refused with the way to measure it: as a user variant beside its source.
 */
export function requireFp32Source(md: ModelDir): void {
  const q = detectQuantization(md.model.proto.graph);
  if (q.quantized) throw epError('EP_MODEL_SOURCE_QUANTIZED', { file: md.onnxPath, quantization: q.summary });
}
