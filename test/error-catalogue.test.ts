import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { CATALOGUE, EdgeprobeError, epError, errorMessage, isErrorCode, reviveEdgeprobeError, type ErrorCode } from '../core/errors.ts';
import { EXIT_CODES } from '../cli/exit-codes.ts';
import { PROJECT_ROOT } from '../harness/shared-data.ts';
import { ERRORS_DOC, errorsDoc, renderTemplate } from '../scripts/errors-doc.ts';

const CATALOGUE_FILE = join(PROJECT_ROOT, 'core', 'errors', 'catalogue.ts');
const DOC_SCRIPT = join(PROJECT_ROOT, 'scripts', 'errors-doc.ts');
/** A whole code: `EP_CONFIG_*` in a comment names a family, not a code, so a code must end in a letter or digit. */
const CODE_IN_TEXT = /\bEP_[A-Z0-9_]*[A-Z0-9]\b(?!\*)/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return d.name === 'node_modules' || d.name.startsWith('.') ? [] : sourceFiles(p);
    return /\.(ts|js)$/.test(d.name) ? [p] : [];
  });
}

/** code -> files that mention it */
function codesIn(files: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of files) {
    for (const m of readFileSync(f, 'utf8').matchAll(CODE_IN_TEXT)) out.set(m[0], [...(out.get(m[0]) ?? []), relative(PROJECT_ROOT, f)]);
  }
  return out;
}

const LIBRARY_DIRS = ['core', 'probes', 'cli', 'agent', 'coordinator', 'models', 'sim', 'harness', 'bench', 'scripts'];
const libraryFiles = LIBRARY_DIRS.flatMap((d) => sourceFiles(join(PROJECT_ROOT, d))).filter((f) => f !== CATALOGUE_FILE && f !== DOC_SCRIPT);
// this file names a non-code on purpose (the revive test)
const testFiles = sourceFiles(join(PROJECT_ROOT, 'test')).filter((f) => f !== fileURLToPath(import.meta.url));
const catalogueCodes = Object.keys(CATALOGUE) as ErrorCode[];

describe('error catalogue', () => {
  test('codes are unique and look like EP_*', () => {
    // an object literal keeps the last of two equal keys silently at runtime, so count them in the source
    const declared = [...readFileSync(CATALOGUE_FILE, 'utf8').matchAll(/^\s+(EP_[A-Z0-9_]+):/gm)].map((m) => m[1]);
    assert.equal(declared.length, catalogueCodes.length, 'every declared code is in the catalogue object');
    assert.deepEqual(declared.filter((c, i) => declared.indexOf(c) !== i), [], 'duplicate codes');
    for (const code of catalogueCodes) assert.match(code, /^EP_[A-Z0-9_]+$/);
  });

  test('every code used in the tree is in the catalogue, every entry is thrown somewhere outside tests', () => {
    const inLibrary = codesIn(libraryFiles);
    const inTests = codesIn(testFiles);
    const unknown = [...inLibrary.keys(), ...inTests.keys()].filter((c) => !isErrorCode(c));
    assert.deepEqual([...new Set(unknown)].map((c) => `${c} in ${[...(inLibrary.get(c) ?? []), ...(inTests.get(c) ?? [])].join(', ')}`), [], 'codes missing from the catalogue');
    assert.deepEqual(catalogueCodes.filter((c) => !inLibrary.has(c)), [], 'catalogue entries no library code uses');
    assert.ok(inLibrary.size >= 100, `the scan found ${inLibrary.size} codes: is it reading the tree?`);
  });

  test('every entry has a category the CLI maps, a message and a fix line; no two entries say the same thing', () => {
    const seen = new Map<string, ErrorCode>();
    for (const code of catalogueCodes) {
      const { message, fix } = renderTemplate(code);
      assert.ok(CATALOGUE[code].category in EXIT_CODES, `${code}: category ${CATALOGUE[code].category} has no exit code`);
      assert.ok(message.length > 5, `${code}: message`);
      assert.ok(fix.length > 5 && fix !== message, `${code}: fix line`);
      const key = `${message}\n${fix}`;
      assert.equal(seen.get(key), undefined, `${code} repeats ${seen.get(key)}`);
      seen.set(key, code);
    }
  });

  test('docs/errors.md is generated from the catalogue and up to date', () => {
    assert.equal(readFileSync(ERRORS_DOC, 'utf8'), errorsDoc(), 'run: node --import tsx scripts/errors-doc.ts');
    for (const code of catalogueCodes) assert.ok(readFileSync(ERRORS_DOC, 'utf8').includes(`\`${code}\``), code);
  });
});

describe('EdgeprobeError', () => {
  test('renders the template with its parameters and keeps code, fix and parameters', () => {
    const e = epError('EP_MODEL_LAYER_NORMS', { file: 'm.onnx', layer: 3, found: 1 });
    assert.ok(e instanceof EdgeprobeError && e instanceof Error);
    assert.equal(e.code, 'EP_MODEL_LAYER_NORMS');
    assert.equal(e.message, 'm.onnx: layer 3 does not end in two LayerNorms (found 1)');
    assert.equal(e.fix, 'edgeprobe supports post-LayerNorm BERT blocks (BERT, MiniLM, RoBERTa, DistilBERT)');
    assert.equal(e.category, 'model');
    assert.deepEqual(e.params, { file: 'm.onnx', layer: 3, found: 1 });
    assert.equal(epError('EP_MAPS_LAYER_OUT_OF_RANGE', { layer: 9, layers: 4 }).fix, 'use 1..4');
  });

  test('errorMessage leads with the code (logs, job failure reasons); other errors keep their message', () => {
    assert.equal(errorMessage(epError('EP_JOB_UNKNOWN', { jobId: 'j1', db: 'f.sqlite' })), '[EP_JOB_UNKNOWN] no job j1 in f.sqlite (fix: see `edgeprobe jobs list` for job ids)');
    assert.equal(errorMessage(new Error('boom')), 'boom');
    assert.equal(errorMessage('x'), 'x');
  });

  test('a coded error survives a process boundary as { code, params }; an unknown code does not', () => {
    const e = epError('EP_ONNX_EMPTY', { file: '/m/model.onnx' });
    const wire = JSON.parse(JSON.stringify({ code: e.code, params: e.params })) as { code: unknown; params: unknown };
    const back = reviveEdgeprobeError(wire.code, wire.params);
    assert.ok(back instanceof EdgeprobeError);
    assert.deepEqual([back.code, back.message, back.fix], [e.code, e.message, e.fix]);
    assert.equal(reviveEdgeprobeError('EP_NOT_A_CODE', {}), undefined);
    assert.equal(reviveEdgeprobeError('toString', {}), undefined, 'inherited object keys are not codes');
    assert.equal(reviveEdgeprobeError(undefined, undefined), undefined);
  });
});
