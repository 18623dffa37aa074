import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';

/**
 * The Dockerfile as stages of instructions with ARG defaults expanded, for the Dockerfile checks
 * (test/deploy-files.test.ts; the images themselves are built and run by scripts/ci-docker.sh).
 * dockerfile-ast (from the Docker language server) does the parsing: continuations, JSON forms, flags.
 */
export interface Step {
  keyword: string;
  /** the argument text with continuations joined and ${ARG}s expanded */
  text: string;
  /** arguments as the parser split them (JSON form unwrapped), expanded */
  args: string[];
  /** COPY --from value, if any */
  from?: string;
  /** ENV key/value pairs */
  env?: Array<[string, string]>;
  line: number;
}
export interface Stage { name: string; base: string; steps: Step[] }
export interface DockerfileModel { args: Record<string, string>; stages: Stage[] }

export function readDockerfile(path: string): DockerfileModel {
  const df = DockerfileParser.parse(readFileSync(path, 'utf8'));
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  const expand = (s: string, vars: Record<string, string>): string =>
    s.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (m, a: string | undefined, b: string | undefined) => vars[(a ?? b)!] ?? m);
  let stageVars: Record<string, string> = {};
  for (const ins of df.getInstructions() as Instruction[]) {
    const keyword = ins.getKeyword();
    const line = ins.getRange().start.line + 1;
    const vars = stages.length === 0 ? args : stageVars;
    if (keyword === 'ARG') {
      const [name, def] = ins.getArgumentsContent()!.split('=', 2);
      vars[name.trim()] = expand(def ?? vars[name.trim()] ?? args[name.trim()] ?? '', vars);
      continue;
    }
    if (keyword === 'FROM') {
      const parts = ins.getArguments().map((a) => a.getValue());
      const asIdx = parts.findIndex((p) => p.toUpperCase() === 'AS');
      const base = expand(parts[0], args);
      stages.push({ name: asIdx >= 0 ? parts[asIdx + 1] : String(stages.length), base, steps: [] });
      stageVars = {};
      continue;
    }
    const all = { ...args, ...stageVars };
    const step: Step = {
      keyword,
      text: expand(ins.getArgumentsContent() ?? '', all),
      args: argumentsOf(ins).map((a) => expand(a, all)),
      line,
    };
    const fromFlag = (ins as unknown as { getFromFlag?: () => { getValue(): string } | null }).getFromFlag?.();
    if (fromFlag) step.from = fromFlag.getValue();
    const props = (ins as unknown as { getProperties?: () => Array<{ getName(): string; getValue(): string | null }> }).getProperties?.();
    if (keyword === 'ENV' && props) {
      step.env = props.map((p) => [p.getName(), expand(p.getValue() ?? '', all)]);
      for (const [k, v] of step.env) stageVars[k] = v;
    }
    stages[stages.length - 1]?.steps.push(step);
  }
  return { args, stages };
}

/** JSON-form arguments (["node", "x"]) unwrapped; shell-form ones as the parser split them, flags dropped. */
function argumentsOf(ins: Instruction): string[] {
  const json = (ins as unknown as { getJSONStrings?: () => Array<{ getJSONValue(): string }> }).getJSONStrings?.();
  if (json && json.length > 0) return json.map((j) => j.getJSONValue());
  // HEALTHCHECK CMD [...]: the parser gives no JSON strings for the subcommand; read the exec form here
  const hc = ins.getKeyword() === 'HEALTHCHECK' ? (ins.getArgumentsContent() ?? '').match(/^CMD\s+(\[.*\])\s*$/s) : null;
  if (hc) return ['CMD', ...(JSON.parse(hc[1]) as string[])];
  return ins.getArguments().map((a) => a.getValue()).filter((v) => !v.startsWith('--'));
}

/**
 * Whether a repo-relative path is left out of the build context by .dockerignore. Covers the pattern
 * forms this repo uses (names, `*`, `**`); no `!` exceptions.
 */
export function dockerignoreMatcher(root: string): (rel: string) => boolean {
  const file = join(root, '.dockerignore');
  const patterns = existsSync(file)
    ? readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
    : [];
  const res = patterns.map((p) => new RegExp(`^${p.replace(/^\//, '')
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*\*\//g, '\u0000')
    .replace(/\*\*/g, '.*')
    .replace(/\*/g, '[^/]*')
    // eslint-disable-next-line no-control-regex -- NUL stood in for `**/` while the other globs were rewritten; no path contains it
    .replace(/\u0000/g, '(.*/)?')}(/.*)?$`));
  return (rel) => res.some((re) => re.test(rel));
}
