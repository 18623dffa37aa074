import type { Argv } from 'yargs';
import { benchCommand } from './bench.ts';
import { divergenceCommand } from './divergence.ts';
import { dashboardCommand } from './dashboard.ts';
import { deployCommands } from './deploy.ts';
import { deviceCommand } from './device.ts';
import { fleetCommands } from './fleet.ts';
import { modelsCommand } from './models.ts';
import { probeCommand } from './probe.ts';
import { simulateCommand } from './simulate.ts';

/** Registration order is the order --help lists them. */
export const commands: Array<(y: Argv) => Argv> = [modelsCommand, benchCommand, deviceCommand, probeCommand, divergenceCommand, fleetCommands, dashboardCommand, deployCommands, simulateCommand];
