import type { Argv } from 'yargs';
import { fleetCommands } from './fleet.ts';
import { modelsCommand } from './models.ts';

/** Registration order is the order --help lists them. */
export const commands: Array<(y: Argv) => Argv> = [modelsCommand, fleetCommands];
