import { getFloat16, setFloat16 } from '@petamoriken/float16';
import { DataType, onnx, type TensorProto } from './proto.ts';

export function dimsOf(t: TensorProto): number[] {
  return t.dims.map((d) => Number(d));
}

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Copy of raw bytes aligned for typed-array views (protobuf slices may start at odd offsets). */
function alignedRaw(t: TensorProto): ArrayBuffer {
  const raw = t.rawData;
  return raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength) as ArrayBuffer;
}

/** Float32 values of a FLOAT or FLOAT16 initializer, from raw_data or the typed repeated fields. */
export function readFloats(t: TensorProto): Float32Array {
  const n = elementCount(dimsOf(t));
  if (t.dataType === DataType.FLOAT) {
    if (t.rawData && t.rawData.byteLength > 0) return new Float32Array(alignedRaw(t));
    return Float32Array.from(t.floatData);
  }
  if (t.dataType === DataType.FLOAT16) {
    const out = new Float32Array(n);
    if (t.rawData && t.rawData.byteLength > 0) {
      const view = new DataView(alignedRaw(t));
      for (let i = 0; i < n; i++) out[i] = getFloat16(view, i * 2, true);
    } else {
      // int32_data holds the fp16 bit patterns, one per element
      const view = new DataView(new ArrayBuffer(2));
      for (let i = 0; i < n; i++) { view.setUint16(0, t.int32Data[i], true); out[i] = getFloat16(view, 0, true); }
    }
    return out;
  }
  throw new Error(`tensor ${t.name} has data type ${t.dataType}, not float`);
}

export function readInt64s(t: TensorProto): number[] {
  if (t.dataType !== DataType.INT64) throw new Error(`tensor ${t.name} is not int64`);
  if (t.rawData && t.rawData.byteLength > 0) return Array.from(new BigInt64Array(alignedRaw(t)), Number);
  return t.int64Data.map((v) => Number(v));
}

export function floatTensor(name: string, dims: readonly number[], values: Float32Array): TensorProto {
  return onnx.TensorProto.create({ name, dims: [...dims], dataType: DataType.FLOAT, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) });
}

export function float16Tensor(name: string, dims: readonly number[], values: Float32Array): TensorProto {
  const view = new DataView(new ArrayBuffer(values.length * 2));
  for (let i = 0; i < values.length; i++) setFloat16(view, i * 2, values[i], true);
  return onnx.TensorProto.create({ name, dims: [...dims], dataType: DataType.FLOAT16, rawData: new Uint8Array(view.buffer) });
}

export function int8Tensor(name: string, dims: readonly number[], values: Int8Array): TensorProto {
  return onnx.TensorProto.create({ name, dims: [...dims], dataType: DataType.INT8, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) });
}

export function uint8Tensor(name: string, dims: readonly number[], values: Uint8Array): TensorProto {
  return onnx.TensorProto.create({ name, dims: [...dims], dataType: DataType.UINT8, rawData: values });
}

export function int64Tensor(name: string, dims: readonly number[], values: readonly number[]): TensorProto {
  const data = BigInt64Array.from(values.map((v) => BigInt(v)));
  return onnx.TensorProto.create({ name, dims: [...dims], dataType: DataType.INT64, rawData: new Uint8Array(data.buffer) });
}

/** Bytes the tensor's payload occupies (what size-on-disk comparisons are about). */
export function payloadBytes(t: TensorProto): number {
  if (t.rawData && t.rawData.byteLength > 0) return t.rawData.byteLength;
  return (t.floatData.length + t.int32Data.length) * 4 + (t.int64Data.length + t.doubleData.length + t.uint64Data.length) * 8;
}
