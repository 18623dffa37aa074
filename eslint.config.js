// ESLint flat config: typescript-eslint's recommended rules (syntax only, no type information, so `eslint .`
// takes seconds; `tsc --noEmit` already does the type checking) and the import boundaries between the
// project's sides (eslint-plugin-boundaries). test/lint-boundaries.test.ts proves the boundaries fail on
// planted cross imports.
import js from '@eslint/js';
import boundaries from 'eslint-plugin-boundaries';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Top-level folders; each is one element for the boundary rule.
const SIDES = ['core', 'probes', 'agent', 'coordinator', 'sim', 'cli', 'models', 'harness', 'test', 'bench', 'scripts', 'bin'];

// The shared probe layer: the registry and each probe's contract and record schema. Coordinator and sim may
// import these (and core) but no probe engine file; they in turn import only core and each other, except a
// contract's lazy `import('./runner.ts')` of its own folder's runner.
const SHARED_FILES = 'probes/index.ts, probes/*/contract.ts, probes/*/schema.ts';
const SHARED = { element: { type: 'probes' }, file: { categories: 'probe-shared' } };
const ownRunner = { element: { type: 'probes' }, file: { categories: 'probe-runner', captured: { probe: '{{ from.file.captured.probe }}' } } };
const side = (...types) => ({ element: { type: types } });
const allBut = (...excluded) => SIDES.filter((s) => !excluded.includes(s));

// What each side may import (besides itself). Anything not listed is an error, with that side's message.
const MAY_IMPORT = {
  core: { to: [], says: 'core/ imports only core/' },
  models: { to: ['core'], says: 'models/ imports only core/' },
  agent: { to: ['core', 'probes', 'models'], says: 'agent/ imports only core/, probes/ and models/' },
  probes: { to: ['core', 'agent', 'models'], says: 'probe engines import only core/, agent/, probes/ and models/' },
  coordinator: { to: ['core'], says: `coordinator/ imports only core/ and the shared probe layer (${SHARED_FILES})` },
  sim: { to: ['core'], says: `sim/ imports only core/ and the shared probe layer (${SHARED_FILES})` },
  cli: { to: allBut('test', 'bench', 'harness'), says: 'cli/ never imports test/, bench/ or harness/' },
  bin: { to: allBut('test', 'bench', 'harness'), says: 'bin/ never imports test/, bench/ or harness/' },
  harness: { to: allBut('test', 'bench'), says: 'harness/ never imports test/ or bench/' },
  bench: { to: allBut('test'), says: 'bench/ never imports test/ (shared services live in harness/)' },
  scripts: { to: allBut('test'), says: 'scripts/ never imports test/' },
  test: { to: SIDES, says: '' },
};

// The plugin reads the policies in order and the last one matching an import decides; an import no policy
// matches is an error too (default: 'disallow'). Per side: first refuse every other side with its message, then
// allow the listed ones; the shared-layer policies come last so they override the probes/ side's.
const boundaryPolicies = [
  ...Object.entries(MAY_IMPORT).flatMap(([from, { to, says }]) => {
    const allowed = new Set([from, ...to]);
    const refused = SIDES.filter((s) => !allowed.has(s));
    return [...(refused.length ? [{ from: side(from), disallow: { to: side(...refused) }, message: says }] : []), { from: side(from), allow: { to: side(...allowed) } }];
  }),
  // coordinator/ and sim/ may use the shared probe layer but no engine file (refused above with the rest of probes/).
  { from: side('coordinator', 'sim'), allow: { to: SHARED } },
  { from: SHARED, disallow: { to: side(...SIDES) }, message: `the shared probe layer (${SHARED_FILES}) imports only core/ and itself` },
  { from: SHARED, allow: { to: [side('core'), SHARED] } },
  { from: SHARED, allow: { to: ownRunner, dependency: { nodeKind: 'dynamic-import' } } },
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'models/generated/', 'bench/results/', 'test-artifacts/', '.edgeprobe/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2024, sourceType: 'module', globals: globals.node },
    rules: {
      // Destructuring a field away (`const { token: _dropped, ...rest } = obj`) is how the code omits a field;
      // a leading underscore marks a deliberately unused name.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true, argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
    },
  },
  {
    // The boundary rule judges an import by the file it resolves to, and resolves paths as written: `./x.js`
    // standing for x.ts would go unchecked. The TypeScript imports name their .ts files (allowImportingTsExtensions).
    files: ['**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^\\.\\.?/.*\\.js$', message: 'Import the .ts file itself (the boundary lint checks the file an import names).' }] }],
    },
  },
  {
    // The dashboard's front end runs in the browser (served as-is, no bundler); index.html loads Chart.js as a
    // global from vendor/chart.umd.min.js.
    files: ['coordinator/dashboard/public/**/*.js'],
    languageOptions: { globals: { ...globals.browser, Chart: 'readonly' } },
  },
  {
    files: ['**/*.ts', '**/*.js'],
    plugins: { boundaries },
    settings: {
      'boundaries/root-path': import.meta.dirname,
      'boundaries/elements': SIDES.map((type) => ({ type, pattern: type, partialMatch: false })),
      'boundaries/files': [
        { category: 'probe-shared', pattern: 'probes/index.ts' },
        { category: 'probe-shared', pattern: 'probes/(*)/contract.ts', capture: ['probe'] },
        { category: 'probe-shared', pattern: 'probes/(*)/schema.ts', capture: ['probe'] },
        { category: 'probe-runner', pattern: 'probes/(*)/runner.ts', capture: ['probe'] },
      ],
      // Type-only imports count too: a record type imported from the other side is still a cross import.
      'boundaries/dependency-nodes': ['import', 'export', 'dynamic-import'],
      // ... and so does a type written as `import('../x.ts').T`.
      'boundaries/additional-dependency-nodes': [{ selector: 'TSImportType > Literal', kind: 'type', name: 'import-type' }],
    },
    rules: {
      // checkInternals: imports inside one side are checked too (probes/ holds both the shared layer and the engines).
      'boundaries/dependencies': ['error', { default: 'disallow', checkInternals: true, policies: boundaryPolicies }],
    },
  },
);
