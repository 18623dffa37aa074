import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { epError, errorMessage, isEdgeprobeError, type EdgeprobeError } from '../core/errors.ts';
import { commands } from './commands/index.ts';
import { EXIT_CODES } from './exit-codes.ts';
import { missingPackage } from '../core/missing-package.ts';

/** Every command module exports one of these; cli/commands/index.ts lists them. */
export type CommandModule = (y: Argv) => Argv;

async function main(argv: string[]): Promise<void> {
  let cli: Argv = yargs(argv)
    .scriptName('edgeprobe')
    .usage('$0 <command> [options]\n\nDoes an explanation of a transformer survive compression, and was it valid at all? Measured on every edge device.')
    .option('json', { type: 'boolean', default: false, describe: 'machine output: JSON lines on stdout (progress events, then one result line)' })
    .strict()
    .demandCommand(1, 'name a command; see --help')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .fail((msg, err, y) => {
      if (err) throw err;
      exitWith(epError('EP_CLI_USAGE', { problem: `${y.help() && ''}${msg}` }));
    });
  for (const register of commands) cli = register(cli);
  await cli.parseAsync();
}

/** A coded error is the user's to fix: message and fix line, no stack trace, the category's exit code. */
function exitWith(err: EdgeprobeError): never {
  process.stderr.write(`error [${err.code}]: ${err.message}\nfix: ${err.fix}\n`);
  process.exit(EXIT_CODES[err.category]);
}

main(hideBin(process.argv)).catch((err: unknown) => {
  if (isEdgeprobeError(err)) exitWith(err);
  // the coordinator image leaves onnxruntime out; a command that runs a model says so instead of a stack trace
  if (missingPackage(err) === 'onnxruntime-node') exitWith(epError('EP_ONNXRUNTIME_NOT_INSTALLED'));
  process.stderr.write(`edgeprobe failed unexpectedly: ${errorMessage(err)}\n${err instanceof Error && err.stack ? err.stack : ''}\n`);
  process.exit(1);
});
