import type { Argv } from 'yargs';
import { deployCommands } from './deploy.ts';
import { modelsCommand } from './models.ts';
import { probeCommand } from './probe.ts';

/** Registration order is the order --help lists them. */
export const commands: Array<(y: Argv) => Argv> = [modelsCommand, probeCommand, deployCommands];
