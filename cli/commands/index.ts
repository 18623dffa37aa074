import type { Argv } from 'yargs';
import { modelsCommand } from './models.ts';
import { probePropertiesCommand } from './probe-properties.ts';

/** `probe` group; the attention probe's branch adds its subcommand to the same group at merge. */
const probeCommand = (y: Argv): Argv => y.command('probe', 'run interpretability probes with their controls', (p) => probePropertiesCommand(p).demandCommand(1, 'name a probe: properties'));

/** Registration order is the order --help lists them. */
export const commands: Array<(y: Argv) => Argv> = [modelsCommand, probeCommand];
