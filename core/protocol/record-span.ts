const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const PAYLOAD = Buffer.from('payload');
const RECORD = Buffer.from('record');

export interface RecordScan {
  /** nesting went deeper than `max` (the scan stopped there) */
  tooDeep: boolean;
  /** byte range of the value of top-level `payload.record` when it is an object and nothing can make JSON.parse see another one */
  record?: { start: number; end: number };
}

/**
 * One pass over raw JSON bytes before JSON.parse: the nesting depth check (as jsonDepthExceeds in
 * json-limits.ts) and where the results payload's `record` object lies, so the coordinator can store the
 * record as the device sent it instead of serialising the parsed object again (~7 KB per result).
 * The range is the value JSON.parse takes for `payload.record`: the last `payload` key's object and in it
 * the last `record` key, both reset at each such key. A key with an escape at those two levels could
 * spell `payload` or `record` unseen, so then no range is given (the caller serialises as before).
 * Brackets inside strings do not count; malformed input is left for JSON.parse to refuse.
 */
export function scanResultsJson(bytes: Uint8Array, max: number): RecordScan {
  let depth = 0;
  let strStart = 0;
  let strEnd = 0;
  let strEscaped = false;
  let unsafe = false;
  let payloadNext = false; // the value after `payload:` at depth 1
  let recordNext = false; // the value after `record:` at depth 2 inside the payload object
  let inPayload = false;
  let recordStart = -1;
  let record: { start: number; end: number } | undefined;
  const keyIs = (key: Buffer): boolean => strEnd - strStart === key.length && key.every((b, k) => bytes[strStart + k] === b);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === QUOTE) {
      strStart = i + 1;
      strEscaped = false;
      for (i++; i < bytes.length && bytes[i] !== QUOTE; i++) {
        if (bytes[i] === BACKSLASH) { strEscaped = true; i++; }
      }
      strEnd = i;
    } else if (b === COLON) {
      if (depth === 1) {
        if (strEscaped) unsafe = true;
        payloadNext = keyIs(PAYLOAD);
        if (payloadNext) record = undefined;
      } else if (depth === 2 && inPayload) {
        if (strEscaped) unsafe = true;
        recordNext = keyIs(RECORD);
        if (recordNext) record = undefined;
      }
    } else if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
      if (++depth > max) return { tooDeep: true };
      if (b === OPEN_OBJECT && depth === 2 && payloadNext) inPayload = true;
      if (b === OPEN_OBJECT && depth === 3 && recordNext) recordStart = i;
      payloadNext = recordNext = false;
    } else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
      if (depth === 3 && recordStart >= 0) { record = { start: recordStart, end: i + 1 }; recordStart = -1; }
      if (depth === 2) inPayload = false;
      depth--;
    } else if (b === COMMA) payloadNext = recordNext = false;
  }
  return { tooDeep: false, ...(record && !unsafe ? { record } : {}) };
}

// -0, -0.0, -0e5 ...: JSON.parse gives -0, which JSON.stringify writes as 0
const NEGATIVE_ZERO = /-0(?:\.0*)?(?:[eE][+-]?\d+)?(?![\d.eE])/;

/**
 * The record text to store for a results message, when it reads back as exactly what storing
 * JSON.stringify(record) would: the device's bytes of `payload.record` (scanResultsJson), unless the text
 * has a negative zero (the only value whose re-serialised form parses differently). Undefined: serialise.
 */
export function storedRecordText(bytes: Uint8Array, scan: RecordScan): string | undefined {
  if (!scan.record) return undefined;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + scan.record.start, scan.record.end - scan.record.start).toString('utf8');
  return NEGATIVE_ZERO.test(text) ? undefined : text;
}
