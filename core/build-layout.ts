import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Set to true by scripts/build.ts (esbuild `define`); undefined when the TypeScript sources run through tsx. */
declare const __EDGEPROBE_BUILD__: boolean | undefined;

/** True in the shipped JavaScript (dist/), false when the TypeScript sources run through tsx. */
export const IS_BUILD: boolean = typeof __EDGEPROBE_BUILD__ !== 'undefined' && __EDGEPROBE_BUILD__;

/**
 * How to fork one of the project's worker scripts. From the sources: the .ts file through tsx. From the
 * build: dist/<name>.js, which scripts/build.ts emits as its own entry point (its WORKERS list), no loader.
 * In the build, import.meta.url of every module is its source path under the package root, so '..' from
 * core/ is the package root.
 */
export function workerScript(source: URL): { path: string; execArgv: string[] } {
  if (!IS_BUILD) return { path: fileURLToPath(source), execArgv: ['--import', import.meta.resolve('tsx')] };
  const name = basename(fileURLToPath(source)).replace(/\.ts$/, '.js');
  return { path: fileURLToPath(new URL(`../dist/${name}`, import.meta.url)), execArgv: [] };
}
