#!/usr/bin/env node
// Runs the shipped JavaScript (dist/, made by `npm run build`; `npm pack` builds it first). A git checkout
// without a build runs the TypeScript sources through tsx, a development dependency.
import { existsSync } from 'node:fs';

const built = new URL('../dist/main.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write('error: edgeprobe has no build (dist/main.js) and no TypeScript loader\nfix: run `npm run build` (or `npm ci` for the development tools) in the edgeprobe directory\n');
    process.exit(2);
  }
  register();
  await import('../cli/main.ts');
}
