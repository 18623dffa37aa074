import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inferElemTypes } from '../core/onnx/elem-types.ts';
import { DataType, makeModel, node, tensorValueInfo } from '../core/onnx/graph-builder.ts';
import { floatTensor } from '../core/onnx/tensor-data.ts';

test('element types propagate through Cast, Shape, comparisons and quantization ops', () => {
  const m = makeModel({
    name: 't',
    inputs: [tensorValueInfo('ids', DataType.INT64, ['b', 's'])],
    outputs: [],
    initializers: [floatTensor('w', [2], Float32Array.of(1, 2))],
    nodes: [
      node('Cast', ['ids'], ['f'], { to: DataType.FLOAT }),
      node('Shape', ['f'], ['shape']),
      node('Add', ['f', 'w'], ['sum']),
      node('Less', ['sum', 'w'], ['mask']),
      node('Where', ['mask', 'sum', 'f'], ['picked']),
      node('DynamicQuantizeLinear', ['picked'], ['q', 'scale', 'zp']),
      node('MatMulInteger', ['q', 'q'], ['acc']),
    ],
  });
  const t = inferElemTypes(m.graph);
  assert.equal(t.get('f'), DataType.FLOAT);
  assert.equal(t.get('shape'), DataType.INT64);
  assert.equal(t.get('sum'), DataType.FLOAT);
  assert.equal(t.get('mask'), DataType.BOOL);
  assert.equal(t.get('picked'), DataType.FLOAT);
  assert.deepEqual([t.get('q'), t.get('scale'), t.get('zp')], [DataType.UINT8, DataType.FLOAT, DataType.UINT8]);
  assert.equal(t.get('acc'), DataType.INT32);
});
