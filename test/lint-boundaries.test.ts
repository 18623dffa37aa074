// The import boundaries in eslint.config.js, checked on planted imports. The imported files are planted in a
// temp tree with the project's layout (the boundary rule only judges imports that resolve to a file), the
// importing file is linted as text at a path in that tree, and every refusal must come from the boundary rule.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ESLint } from 'eslint';

const RULE = 'boundaries/dependencies';
const CONFIG = resolve(import.meta.dirname, '../eslint.config.js');

// Import targets, one per side (demo and other are two probe folders).
const TARGETS = [
  'core/protocol/topics.ts',
  'agent/agent.ts',
  'coordinator/server.ts',
  'cli/main.ts',
  'cli/output.ts',
  'sim/device-simulator.ts',
  'models/generated-models.ts',
  'harness/mosquitto.ts',
  'bench/bench-result.ts',
  'test/helpers/run-cli.ts',
  'probes/index.ts',
  'probes/demo/contract.ts',
  'probes/demo/schema.ts',
  'probes/demo/runner.ts',
  'probes/demo/engine.ts',
  'probes/other/runner.ts',
];

let root = '';
let eslint: ESLint;
const savedRoot = process.env.ESLINT_PLUGIN_BOUNDARIES_ROOT_PATH;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'edgeprobe-lint-'));
  for (const file of TARGETS) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), 'export const value = 1;\nexport type Value = number;\n');
  }
  // The config's root path is the project; the plugin's documented override points it at the planted tree.
  process.env.ESLINT_PLUGIN_BOUNDARIES_ROOT_PATH = root;
  eslint = new ESLint({ cwd: root, overrideConfigFile: CONFIG });
});

after(() => {
  if (savedRoot === undefined) delete process.env.ESLINT_PLUGIN_BOUNDARIES_ROOT_PATH;
  else process.env.ESLINT_PLUGIN_BOUNDARIES_ROOT_PATH = savedRoot;
  rmSync(root, { recursive: true, force: true });
});

async function lint(file: string, code: string): Promise<Array<{ ruleId: string | null; message: string }>> {
  const [result] = await eslint.lintText(code, { filePath: join(root, file) });
  return result.messages.map(({ ruleId, message }) => ({ ruleId, message }));
}

async function assertRefused(file: string, code: string, says: RegExp): Promise<void> {
  const messages = await lint(file, code);
  assert.equal(messages.length, 1, `${file}: ${code}\nexpected one boundary error, got ${JSON.stringify(messages)}`);
  assert.equal(messages[0].ruleId, RULE, `${file}: ${code}\n${messages[0].message}`);
  assert.match(messages[0].message, says);
}

async function assertAllowed(file: string, code: string): Promise<void> {
  assert.deepEqual(await lint(file, code), [], `${file}: ${code}`);
}

const uses = (from: string) => `import { value } from '${from}';\nexport const used = value;\n`;

describe('import boundaries refuse cross imports', () => {
  test('coordinator/ importing the agent, in every import form', async () => {
    const says = /coordinator\/ imports only core\/ and the shared probe layer/;
    await assertRefused('coordinator/report/planted.ts', uses('../../agent/agent.ts'), says);
    await assertRefused('coordinator/report/planted.ts', "import type { Value } from '../../agent/agent.ts';\nexport type V = Value;\n", says);
    await assertRefused('coordinator/report/planted.ts', "export { value } from '../../agent/agent.ts';\n", says);
    await assertRefused('coordinator/report/planted.ts', "export * from '../../agent/agent.ts';\n", says);
    await assertRefused('coordinator/report/planted.ts', "export const load = () => import('../../agent/agent.ts');\n", says);
    await assertRefused('coordinator/report/planted.ts', "export type V = import('../../agent/agent.ts').Value;\n", says);
  });

  test('coordinator/ importing cli/, a probe engine file or a probe runner', async () => {
    const says = /coordinator\/ imports only core\/ and the shared probe layer/;
    await assertRefused('coordinator/report/planted.ts', uses('../../cli/output.ts'), says);
    await assertRefused('coordinator/planted.ts', uses('../probes/demo/engine.ts'), says);
    await assertRefused('coordinator/planted.ts', "export type V = import('../probes/demo/engine.ts').Value;\n", says);
    await assertRefused('coordinator/planted.ts', "export const load = () => import('../probes/demo/runner.ts');\n", says);
  });

  test('core/ importing the coordinator', async () => {
    await assertRefused('core/planted.ts', uses('../coordinator/server.ts'), /core\/ imports only core\//);
    await assertRefused('core/protocol/planted.ts', uses('../../probes/demo/contract.ts'), /core\/ imports only core\//);
  });

  test('sim/ importing the agent or a probe engine file', async () => {
    await assertRefused('sim/planted.ts', uses('../agent/agent.ts'), /sim\/ imports only core\/ and the shared probe layer/);
    await assertRefused('sim/planted.ts', "import type { Value } from '../probes/demo/engine.ts';\nexport type V = Value;\n", /sim\//);
  });

  test('bench/ importing test/, and the other "never" sides', async () => {
    await assertRefused('bench/planted.ts', uses('../test/helpers/run-cli.ts'), /bench\/ never imports test\//);
    await assertRefused('scripts/planted.ts', uses('../test/helpers/run-cli.ts'), /scripts\/ never imports test\//);
    await assertRefused('harness/planted.ts', uses('../bench/bench-result.ts'), /harness\/ never imports test\/ or bench\//);
    await assertRefused('cli/commands/planted.ts', uses('../../harness/mosquitto.ts'), /cli\/ never imports/);
  });

  test('agent/ importing cli/ or the coordinator; probe engines and models/ likewise', async () => {
    const says = /agent\/ imports only core\/, probes\/ and models\//;
    await assertRefused('agent/jobs/planted.ts', uses('../../cli/main.ts'), says);
    await assertRefused('agent/planted.ts', uses('../coordinator/server.ts'), says);
    await assertRefused('agent/planted.ts', uses('../harness/mosquitto.ts'), says);
    await assertRefused('probes/demo/planted.ts', uses('../../coordinator/server.ts'), /probe engines import only/);
    await assertRefused('probes/demo/planted.ts', uses('../../sim/device-simulator.ts'), /probe engines import only/);
    await assertRefused('models/planted.ts', uses('../agent/agent.ts'), /models\/ imports only core\//);
  });

  test('the shared probe layer importing an engine file, the agent, or a runner other than its own lazily', async () => {
    const says = /the shared probe layer .* imports only core\/ and itself/;
    await assertRefused('probes/demo/contract.ts', uses('./engine.ts'), says);
    await assertRefused('probes/demo/schema.ts', uses('../../agent/agent.ts'), says);
    await assertRefused('probes/index.ts', uses('./demo/engine.ts'), says);
    // its own runner, but loaded eagerly: the runner (and the engine behind it) would load with the contract
    await assertRefused('probes/demo/contract.ts', uses('./runner.ts'), says);
    await assertRefused('probes/demo/contract.ts', "export const runner = () => import('../other/runner.ts');\n", says);
    await assertRefused('probes/index.ts', "export const runner = () => import('./demo/runner.ts');\n", says);
  });
});

test('a TypeScript import naming x.js for x.ts is refused: the boundary rule would not see where it leads', async () => {
  const messages = await lint('coordinator/planted.ts', uses('../agent/agent.js'));
  assert.deepEqual(
    messages.map((m) => m.ruleId),
    ['no-restricted-imports'],
    JSON.stringify(messages),
  );
});

describe('import boundaries allow the intended imports', () => {
  test('coordinator/ and sim/ use core/ and the shared probe layer', async () => {
    await assertAllowed('coordinator/planted.ts', uses('../core/protocol/topics.ts'));
    await assertAllowed('coordinator/report/planted.ts', uses('../../probes/demo/contract.ts'));
    await assertAllowed('coordinator/report/planted.ts', "import type { Value } from '../../probes/demo/schema.ts';\nexport type V = Value;\n");
    await assertAllowed('coordinator/planted.ts', uses('../probes/index.ts'));
    await assertAllowed('coordinator/report/planted.ts', uses('../server.ts'));
    await assertAllowed('sim/planted.ts', uses('../probes/demo/schema.ts'));
  });

  test("a contract loads its own folder's runner lazily and uses core/ and the shared layer", async () => {
    await assertAllowed('probes/demo/contract.ts', "export const runner = () => import('./runner.ts');\n");
    await assertAllowed('probes/demo/contract.ts', uses('./schema.ts'));
    await assertAllowed('probes/demo/contract.ts', uses('../../core/protocol/topics.ts'));
    await assertAllowed('probes/index.ts', "export { value } from './demo/contract.ts';\n");
  });

  test('agent/ uses probes/ and models/; engines use agent/; cli/, bench/ and test/ use what they need', async () => {
    await assertAllowed('agent/jobs/planted.ts', uses('../../probes/demo/engine.ts'));
    await assertAllowed('agent/jobs/planted.ts', "export const load = () => import('../../probes/demo/runner.ts');\n");
    await assertAllowed('agent/planted.ts', uses('../models/generated-models.ts'));
    await assertAllowed('probes/demo/planted.ts', uses('../../agent/agent.ts'));
    await assertAllowed('probes/demo/runner.ts', uses('./engine.ts'));
    await assertAllowed('models/planted.ts', uses('../core/protocol/topics.ts'));
    await assertAllowed('cli/commands/planted.ts', uses('../../coordinator/server.ts'));
    await assertAllowed('bench/planted.ts', uses('../harness/mosquitto.ts'));
    await assertAllowed('harness/planted.ts', uses('../cli/main.ts'));
    await assertAllowed('test/planted.test.ts', uses('../bench/bench-result.ts'));
  });
});
