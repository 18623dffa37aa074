import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sha256Hex } from '../core/onnx/model-io.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';
import { jsonResult, runCliAsync } from './helpers/run-cli.ts';
import { assertCliError } from './helpers/coded-errors.ts';

// a local server stands in for the model host: the tests never touch the network
const tinyDir = ensureGeneratedModel('tiny');
const model = readFileSync(join(tinyDir, 'model.onnx'));
const tmp = mkdtempSync(join(tmpdir(), 'edgeprobe-fetch-'));
// a published model archive: the tiny model directory packed with the system tar
const archivePath = join(tmp, 'tiny.tar.gz');
spawnSync('tar', ['-czf', archivePath, '-C', tinyDir, 'model.onnx', 'vocab.txt', 'tokenizer.json', 'config.json']);
const archive = readFileSync(archivePath);
let server: Server;
let base = '';
before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/models/model.onnx') { res.writeHead(200, { 'content-length': model.length }); res.end(model); return; }
    if (req.url === '/models/tiny.tar.gz') { res.writeHead(200); res.end(archive); return; }
    res.writeHead(404); res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => { server.close(); rmSync(tmp, { recursive: true, force: true }); });

test('models fetch downloads a file whose sha256 matches', async () => {
  const dir = join(tmp, 'ok');
  const run = await runCliAsync(['--json', 'models', 'fetch', `${base}/models/model.onnx`, '--sha256', sha256Hex(model), '--dir', dir]);
  assert.equal(run.status, 0, run.stderr);
  const r = jsonResult<{ path: string; bytes: number }>(run);
  assert.equal(r.bytes, model.length);
  assert.equal(sha256Hex(readFileSync(r.path)), sha256Hex(model));
});

test('models fetch refuses a checksum mismatch and keeps nothing', async () => {
  const dir = join(tmp, 'bad');
  const run = await runCliAsync(['models', 'fetch', `${base}/models/model.onnx`, '--sha256', 'ab'.repeat(32), '--dir', dir]);
  assertCliError(run, 'EP_FETCH_SHA256_MISMATCH', /model\.onnx: expected abab.*got [0-9a-f]{64}/);
  assert.match(run.stderr, /^fix: .*--sha256/m);
  assert.ok(!existsSync(join(dir, 'model.onnx')) && !existsSync(join(dir, 'model.onnx.part')));
});

test('models fetch: a 404 and a malformed checksum are user errors', async () => {
  const r404 = await runCliAsync(['models', 'fetch', `${base}/nope.onnx`, '--sha256', sha256Hex(model), '--dir', join(tmp, 'n')]);
  assertCliError(r404, 'EP_FETCH_HTTP', /HTTP 404/);
  const rsha = await runCliAsync(['models', 'fetch', `${base}/models/model.onnx`, '--sha256', 'xyz']);
  assertCliError(rsha, 'EP_FETCH_SHA256_INVALID', /"xyz"/);
});

test('models fetch unpacks a checked archive into a usable model directory', async () => {
  const run = await runCliAsync(['--json', 'models', 'fetch', `${base}/models/tiny.tar.gz`, '--sha256', sha256Hex(archive), '--dir', join(tmp, 'arch')]);
  assert.equal(run.status, 0, run.stderr);
  const r = jsonResult<{ extractedTo: string }>(run);
  assert.equal(sha256Hex(readFileSync(join(r.extractedTo, 'model.onnx'))), sha256Hex(model));
  const inspect = await runCliAsync(['--json', 'models', 'inspect', r.extractedTo]);
  assert.equal(inspect.status, 0, inspect.stderr);
});
