import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorMessage, isEdgeprobeError } from '../core/errors.ts';
import { explainMissingRuntime, missingPackage } from '../core/missing-package.ts';

// Node's own error for a package that is not installed, made by importing one that does not exist
async function notFound(pkg: string): Promise<unknown> {
  try {
    await import(pkg);
  } catch (err) {
    return err;
  }
  throw new Error(`${pkg} imported`);
}

test('a missing onnxruntime-node becomes its coded error (the agent reports it so for a failed job); other errors stay as they are', async () => {
  const missing = await notFound('edgeprobe-no-such-package');
  assert.equal(missingPackage(missing), 'edgeprobe-no-such-package');
  assert.equal(explainMissingRuntime(missing), missing, 'another missing package is not called onnxruntime');
  // the same error shape Node gives for onnxruntime-node, as the coordinator image (which leaves it out) sees it
  const ort = Object.assign(new Error("Cannot find package 'onnxruntime-node' imported from /app/dist/runner-X.js"), { code: 'ERR_MODULE_NOT_FOUND' });
  const explained = explainMissingRuntime(ort);
  assert.ok(isEdgeprobeError(explained) && explained.code === 'EP_ONNXRUNTIME_NOT_INSTALLED', String(explained));
  assert.match(errorMessage(explained), /agent image/);
  // a missing file of our own is a bug, not a missing install
  const ownFile = Object.assign(new Error("Cannot find module '/app/dist/x.js' imported from /app/dist/main.js"), { code: 'ERR_MODULE_NOT_FOUND' });
  assert.equal(missingPackage(ownFile), undefined);
  assert.equal(explainMissingRuntime(ownFile), ownFile);
});
