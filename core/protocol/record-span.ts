import { BACKSLASH, CLOSE_ARRAY, CLOSE_OBJECT, COLON, COMMA, DOT, MINUS, NINE, OPEN_ARRAY, OPEN_OBJECT, QUOTE, ZERO } from './json-bytes.ts';

// the bytes the scan acts on, by class; every other byte (digits, letters, spaces) is one table lookup
const STRING = 1, NUMBER_SIGN = 2, KEY_END = 3, OPEN = 4, CLOSE = 5, NEXT = 6;
const CLASS = new Uint8Array(256);
CLASS[QUOTE] = STRING; CLASS[MINUS] = NUMBER_SIGN; CLASS[COLON] = KEY_END; CLASS[OPEN_OBJECT] = OPEN; CLASS[OPEN_ARRAY] = OPEN;
CLASS[CLOSE_OBJECT] = CLOSE; CLASS[CLOSE_ARRAY] = CLOSE; CLASS[COMMA] = NEXT;
const PAYLOAD = Buffer.from('payload');
const RECORD = Buffer.from('record');

export interface RecordScan {
  /** nesting went deeper than `max` (the scan stopped there) */
  tooDeep: boolean;
  /**
   * byte range of the value of top-level `payload.record` when it is an object, nothing can make JSON.parse
   * see another one, and the message has no negative zero (JSON.parse gives -0, JSON.stringify writes 0)
   */
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
  // plain locals, no closure over them: this runs on every byte of every result
  let depth = 0;
  let strStart = 0;
  let strEnd = 0;
  let strEscaped = false;
  let unsafe = false;
  let payloadNext = false; // the value after `payload:` at depth 1
  let recordNext = false; // the value after `record:` at depth 2 inside the payload object
  let inPayload = false;
  let openAt = -1; // where the record object being read opened
  let recordStart = -1;
  let recordEnd = -1;
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    const c = CLASS[bytes[i]];
    if (c === 0) continue;
    if (c === STRING) {
      strStart = i + 1;
      strEscaped = false;
      for (i++; i < n && bytes[i] !== QUOTE; i++) {
        if (bytes[i] === BACKSLASH) { strEscaped = true; i++; }
      }
      strEnd = i;
    } else if (c === NUMBER_SIGN) {
      // outside strings a minus starts a number: -0, -0.000, -0e5 parse to -0
      if (i + 1 < n && bytes[i + 1] === ZERO) {
        let j = i + 2;
        if (j < n && bytes[j] === DOT) while (++j < n && bytes[j] === ZERO);
        if (!(j < n && bytes[j] > ZERO && bytes[j] <= NINE)) unsafe = true;
      }
    } else if (c === KEY_END) {
      if (depth === 1) {
        if (strEscaped) unsafe = true;
        payloadNext = keyIs(bytes, strStart, strEnd, PAYLOAD);
        if (payloadNext) recordEnd = -1;
      } else if (depth === 2 && inPayload) {
        if (strEscaped) unsafe = true;
        recordNext = keyIs(bytes, strStart, strEnd, RECORD);
        if (recordNext) recordEnd = -1;
      }
    } else if (c === OPEN) {
      if (++depth > max) return { tooDeep: true };
      if (bytes[i] === OPEN_OBJECT && depth === 2 && payloadNext) inPayload = true;
      if (bytes[i] === OPEN_OBJECT && depth === 3 && recordNext) openAt = i;
      payloadNext = recordNext = false;
    } else if (c === CLOSE) {
      if (depth === 3 && openAt >= 0) { recordStart = openAt; recordEnd = i + 1; openAt = -1; }
      else if (depth === 2) inPayload = false;
      depth--;
    } else payloadNext = recordNext = false;
  }
  return { tooDeep: false, ...(recordEnd > 0 && !unsafe ? { record: { start: recordStart, end: recordEnd } } : {}) };
}

function keyIs(bytes: Uint8Array, start: number, end: number, key: Uint8Array): boolean {
  if (end - start !== key.length) return false;
  for (let k = 0; k < key.length; k++) if (bytes[start + k] !== key[k]) return false;
  return true;
}

/**
 * The record text to store for a results message (scanResultsJson found it), or undefined: serialise the
 * parsed record. `decoded` is the message as the screen decoded it for JSON.parse: when it has one UTF-16
 * unit per byte (no multi-byte character), byte offsets are its offsets and the text is a slice of it.
 */
export function storedRecordText(bytes: Uint8Array, scan: RecordScan, decoded?: string): string | undefined {
  if (!scan.record) return undefined;
  if (decoded !== undefined && decoded.length === bytes.byteLength) return decoded.slice(scan.record.start, scan.record.end);
  return Buffer.from(bytes.buffer, bytes.byteOffset + scan.record.start, scan.record.end - scan.record.start).toString('utf8');
}
