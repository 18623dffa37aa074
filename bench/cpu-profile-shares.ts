/**
 * Where a coordinator's CPU time goes, from the V8 CPU profiles `node --cpu-prof` writes: each sample is
 * put in the first category its stack matches (innermost frame first), as a share of the busy samples.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string }; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

// checked innermost frame first; the first match names the sample
const CATEGORIES: Array<[string, (f: ProfileNode['callFrame']) => boolean]> = [
  ['garbage collection', (f) => f.functionName === '(garbage collector)'],
  ['regression monitor (coordinator/monitoring)', (f) => f.url.includes('/coordinator/monitoring/')],
  ['security screen: JSON.parse and limits', (f) => /security\/screen-message\.ts|protocol\/json-limits\.ts/.test(f.url)],
  ['schema and record contract checks', (f) => /protocol\/codec\.ts|probes\/index\.ts|typebox/.test(f.url)],
  ['store: JSON.stringify, SQL and the PostgreSQL client', (f) => /store\/postgres-store\.ts|node_modules\/pg/.test(f.url)],
  ['MQTT: packet parsing and sockets', (f) => /node_modules\/(mqtt|mqtt-packet|bl)\//.test(f.url)],
];

/** Shares (percent of busy time) per category over every profile in `dir`, plus the idle share of all time. */
export function profileShares(dir: string): { busyS: number; idlePercent: number; shares: Record<string, number> } {
  const totals = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const p = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const category = new Map<number, string>();
    const categoryOf = (id: number): string => {
      let name = category.get(id);
      if (name) return name;
      name = 'other (event loop, timers, tsx loader, dispatch)';
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const hit = CATEGORIES.find(([, match]) => match(byId.get(cur!)!.callFrame));
        if (hit) { name = hit[0]; break; }
      }
      category.set(id, name);
      return name;
    };
    p.samples.forEach((id, i) => {
      const dt = p.timeDeltas[i] ?? 0;
      const fn = byId.get(id)!.callFrame.functionName;
      if (fn === '(idle)' || fn === '(program)') { idle += dt; return; }
      busy += dt;
      const name = categoryOf(id);
      totals.set(name, (totals.get(name) ?? 0) + dt);
    });
  }
  const shares = Object.fromEntries([...totals].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Number((100 * v / Math.max(busy, 1)).toFixed(1))]));
  return { busyS: busy / 1e6, idlePercent: Number((100 * idle / Math.max(busy + idle, 1)).toFixed(1)), shares };
}
