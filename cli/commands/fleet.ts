import type { Argv } from 'yargs';
import { createDaemonLog } from '../../core/daemon-log.ts';
import { UserError } from '../../core/errors.ts';
import { isValidDeviceId } from '../../core/protocol/topics.ts';
import { DEFAULT_TOLERANCE } from '../../coordinator/report/consistency.ts';
import { emitResult, progressFor, textTable } from '../output.ts';

// Handlers import their modules when they run: an idle agent on a small device should not carry the
// coordinator, the report or an embedded broker in memory.
const coordinatorModules = async () => ({
  ...(await import('../../coordinator/store/open-store.ts')),
  ...(await import('../../coordinator/submit-job.ts')),
  ...(await import('../../coordinator/coordinator.ts')),
  ...(await import('../../coordinator/dispatch.ts')),
});
const reportModules = async () => ({
  ...(await import('../../coordinator/report/comparison.ts')),
  ...(await import('../../coordinator/report/render.ts')),
});

const DEFAULT_DB = '.edgeprobe/fleet.sqlite';
const DB_HELP = 'the coordinator\'s store: a SQLite file, or a postgres://user:pass@host:port/db URL';
const password = (): string | undefined => process.env.EDGEPROBE_MQTT_PASSWORD || undefined;

function checkBroker(url: string): string {
  if (!/^(mqtts?|wss?|tcp|ssl):\/\//.test(url)) throw new UserError(`broker URL ${url} is not an MQTT URL`, 'use e.g. mqtt://localhost:1883 or mqtts://broker.example:8883');
  return url;
}

/** A short-lived coordinator-side connection (clean session) for one command. */
async function connectOnce(broker: string, hint: string) {
  const { connectCoordinatorClient } = await coordinatorModules();
  const client = connectCoordinatorClient(checkBroker(broker), `edgeprobe-cli-${process.pid}`, { persistent: false, password: password() });
  const reached = await new Promise<boolean>((resolve) => {
    const t = setTimeout(() => resolve(false), 10_000);
    client.once('connect', () => { clearTimeout(t); resolve(true); });
  });
  if (!reached) {
    await client.endAsync(true);
    throw new UserError(`broker ${broker} was not reachable within 10 s`, hint);
  }
  return client;
}

/** Runs until SIGINT/SIGTERM, then stops gracefully (the agent announces offline, the coordinator flushes). */
function untilSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = (): void => { void stop().finally(resolve); };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
}

export function fleetCommands(y: Argv): Argv {
  return y
    .command('agent', 'run a device agent: receives job plans over MQTT, runs them, reports results through its outbox', (c) => c
      .option('broker', { type: 'string', demandOption: true, describe: 'MQTT broker URL, e.g. mqtt://broker:1883 (password from EDGEPROBE_MQTT_PASSWORD)' })
      .option('device-id', { type: 'string', demandOption: true, describe: 'this device\'s id (also its MQTT username)' })
      .option('config', { type: 'string', describe: 'agent config (JSON/YAML): allowed models and probes; default: the generated demo model and the benchmark' })
      .option('state-dir', { type: 'string', describe: 'where the outbox and job state live (default .edgeprobe/agents/<device-id>)' }),
    async (args) => {
      const deviceId = args['device-id'] as string;
      if (!isValidDeviceId(deviceId)) throw new UserError(`invalid --device-id ${JSON.stringify(deviceId)}`, 'use 1-64 letters, digits, _ or - (it is also the MQTT username and a topic level)');
      const { Agent } = await import('../../agent/agent.ts');
      const { loadAgentConfig } = await import('../../agent/config/agent-config.ts');
      const config = loadAgentConfig(args.config as string | undefined);
      const log = createDaemonLog(`agent ${deviceId}`, args.json as boolean);
      const agent = new Agent({ broker: checkBroker(args.broker as string), deviceId, config, stateDir: (args['state-dir'] as string | undefined) ?? `.edgeprobe/agents/${deviceId}`, log, password: password() });
      log.info('agent starting', { config: config.source, models: config.models.map((m) => m.name).join(','), probes: config.probes.join(',') });
      await agent.start();
      await untilSignal(() => agent.stop());
    })
    .command('coordinator', 'run the coordinator: ingests device messages into SQLite or PostgreSQL, keeps the registry, dispatches jobs', (c) => c
      .option('broker', { type: 'string', demandOption: true, describe: 'MQTT broker URL (username "coordinator", password from EDGEPROBE_MQTT_PASSWORD)' })
      .option('db', { type: 'string', default: DEFAULT_DB, describe: DB_HELP })
      .option('dispatch-interval', { type: 'number', default: 1, describe: 'seconds between dispatch and timeout checks' })
      .option('replica-id', { type: 'string', describe: 'run as one of several replicas on one PostgreSQL store: a stable id per replica (MQTT client id and session); traffic is split by a shared subscription' })
      .option('share-group', { type: 'string', default: 'edgeprobe-coordinators', describe: 'shared subscription group of the replicas' })
      .option('heartbeat-retention-days', { type: 'number', default: 7, describe: 'heartbeat history older than this is deleted' }),
    async (args) => {
      const { Coordinator, openFleetStore, isPostgresUrl } = await coordinatorModules();
      const replicaId = args['replica-id'] as string | undefined;
      if (replicaId !== undefined && !isValidDeviceId(replicaId)) throw new UserError(`invalid --replica-id ${JSON.stringify(replicaId)}`, 'use 1-64 letters, digits, _ or -');
      if (replicaId !== undefined && !isPostgresUrl(args.db as string)) throw new UserError('--replica-id needs a shared store', 'replicas must share one PostgreSQL database: pass --db postgres://...');
      const retention = args['heartbeat-retention-days'] as number;
      if (!(retention > 0)) throw new UserError(`--heartbeat-retention-days must be > 0 (got ${retention})`, 'e.g. --heartbeat-retention-days 7');
      const log = createDaemonLog(replicaId ? `coordinator ${replicaId}` : 'coordinator', args.json as boolean);
      const store = await openFleetStore(args.db as string);
      const coordinator = new Coordinator({
        broker: checkBroker(args.broker as string), store, log, password: password(), dispatchIntervalMs: (args['dispatch-interval'] as number) * 1000,
        replicaId, shareGroup: args['share-group'] as string, heartbeatRetentionDays: retention,
      });
      await coordinator.start();
      await untilSignal(() => coordinator.stop());
    })
    .command('jobs', 'submit and list fleet jobs', (j) => j
      .command('submit', 'create a job: one plan for some devices (the coordinator dispatches it)', (c) => c
        .option('devices', { type: 'string', demandOption: true, describe: 'comma-separated device ids' })
        .option('plan', { type: 'string', demandOption: true, describe: 'plan file (JSON/YAML): models x variants x probes x benchmark settings' })
        .option('db', { type: 'string', default: DEFAULT_DB, describe: DB_HELP })
        .option('broker', { type: 'string', describe: 'also dispatch now through this broker instead of waiting for the coordinator\'s next round' })
        .option('timeout', { type: 'number', default: 600, describe: 'seconds a device may be silent on the job before a retry' })
        .option('attempts', { type: 'number', default: 3, describe: 'dispatch attempts per device' }),
      async (args) => {
        const { loadPlanFile, openFleetStore, submitJob, dispatchQueued } = await coordinatorModules();
        const plan = loadPlanFile(args.plan as string);
        const store = await openFleetStore(args.db as string);
        try {
          const devices = (args.devices as string).split(',').map((s) => s.trim()).filter(Boolean);
          const jobId = await submitJob(store, devices, plan, { timeoutS: args.timeout as number, maxAttempts: args.attempts as number });
          let dispatched = 0;
          if (args.broker) {
            const client = await connectOnce(args.broker as string, `job ${jobId} is stored: the running coordinator dispatches it on its next round (or check the broker URL)`);
            dispatched = await dispatchQueued(store, client, createDaemonLog('submit', args.json as boolean));
            await client.endAsync();
          }
          emitResult({ json: args.json as boolean }, { jobId, devices, dispatched }, () => `${jobId} submitted to ${devices.join(', ')}${args.broker ? ` (${dispatched} dispatched now)` : ' (the coordinator dispatches it to online devices)'}`);
        } finally {
          await store.close();
        }
      })
      .command('cancel', 'cancel a job on every device still working on it', (c) => c
        .option('job', { type: 'string', demandOption: true, describe: 'job id (see jobs list)' })
        .option('db', { type: 'string', default: DEFAULT_DB, describe: DB_HELP })
        .option('broker', { type: 'string', demandOption: true, describe: 'MQTT broker URL, to tell the devices' }),
      async (args) => {
        const { openFleetStore, cancelJob } = await coordinatorModules();
        const store = await openFleetStore(args.db as string);
        try {
          const jobId = args.job as string;
          if ((await store.jobTargets(jobId)).length === 0) throw new UserError(`no job ${jobId} in ${args.db as string}`, 'see `edgeprobe jobs list` for job ids');
          const client = await connectOnce(args.broker as string, 'check the broker URL; nothing was cancelled');
          const devices = await cancelJob(store, client, jobId, createDaemonLog('cancel', args.json as boolean));
          await client.endAsync();
          emitResult({ json: args.json as boolean }, { jobId, devices }, () => (devices.length === 0 ? `${jobId} had already finished everywhere` : `${jobId} cancelled on ${devices.join(', ')}`));
        } finally {
          await store.close();
        }
      })
      .command('list', 'jobs and their state on each device', (c) => c
        .option('db', { type: 'string', default: DEFAULT_DB, describe: DB_HELP })
        .option('job', { type: 'string', describe: 'only this job' }),
      async (args) => {
        const { openFleetStore } = await coordinatorModules();
        const store = await openFleetStore(args.db as string);
        try {
          const targets = await store.jobTargets(args.job as string | undefined);
          emitResult({ json: args.json as boolean }, { targets }, () => (targets.length === 0 ? 'no jobs'
            : textTable([['job', 'device', 'state', 'attempt', 'items', 'detail'], ...targets.map((t) => [t.jobId, t.deviceId, t.state, t.attempt, `${t.done}/${t.total}`, (t.detail ?? '').slice(0, 80)])])));
        } finally {
          await store.close();
        }
      })
      .command('devices', 'registered devices: profile, online state, last heartbeat', (c) => c
        .option('db', { type: 'string', default: DEFAULT_DB, describe: DB_HELP }),
      async (args) => {
        const { openFleetStore } = await coordinatorModules();
        const store = await openFleetStore(args.db as string);
        try {
          const devices = await store.devices();
          emitResult({ json: args.json as boolean }, { devices }, () => (devices.length === 0 ? 'no devices registered' : textTable([
            ['device', 'online', 'arch', 'cores', 'first seen', 'last seen', 'load %', 'temp C'],
            ...devices.map((d) => [d.deviceId, d.online ? 'yes' : 'no', d.profile.arch, d.profile.cores, d.firstSeen, d.lastSeen,
              d.heartbeat ? d.heartbeat.loadPercent.toFixed(0) : '-', d.heartbeat?.temperatureC?.toFixed(1) ?? '-']),
          ])));
        } finally {
          await store.close();
        }
      })
      .demandCommand(1, 'name a jobs subcommand: submit, cancel, list, devices'))
    .command('report', 'compare devices x variants: latency, size, drift, probe verdicts, cross-device consistency', (c) => c
      .option('db', { type: 'string', default: DEFAULT_DB, describe: DB_HELP })
      .option('csv', { type: 'boolean', default: false, describe: 'CSV rows instead of the table' })
      .option('tolerance', { type: 'number', default: DEFAULT_TOLERANCE, describe: 'relative L2 above which a device\'s outputs count as an outlier' }),
    async (args) => {
      const { openFleetStore } = await coordinatorModules();
      const { buildComparison, renderComparison, renderComparisonCsv } = await reportModules();
      const store = await openFleetStore(args.db as string);
      try {
        const report = buildComparison(await store.results(), await store.devices(), args.tolerance as number);
        if (args.csv) process.stdout.write(`${renderComparisonCsv(report)}\n`);
        else emitResult({ json: args.json as boolean }, report, () => renderComparison(report));
      } finally {
        await store.close();
      }
    })
    .command('demo', 'DEMO: embedded broker, coordinator and two local agents on a generated model; prints the comparison', (c) => c,
    async (args) => {
      const { runDemo } = await import('../../coordinator/demo/run-demo.ts');
      const { renderComparison } = await reportModules();
      const progress = progressFor({ json: args.json as boolean });
      const r = await runDemo(progress);
      emitResult({ json: args.json as boolean }, r, () => [
        '', renderComparison(r.report), '',
        `jobs: ${r.targets.map((t) => `${t.deviceId} ${t.state}`).join(', ')}; ${r.report.results} results stored; ${r.seconds.toFixed(1)} s.`,
        'This was a DEMO on a generated random-weight model. On a real model and real devices:',
        '  edgeprobe coordinator --broker mqtt://BROKER:1883 --db fleet.sqlite',
        '  edgeprobe agent --broker mqtt://BROKER:1883 --device-id pi-01 --config configs/agent.example.json   (on each device)',
        '  edgeprobe jobs submit --devices pi-01,jetson-02 --plan configs/plan.example.json --db fleet.sqlite && edgeprobe report --db fleet.sqlite',
      ].join('\n'));
    });
}
