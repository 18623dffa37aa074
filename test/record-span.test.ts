/**
 * The security screen's one pass over a results message finds the bytes of `payload.record`, which the
 * store keeps instead of serialising the parsed record again. The text must parse to exactly what
 * JSON.parse gave for the whole message, whatever a device writes (duplicate keys, whitespace, strings full
 * of brackets and quotes), or no text is given at all.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeMessage, makeMessage } from '../core/protocol/codec.ts';
import { scanResultsJson, storedRecordText } from '../core/protocol/record-span.ts';
import { JSON_LIMITS } from '../core/protocol/json-limits.ts';
import { SeededRandom } from '../core/numeric/seeded-random.ts';
import { syntheticBenchmarkRecord } from '../sim/synthetic-record.ts';

const text = (json: string): string | undefined => {
  const bytes = Buffer.from(json, 'utf8');
  const scan = scanResultsJson(bytes, JSON_LIMITS.maxDepth);
  const t = storedRecordText(bytes, scan);
  // from the screen's decoded text (a slice when it has one unit per byte) it is the same
  assert.equal(storedRecordText(bytes, scan, bytes.toString('utf8')), t);
  return t;
};
const parsedRecord = (json: string): unknown => (JSON.parse(json) as { payload: { record: unknown } }).payload.record;

test('an agent\'s results message: the stored text is byte for byte JSON.stringify of the record', () => {
  const rng = new SeededRandom(3);
  for (let i = 0; i < 20; i++) {
    const record = syntheticBenchmarkRecord(rng, `m${i}`, i % 2 ? 'fp32' : 'int8-dynamic', 1 + i);
    const json = encodeMessage(makeMessage('pi-1', i, 'results', { jobId: 'j1', recordKey: `k${i}`, record }));
    assert.equal(text(json), JSON.stringify(record));
  }
});

test('hostile layouts: the text parses to what JSON.parse took, or there is none', () => {
  const same = [
    '{ "payload" : { "jobId": "j", "record" :\n {"a": [1, {"b": "}]\\"{["}], "c": {"record": {"x": 1}}} }, "type": "results" }',
    '{"payload": {"record": {"a": 1}}, "payload": {"jobId": "j", "record": {"a": 2}, "record": {"a": 3, "a": 4}}}',
    '{"x": {"payload": {"record": {"no": 1}}}, "payload": {"record": {"\\u0061": "é ☃ \\ud83d\\ude00", "d": [[[{}]]]}}}',
    '{"é": "☃", "payload": {"record": {"after": "multi-byte characters"}}}',
    '{"payload": {"record": {"n": [1e5, -1.5e-3, 0.1000000000000000055511151231257827, 123456789012345678901234567890]}}}',
    '{"payload": {"data": {"payload": {"record": {"deep": true}}}, "record": {"shallow": true}}}',
    '{"payload": {"record": {"a": 1}, "other": {"b": [2]}, "more": [{"c": 3}]}, "after": {"d": 4}}',
  ];
  for (const json of same) {
    const t = text(json);
    assert.ok(t !== undefined, json);
    assert.deepEqual(JSON.parse(t), parsedRecord(json), json);
  }
  const none = [
    // an escaped key may spell payload or record: JSON.parse takes these, the scan cannot see it
    '{"payload": {"record": {"a": 1}}, "pay\\u006coad": {"record": {"a": 2}}}',
    '{"payload": {"record": {"a": 1}, "rec\\u006frd": {"a": 2}}}',
    // record (or payload) last given as something else than an object
    '{"payload": {"record": {"a": 1}, "record": "text"}}',
    '{"payload": {"record": {"a": 1}}, "payload": 5}',
    '{"payload": {"record": [1, 2]}}',
    // negative zero comes back as 0 from JSON.stringify
    '{"payload": {"record": {"z": -0.0}}}',
    '{"payload": {"record": {"z": -0e3}}}',
  ];
  for (const json of none) assert.equal(text(json), undefined, json);
  assert.deepEqual(JSON.parse(text('{"payload": {"record": {"z": -0.001, "y": -10}}}')!), { z: -0.001, y: -10 });
});

test('the depth limit holds as before, with brackets inside strings not counted', () => {
  const deep = (n: number): Buffer => Buffer.from(`{"payload": {"record": ${'['.repeat(n)}${']'.repeat(n)}}}`);
  assert.equal(scanResultsJson(deep(JSON_LIMITS.maxDepth - 2), JSON_LIMITS.maxDepth).tooDeep, false);
  assert.equal(scanResultsJson(deep(JSON_LIMITS.maxDepth - 1), JSON_LIMITS.maxDepth).tooDeep, true);
  assert.equal(scanResultsJson(Buffer.from(`{"s": "${'['.repeat(100)}"}`), JSON_LIMITS.maxDepth).tooDeep, false);
});
