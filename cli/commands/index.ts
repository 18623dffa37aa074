import type { Argv } from 'yargs';
import { modelsCommand } from './models.ts';
import { deployCommands } from './deploy.ts';

/** Registration order is the order --help lists them. */
export const commands: Array<(y: Argv) => Argv> = [modelsCommand, deployCommands];
