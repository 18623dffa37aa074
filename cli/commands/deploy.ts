import type { Argv } from 'yargs';
import { epError } from '../../core/errors.ts';
import { emitResult } from '../output.ts';

/**
 * Deployment commands: dev certificates, broker users, config checks, the container health check.
 * Each handler imports what it needs (node-forge, config schemas), so other commands never load them.
 */
export function deployCommands(y: Argv): Argv {
  return y
    .command('certs', 'make TLS certificates for the broker', (m) => m
      .command('dev', 'make a development CA and a broker certificate signed by it (not for production CAs)', (c) => c
        .option('out', { type: 'string', demandOption: true, describe: 'directory for ca.crt, ca.key, server.crt, server.key' })
        .option('hosts', { type: 'string', default: 'localhost,127.0.0.1', describe: 'comma-separated names and IPs agents use to reach the broker' })
        .option('days', { type: 'number', default: 825, describe: 'validity in days' })
        .option('force', { type: 'boolean', default: false, describe: 'replace certificates already in --out' }),
      async (args) => {
        const { makeDevCertificates } = await import('../../core/certs/dev-certs.ts');
        const r = makeDevCertificates({ outDir: args.out, hosts: args.hosts.split(','), days: args.days, force: args.force });
        emitResult({ json: args.json as boolean }, r, () => [
          `development CA and broker certificate in ${r.dir} (valid until ${r.notAfter})`,
          `  broker:  ${r.serverCert} + ${r.serverKey}  (names: ${r.hosts.join(', ')})`,
          `  devices: copy ${r.caCert} (sha256 ${r.caFingerprintSha256})`,
          `  keep ${r.caKey} off the devices; it signs certificates`,
        ].join('\n'));
      })
      .demandCommand(1, 'name a certs subcommand: dev'))
    .command('broker', 'manage Mosquitto users', (m) => m
      .command('add-user <user>', 'add a device (or "coordinator") to the Mosquitto password file with a new random password', (c) => c
        .positional('user', { type: 'string', demandOption: true, describe: 'device id, or coordinator' })
        .option('passwd', { type: 'string', demandOption: true, describe: 'the Mosquitto password file (created if missing)' })
        .option('secrets', { type: 'string', demandOption: true, describe: 'directory to write USER.password (and USER.token) to, mode 0600' })
        .option('token', { type: 'boolean', default: false, describe: 'also make a registration token; prints its sha256 for the coordinator config' }),
      async (args) => {
        const { addBrokerUser } = await import('../../core/broker/mosquitto-users.ts');
        const r = addBrokerUser({ user: args.user, passwdFile: args.passwd, secretsDir: args.secrets, token: args.token });
        emitResult({ json: args.json as boolean }, r, () => [
          `${r.user} added to ${r.passwdFile}; password in ${r.passwordFile}`,
          ...(r.tokenSha256 ? [`registration token in ${r.tokenFile}; coordinator config: admission.deviceTokenSha256["${r.user}"] = "${r.tokenSha256}"`] : []),
          'reload the broker to apply: kill -HUP $(pidof mosquitto), or docker compose kill -s HUP mosquitto',
        ].join('\n'));
      })
      .demandCommand(1, 'name a broker subcommand: add-user'))
    .command('config', 'check agent and coordinator config files', (m) => m
      .command('check <kind> <file>', 'validate a config file and print it with defaults filled in', (c) => c
        .positional('kind', { choices: ['agent', 'coordinator'] as const, demandOption: true })
        .positional('file', { type: 'string', demandOption: true }),
      async (args) => {
        const cfg = args.kind === 'agent'
          ? (await import('../../agent/config/agent-config.ts')).loadAgentConfig(args.file)
          : (await import('../../coordinator/config/coordinator-config.ts')).loadCoordinatorConfig(args.file);
        emitResult({ json: args.json as boolean }, cfg.value, () => `${cfg.path}: valid ${args.kind} config\n${JSON.stringify(cfg.value, null, 2)}`);
      })
      .demandCommand(1, 'name a config subcommand: check'))
    .command('health', 'exit 0 if the local agent/coordinator reported healthy recently, else 1 (container HEALTHCHECK)', (c) => c
      .option('file', { type: 'string', describe: 'health file (default: $EDGEPROBE_HEALTH_FILE or /tmp/edgeprobe-health.json)' })
      .option('max-age', { type: 'number', default: 90, describe: 'seconds after which a silent process counts as stuck' }),
    async (args) => {
      const { checkHealthFile, healthFilePath } = await import('../../core/health/health-file.ts');
      const v = checkHealthFile(healthFilePath(args.file), args.maxAge);
      // Docker reads exit 1 as unhealthy (2 is reserved), hence the explicit exit code.
      if (!v.healthy) throw epError('EP_UNHEALTHY', { reason: v.reason });
      emitResult({ json: args.json as boolean }, v, () => `healthy: ${v.reason}`);
    });
}
