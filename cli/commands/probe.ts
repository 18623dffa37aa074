import type { Argv } from 'yargs';
import { probeAttentionCommand } from './probe-attention.ts';
import { probePropertiesCommand } from './probe-properties.ts';
import { probeInductionCommand } from './probe-induction.ts';

/** `edgeprobe probe <kind>`: each probe registers its subcommand here. */
const PROBE_SUBCOMMANDS: Array<(y: Argv) => Argv> = [probeAttentionCommand, probePropertiesCommand, probeInductionCommand];

export function probeCommand(y: Argv): Argv {
  return y.command('probe', 'run interpretability probes with their controls', (p) => {
    let g = p;
    for (const register of PROBE_SUBCOMMANDS) g = register(g);
    return g.demandCommand(1, 'name a probe; see edgeprobe probe --help');
  });
}
