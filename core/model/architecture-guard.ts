import { epError } from '../errors.ts';
import type { LayerMap } from '../onnx/layer-detect.ts';

/**
 * Commands built on encoder assumptions (bidirectional attention judged against 1/n, [CLS]/mean pooling,
 * fill-mask heads) call this, so a decoder is refused with one coded error naming its causal mask instead of
 * being measured as if it were BERT. `what` names the command or probe part that would be wrong.
 */
export function refuseDecoder(layers: Pick<LayerMap, 'architecture'>, file: string, what: string): void {
  const a = layers.architecture;
  if (a.kind === 'decoder') throw epError('EP_MODEL_DECODER_UNSUPPORTED', { file, construct: a.causalMask ?? 'causal', what });
}

/**
 * Hidden states of a variant and of its source are compared tensor by tensor (divergence, drift): both graphs
 * must be read alike (encoder/decoder, pre/post norm), or the comparison would set a residual stream beside a norm output.
 */
export function requireSameReading(source: Pick<LayerMap, 'architecture'>, variant: Pick<LayerMap, 'architecture'>, name: string, file: string): void {
  const reading = (a: LayerMap['architecture']): string => `${a.kind}, ${a.norm}`;
  if (reading(source.architecture) !== reading(variant.architecture)) {
    throw epError('EP_VARIANT_READ_DIFFERENTLY', { variant: name, file, variantReading: reading(variant.architecture), sourceReading: reading(source.architecture) });
  }
}

export function requireDecoder(layers: Pick<LayerMap, 'architecture'>, file: string, probe: string): void {
  if (layers.architecture.kind !== 'decoder') throw epError('EP_PROBE_NEEDS_DECODER', { file, probe });
}
