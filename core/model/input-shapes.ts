import { epError } from '../errors.ts';
import type { GraphProto } from '../onnx/proto.ts';
import { isPastInput, KNOWN_INPUTS, pastShape } from '../runtime/encoder-runner.ts';

/** Each graph input's dimensions as declared: a number for a fixed size, a name for a dynamic axis ('?' when unnamed). */
export function inputShapes(graph: GraphProto): Record<string, Array<number | string>> {
  const out: Record<string, Array<number | string>> = {};
  const inits = new Set(graph.initializer.map((t) => t.name));
  for (const i of graph.input) {
    if (inits.has(i.name)) continue;
    const dims = i.type?.tensorType?.shape?.dim ?? [];
    out[i.name] = dims.map((d) => (d.dimParam ? d.dimParam : d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0 ? Number(d.dimValue) : '?'));
  }
  return out;
}

/**
 * The probes feed batches of sentences of varying length, so they need dynamic batch and sequence
 * axes and inputs they know how to fill. A fixed-shape export or an unknown input is refused with the
 * shape named, before any session is made, instead of an onnxruntime shape error mid-run.
 */
export function requireRunnableInputs(graph: GraphProto, file: string): void {
  const shapes = inputShapes(graph);
  for (const [name, dims] of Object.entries(shapes)) {
    if (isPastInput(name)) { pastShape(name, dims, file); continue; }
    if (!KNOWN_INPUTS.includes(name)) throw epError('EP_MODEL_INPUT_UNKNOWN', { input: `${name} (${file})`, known: KNOWN_INPUTS.join(', ') });
    const fixed = dims.slice(0, 2).some((d) => typeof d === 'number');
    if (fixed) throw epError('EP_MODEL_FIXED_SHAPE', { file, input: name, shape: `[${dims.join(', ')}]` });
  }
}
