import type { Argv } from 'yargs';
import { createDaemonLog } from '../../core/daemon-log.ts';
import { epError, type EdgeprobeError } from '../../core/errors.ts';
import { COORDINATOR_CLI_USERNAME, isValidDeviceId, replicaUsername } from '../../core/protocol/topics.ts';
import { emitResult, progressFor, textTable } from '../output.ts';
import { alertCommands, scheduleCommands } from './schedule.ts';
import { rolloutOptions } from './rollout-options.ts';
import { httpOptions, startDashboard, writeHtmlReport, type DashboardArgs, type HtmlReportArgs } from './dashboard.ts';

// Handlers import their modules when they run: an idle agent on a small device should not carry the
// coordinator, the report or an embedded broker in memory.
const coordinatorModules = async () => ({
  ...(await import('../../coordinator/store/open-store.ts')),
  ...(await import('../../coordinator/submit-job.ts')),
  ...(await import('../../coordinator/coordinator.ts')),
  ...(await import('../../coordinator/dispatch.ts')),
  ...(await import('../../coordinator/config/coordinator-config.ts')),
  ...(await import('../../coordinator/rollouts/rollout-spec.ts')),
  ...(await import('../../coordinator/rollouts/rollouts.ts')),
});
const reportModules = async () => ({
  ...(await import('../../coordinator/report/fleet-report.ts')),
  ...(await import('../../coordinator/report/render.ts')),
  ...(await import('../../coordinator/report/record-view.ts')),
  ...(await import('../../coordinator/monitoring/monitoring-summary.ts')),
});

const DEFAULT_DB = '.edgeprobe/fleet.sqlite';
const DB_HELP = 'the coordinator\'s store: a SQLite file, or a postgres://user:pass@host:port/db URL';

/** A short-lived coordinator-side connection (clean session) for one command, with the coordinator config's credentials. */
async function connectOnce(flags: { broker?: string; config?: string }, unreachable: (broker: string) => EdgeprobeError) {
  const { connectCoordinatorClient, coordinatorConnection } = await coordinatorModules();
  // as coordinator-cli, not coordinator: the broker would end the running coordinator's session
  const { brokerUrl: broker, mqtt } = coordinatorConnection(flags, process.env, 'cli');
  const client = connectCoordinatorClient(broker, mqtt, `edgeprobe-cli-${process.pid}`, false);
  const reached = await new Promise<boolean>((resolve) => {
    const t = setTimeout(() => resolve(false), 10_000);
    client.once('connect', () => { clearTimeout(t); resolve(true); });
  });
  if (!reached) {
    await client.endAsync(true);
    throw unreachable(broker);
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
  return alertCommands(y)
    .command('agent', 'run a device agent: receives job plans over MQTT, runs them, reports results through its outbox', (c) => c
      .option('config', { type: 'string', describe: 'agent config (JSON/YAML, see configs/agent.example.json): device id, broker, allowed models and probes; default: the demo model and the benchmark' })
      .option('broker', { type: 'string', describe: 'MQTT broker URL; overrides broker.url (password from the config\'s passwordFile or EDGEPROBE_MQTT_PASSWORD)' })
      .option('device-id', { type: 'string', describe: 'this device\'s id (also its MQTT username); overrides deviceId' })
      .option('state-dir', { type: 'string', describe: 'where the outbox and job state live (default <dataDir>/state, or .edgeprobe/agents/<device-id>)' }),
    async (args) => {
      const { Agent } = await import('../../agent/agent.ts');
      const { resolveAgentSettings } = await import('../../agent/config/agent-config.ts');
      const settings = resolveAgentSettings({ config: args.config, broker: args.broker, deviceId: args['device-id'] as string | undefined, stateDir: args['state-dir'] as string | undefined });
      const log = createDaemonLog(`agent ${settings.deviceId}`, args.json as boolean);
      const agent = new Agent({ settings, log });
      log.info('agent starting', { config: settings.source, broker: settings.brokerUrl, models: settings.allow.models.map((m) => m.name).join(','), probes: settings.allow.probes.join(',') });
      await agent.start();
      await untilSignal(() => agent.stop());
    })
    .command('coordinator', 'run the coordinator: ingests device messages into SQLite or PostgreSQL, keeps the registry, dispatches jobs', (c) => httpOptions(c
      .option('config', { type: 'string', describe: 'coordinator config (JSON/YAML, see configs/coordinator.example.json): broker, db, admission, policy, limits; required unless the broker is on this machine' })
      .option('broker', { type: 'string', describe: 'MQTT broker URL; overrides broker.url (username "coordinator")' })
      .option('db', { type: 'string', describe: `${DB_HELP}; overrides db (default without a config: ${DEFAULT_DB})` })
      .option('dispatch-interval', { type: 'number', default: 1, describe: 'seconds between dispatch and timeout checks' })
      .option('http', { type: 'number', describe: 'also serve the dashboard on this port (see docs/dashboard.md)' })
      .option('replica-id', { type: 'string', describe: 'run as one of several replicas on one PostgreSQL store: a stable id per replica (MQTT client id and session); traffic is split by a shared subscription' })
      .option('share-group', { type: 'string', default: 'edgeprobe-coordinators', describe: 'shared subscription group of the replicas' })
      .option('heartbeat-retention-days', { type: 'number', default: 7, describe: 'heartbeat history older than this is deleted' })
      .option('latency-min-change', { type: 'number', default: 0.05, describe: 'a latency regression must also change p50 by at least this fraction (0.05 = 5%); raise it on hosts whose neighbours move latency' })
      .option('alert-webhook', { type: 'string', describe: 'also POST each regression alert as JSON to this URL (retried; a delivery out of attempts is kept as a dead letter, see docs/monitoring.md)' })
      .option('load-test', { type: 'boolean', default: false, describe: 'LOAD TESTING ONLY: store results marked simulated (edgeprobe simulate) without a job that targets their sender' })),
    async (args) => {
      const { Coordinator, openFleetStore, isPostgresUrl, redactDbUrl, resolveCoordinatorSettings } = await coordinatorModules();
      const settings = resolveCoordinatorSettings({ config: args.config, broker: args.broker, db: args.db ?? (args.config ? undefined : DEFAULT_DB) });
      const replicaId = args['replica-id'] as string | undefined;
      if (replicaId !== undefined && !isValidDeviceId(replicaId)) throw epError('EP_REPLICA_ID_INVALID', { id: JSON.stringify(replicaId) });
      if (replicaId !== undefined && replicaUsername(replicaId) === COORDINATOR_CLI_USERNAME) throw epError('EP_REPLICA_ID_RESERVED', { id: replicaId, username: COORDINATOR_CLI_USERNAME });
      if (replicaId !== undefined && !isPostgresUrl(settings.db)) throw epError('EP_REPLICA_NEEDS_POSTGRES');
      const retention = args['heartbeat-retention-days'] as number;
      const minChange = args['latency-min-change'] as number;
      if (!(minChange >= 0)) throw epError('EP_FLAG_OUT_OF_RANGE', { flag: 'latency-min-change', range: '>= 0', value: minChange, example: '0.05' });
      if (!(retention > 0)) throw epError('EP_FLAG_OUT_OF_RANGE', { flag: 'heartbeat-retention-days', range: '> 0', value: retention, example: '7' });
      // each replica its own MQTT user: the shipped broker config makes the username the client id
      if (replicaId !== undefined) settings.mqtt = { ...settings.mqtt, username: replicaUsername(replicaId) };
      const log = createDaemonLog(replicaId ? `coordinator ${replicaId}` : 'coordinator', args.json as boolean);
      log.info('coordinator starting', { config: settings.source, db: redactDbUrl(settings.db), admission: settings.openAdmission ? 'open (loopback broker, no config)' : 'config' });
      const store = await openFleetStore(settings.db);
      const coordinator = new Coordinator({
        settings, store, log, dispatchIntervalMs: (args['dispatch-interval'] as number) * 1000,
        replicaId, shareGroup: args['share-group'] as string, heartbeatRetentionDays: retention,
        monitoring: { webhookUrl: args['alert-webhook'] as string | undefined, detect: { minLatencyChange: minChange } }, loadTest: args['load-test'] as boolean,
      });
      const stopHttp = args.http === undefined ? undefined : await startDashboard(store, args as unknown as DashboardArgs, log, coordinator.ingest.changes);
      await coordinator.start();
      await untilSignal(async () => { await stopHttp?.(); await coordinator.stop(); });
    })
    .command('jobs', 'submit and list fleet jobs', (j) => scheduleCommands(j)
      .command('submit', 'create a job: one plan for some devices (the coordinator dispatches it), optionally rolled out in waves', (c) => rolloutOptions(c)
        .option('devices', { type: 'string', demandOption: true, describe: 'comma-separated device ids' })
        .option('plan', { type: 'string', demandOption: true, describe: 'plan file (JSON/YAML): models x variants x probes x benchmark settings' })
        .option('db', { type: 'string', default: DEFAULT_DB, describe: DB_HELP })
        .option('broker', { type: 'string', describe: 'also dispatch now through this broker instead of waiting for the coordinator\'s next round' })
        .option('config', { type: 'string', describe: 'the coordinator config: its policy is checked before the job is stored, with --broker its broker URL and CA, logging in as coordinator-cli (password: cliPasswordFile, else EDGEPROBE_MQTT_PASSWORD)' })
        .option('timeout', { type: 'number', default: 600, describe: 'seconds a device may be silent on the job before a retry' })
        .option('attempts', { type: 'number', default: 3, describe: 'dispatch attempts per device' }),
      async (args) => {
        const { loadPlanFile, openFleetStore, submitJob, dispatchQueued, loadCoordinatorConfig, checkPlanAgainstPolicy, rolloutFromFlags, describeRollout } = await coordinatorModules();
        const rollout = rolloutFromFlags(args);
        const plan = loadPlanFile(args.plan as string);
        const policy = args.config ? loadCoordinatorConfig(args.config as string).value.policy : undefined;
        if (policy) checkPlanAgainstPolicy(policy, plan);
        const store = await openFleetStore(args.db as string);
        try {
          const devices = (args.devices as string).split(',').map((s) => s.trim()).filter(Boolean);
          const jobId = await submitJob(store, devices, plan, { timeoutS: args.timeout as number, maxAttempts: args.attempts as number, ...(rollout ? { rollout } : {}) });
          let dispatched = 0;
          if (args.broker) {
            const client = await connectOnce({ broker: args.broker as string, config: args.config as string | undefined }, (broker) => epError('EP_SUBMIT_BROKER_UNREACHABLE', { broker, jobId }));
            dispatched = await dispatchQueued(store, client, createDaemonLog('submit', args.json as boolean), policy);
            await client.endAsync();
          }
          emitResult({ json: args.json as boolean }, { jobId, devices, dispatched, ...(rollout ? { rollout } : {}) }, () => `${jobId} submitted to ${devices.join(', ')}${args.broker ? ` (${dispatched} dispatched now)` : ' (the coordinator dispatches it to online devices)'}${rollout ? `; rollout ${describeRollout(rollout)}` : ''}`);
        } finally {
          await store.close();
        }
      })
      .command('cancel', 'cancel a job on every device still working on it', (c) => c
        .option('job', { type: 'string', demandOption: true, describe: 'job id (see jobs list)' })
        .option('db', { type: 'string', default: DEFAULT_DB, describe: DB_HELP })
        .option('broker', { type: 'string', describe: 'MQTT broker URL, to tell the devices (or broker.url of --config)' })
        .option('config', { type: 'string', describe: 'the coordinator config, for its broker URL and CA; logs in as coordinator-cli (password: cliPasswordFile, else EDGEPROBE_MQTT_PASSWORD)' }),
      async (args) => {
        const { openFleetStore, redactDbUrl, cancelJob } = await coordinatorModules();
        const store = await openFleetStore(args.db as string);
        try {
          const jobId = args.job as string;
          if ((await store.jobTargets(jobId)).length === 0) throw epError('EP_JOB_UNKNOWN', { jobId, db: redactDbUrl(args.db as string) });
          const client = await connectOnce({ broker: args.broker as string | undefined, config: args.config as string | undefined }, (broker) => epError('EP_CANCEL_BROKER_UNREACHABLE', { broker }));
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
        const { openFleetStore, RolloutStore, describeRollout } = await coordinatorModules();
        const store = await openFleetStore(args.db as string);
        try {
          const targets = await store.jobTargets(args.job as string | undefined);
          const rollouts = await new RolloutStore(store.sql()).list(args.job as string | undefined);
          const waveOf = (t: { jobId: string; wave: number }) => (rollouts.some((r) => r.jobId === t.jobId) ? String(t.wave + 1) : '-');
          emitResult({ json: args.json as boolean }, { targets, rollouts }, () => (targets.length === 0 ? 'no jobs'
            : [textTable([['job', 'device', 'wave', 'state', 'attempt', 'items', 'detail'], ...targets.map((t) => [t.jobId, t.deviceId, waveOf(t), t.state, t.attempt, `${t.done}/${t.total}`, (t.detail ?? '').slice(0, 80)])]),
              ...(rollouts.length ? ['', textTable([['rollout', 'state', 'wave', 'plan', 'detail'], ...rollouts.map((r) => [r.jobId, r.state, `${r.wave + 1}/${r.waves}`, describeRollout(r.spec), r.detail ?? '-'])])] : [])].join('\n')));
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
            ['device', 'admitted via', 'online', 'arch', 'cores', 'first seen', 'last seen', 'load %', 'temp C'],
            ...devices.map((d) => [d.deviceId, d.admittedVia ?? '-', d.online ? 'yes' : 'no', d.profile.arch, d.profile.cores, d.firstSeen, d.lastSeen,
              d.heartbeat ? d.heartbeat.loadPercent.toFixed(0) : '-', d.heartbeat?.temperatureC?.toFixed(1) ?? '-']),
          ])));
        } finally {
          await store.close();
        }
      })
      .demandCommand(1, 'name a jobs subcommand: submit, cancel, list, devices, schedule'))
    .command('report', 'compare devices x variants: latency, size, drift, probe verdicts, cross-device consistency', (c) => c
      .option('db', { type: 'string', default: DEFAULT_DB, describe: DB_HELP })
      .option('csv', { type: 'boolean', default: false, describe: 'CSV rows instead of the table' })
      .option('tolerance', { type: 'number', describe: 'relative L2 above which a device\'s outputs count as an outlier (default 1e-3, coordinator/report/consistency.ts)' })
      .option('html', { type: 'string', describe: 'write the dashboard\'s views as one self-contained HTML file (opens without network)' })
      .option('model', { type: 'string', array: true, describe: 'with --html: NAME=DIR, a local model copy to bake attention heat maps of one sentence' })
      .option('map-variant', { type: 'string', array: true, describe: 'with --html and --model: NAME=PATH, a local copy of a user-supplied variant file, so its heat maps are baked too' })
      .option('sentence', { type: 'string', describe: 'with --html and --model: the sentence of the heat maps' }),
    async (args) => {
      const { openFleetStore } = await coordinatorModules();
      const { buildFleetReport, renderFleetReport, renderFleetReportCsv, readCurrentRecords, bakeMonitoring, renderMonitoringText } = await reportModules();
      const store = await openFleetStore(args.db as string);
      try {
        if (args.html) {
          const r = await writeHtmlReport(store, args as unknown as HtmlReportArgs);
          emitResult({ json: args.json as boolean }, r, () => `wrote ${r.path} (${(r.bytes / 1e6).toFixed(2)} MB, ${r.results} results); it opens from disk without network`);
          return;
        }
        const { results, read } = await readCurrentRecords(store.sql());
        const report = buildFleetReport(results, await store.devices(), args.tolerance as number | undefined, read);
        if (args.csv) process.stdout.write(`${renderFleetReportCsv(report)}\n`);
        else if (args.json) emitResult({ json: true }, report, () => '');
        else {
          const monitoring = await bakeMonitoring(store, report.rows);
          emitResult({ json: false }, report, () => [renderFleetReport(report), ...(monitoring.alerts.open || monitoring.timelines.some((t) => t.runs.length > 1) ? ['', renderMonitoringText(monitoring)] : [])].join('\n'));
        }
      } finally {
        await store.close();
      }
    })
    .command('demo', 'DEMO: embedded broker, coordinator and two local agents on a generated model; prints the comparison', (c) => c
      .option('stall-timeout', { type: 'number', default: 300, describe: 'seconds without any progress before the demo gives up (a slow device takes longer but keeps advancing)' }),
    async (args) => {
      const stallS = args['stall-timeout'] as number;
      if (!Number.isFinite(stallS) || stallS <= 0) throw epError('EP_FLAG_OUT_OF_RANGE', { flag: 'stall-timeout', range: 'a positive number of seconds', value: stallS, example: '600' });
      const { runDemo } = await import('../demo/run-demo.ts');
      const { renderFleetReport } = await reportModules();
      const progress = progressFor({ json: args.json as boolean });
      const r = await runDemo(progress, { stallS });
      emitResult({ json: args.json as boolean }, r, () => [
        '', renderFleetReport(r.report), '',
        `jobs: ${r.targets.map((t) => `${t.deviceId} ${t.state}`).join(', ')}; ${r.report.results} results stored; ${r.seconds.toFixed(1)} s.`,
        'This was a DEMO on a generated random-weight model. On a real model and real devices:',
        '  edgeprobe coordinator --config coordinator.json     (admission and policy: configs/coordinator.example.json)',
        '  edgeprobe agent --broker mqtts://BROKER:8883 --device-id pi-01 --config configs/agent.example.json   (on each device)',
        '  edgeprobe jobs submit --devices pi-01,pi-02 --plan configs/plan.example.json --db fleet.sqlite --config coordinator.json && edgeprobe report --db fleet.sqlite',
      ].join('\n'));
      // a demo whose job failed is a failed demo, not a report of nothing
      const unfinished = r.targets.filter((t) => t.state !== 'completed');
      if (unfinished.length) throw epError('EP_DEMO_JOB_FAILED', { states: unfinished.map((t) => `${t.deviceId} ${t.state}${t.detail ? ` (${t.detail})` : ''}`).join('; ') });
    });
}
