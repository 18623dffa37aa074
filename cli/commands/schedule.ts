import type { Argv } from 'yargs';
import { epError } from '../../core/errors.ts';
import { emitResult, textTable } from '../output.ts';
import { rolloutOptions } from './rollout-options.ts';

const DEFAULT_DB = '.edgeprobe/fleet.sqlite';
const DB_HELP = 'the coordinator\'s store: a SQLite file, or a postgres://user:pass@host:port/db URL';

const modules = async () => ({
  ...(await import('../../coordinator/store/open-store.ts')),
  ...(await import('../../coordinator/submit-job.ts')),
  ...(await import('../../coordinator/config/coordinator-config.ts')),
  ...(await import('../../coordinator/monitoring/schedules.ts')),
  ...(await import('../../coordinator/monitoring/alert-store.ts')),
  ...(await import('../../coordinator/rollouts/rollout-spec.ts')),
});

/** Opens the store named by --db, runs `fn`, closes it. */
async function withStore<T>(db: string, fn: (store: Awaited<ReturnType<Awaited<ReturnType<typeof modules>>['openFleetStore']>>, m: Awaited<ReturnType<typeof modules>>) => Promise<T>): Promise<T> {
  const m = await modules();
  const store = await m.openFleetStore(db);
  try { return await fn(store, m); } finally { await store.close(); }
}

const dbOption = { type: 'string', default: DEFAULT_DB, describe: DB_HELP } as const;

/** `edgeprobe jobs schedule add|list|pause|resume|remove`: plans that run again and again (docs/monitoring.md). */
export function scheduleCommands(j: Argv): Argv {
  return j.command('schedule', 'plans that run every N hours or on a cron expression, on devices or a device group', (s) => s
    .command('add', 'add a schedule; the coordinator dispatches each run, skips offline or busy devices and catches them up', (c) => rolloutOptions(c)
      .option('plan', { type: 'string', demandOption: true, describe: 'plan file (JSON/YAML)' })
      .option('devices', { type: 'string', describe: 'comma-separated device ids' })
      .option('group', { type: 'string', describe: 'device ids matching this pattern (* and ?), resolved at every run' })
      .option('every-hours', { type: 'number', describe: 'run every this many hours (first run now, or at --start)' })
      .option('cron', { type: 'string', describe: 'or a cron expression in UTC, e.g. "0 3 * * *"' })
      .option('start', { type: 'string', describe: 'first run at this ISO time (default: now for --every-hours, the next cron time for --cron)' })
      .option('timeout', { type: 'number', default: 600, describe: 'seconds a device may be silent on a run before a retry' })
      .option('attempts', { type: 'number', default: 3, describe: 'dispatch attempts per device and run' })
      .option('config', { type: 'string', describe: 'the coordinator config: its policy is checked before the schedule is stored' })
      .option('db', dbOption),
    async (args) => {
      const start = args.start === undefined ? undefined : Date.parse(args.start as string);
      if (start !== undefined && Number.isNaN(start)) throw epError('EP_CLI_USAGE', { problem: `--start ${JSON.stringify(args.start)} is not an ISO time` });
      await withStore(args.db as string, async (store, m) => {
        const rollout = m.rolloutFromFlags(args);
        const plan = m.loadPlanFile(args.plan as string);
        if (args.config) m.checkPlanAgainstPolicy(m.loadCoordinatorConfig(args.config as string).value.policy, plan);
        const devices = args.devices === undefined ? undefined : (args.devices as string).split(',').map((d) => d.trim()).filter(Boolean);
        const s = await new m.ScheduleStore(store.sql()).add({
          plan, target: { ...(devices ? { devices } : {}), ...(args.group ? { group: args.group as string } : {}) },
          everyHours: args['every-hours'] as number | undefined, cron: args.cron as string | undefined, startMs: start,
          timeoutS: args.timeout as number, maxAttempts: args.attempts as number, ...(rollout ? { rollout } : {}),
        }, Date.now());
        emitResult({ json: args.json as boolean }, { schedule: s }, () => `schedule ${s.scheduleId} added; first run ${s.nextRunAt}`);
      });
    })
    .command('list', 'schedules, their next run, and what their runs did per device', (c) => c.option('db', dbOption), async (args) => {
      await withStore(args.db as string, async (store, m) => {
        const ss = new m.ScheduleStore(store.sql());
        const schedules = await ss.list();
        const runs = await ss.runs();
        emitResult({ json: args.json as boolean }, { schedules, runs }, () => (schedules.length === 0 ? 'no schedules' : textTable([
          ['schedule', 'state', 'cadence', 'devices', 'next run', 'runs', 'skipped'],
          ...schedules.map((s) => {
            const mine = runs.filter((r) => r.scheduleId === s.scheduleId);
            return [s.scheduleId, s.state, s.cron ?? `every ${(s.everyMs! / 3_600_000).toString()} h`, s.target.devices?.join(',') ?? `group ${s.target.group}`, s.nextRunAt,
              new Set(mine.map((r) => r.dueAt)).size, mine.filter((r) => r.state.startsWith('skipped')).length];
          }),
        ])));
      });
    })
    .command('pause <id>', 'stop a schedule\'s runs until it is resumed', (c) => c.positional('id', { type: 'string', demandOption: true }).option('db', dbOption), async (args) => {
      await withStore(args.db as string, async (store, m) => { await new m.ScheduleStore(store.sql()).setState(args.id as string, 'paused'); });
      emitResult({ json: args.json as boolean }, { scheduleId: args.id, state: 'paused' }, () => `schedule ${args.id} paused`);
    })
    .command('resume <id>', 'run a paused schedule again (a slot missed while paused runs once)', (c) => c.positional('id', { type: 'string', demandOption: true }).option('db', dbOption), async (args) => {
      await withStore(args.db as string, async (store, m) => { await new m.ScheduleStore(store.sql()).setState(args.id as string, 'active'); });
      emitResult({ json: args.json as boolean }, { scheduleId: args.id, state: 'active' }, () => `schedule ${args.id} resumed`);
    })
    .command('remove <id>', 'delete a schedule (its jobs and results stay)', (c) => c.positional('id', { type: 'string', demandOption: true }).option('db', dbOption), async (args) => {
      await withStore(args.db as string, async (store, m) => { await new m.ScheduleStore(store.sql()).remove(args.id as string); });
      emitResult({ json: args.json as boolean }, { scheduleId: args.id, removed: true }, () => `schedule ${args.id} removed`);
    })
    .demandCommand(1, 'name a schedule subcommand: add, list, pause, resume, remove'));
}

/** `edgeprobe alerts list|ack`: regression alerts (docs/monitoring.md). */
export function alertCommands(y: Argv): Argv {
  return y.command('alerts', 'regression alerts: list and acknowledge', (a) => a
    .command('list', 'alerts, newest first, with the runs before and after and what changed', (c) => c
      .option('state', { choices: ['open', 'acknowledged'] as const, describe: 'only alerts in this state' })
      .option('device', { type: 'string', describe: 'only this device' })
      .option('limit', { type: 'number', default: 50 })
      .option('db', dbOption),
    async (args) => {
      await withStore(args.db as string, async (store, m) => {
        const alerts = await new m.AlertStore(store.sql()).list({ state: args.state as 'open' | undefined, deviceId: args.device as string | undefined, limit: args.limit as number });
        const deliveries = await new m.AlertStore(store.sql()).deliveries();
        emitResult({ json: args.json as boolean }, { alerts, deliveries }, () => (alerts.length === 0 ? 'no alerts' : textTable([
          ['id', 'state', 'device', 'model', 'variant', 'what', 'before -> after', 'changed', 'dead letters'],
          ...alerts.map((x) => [x.id, x.state, x.regression.deviceId, x.regression.model, x.regression.variant, x.regression.statistic.slice(0, 90),
            `${x.regression.before.jobId} -> ${x.regression.after.jobId}`, x.regression.changed.join('; ') || '-',
            deliveries.filter((d) => d.alertId === x.id && d.state === 'dead').map((d) => `${d.channel}: ${d.lastError}`).join('; ') || '-']),
        ])));
      });
    })
    .command('ack <id>', 'acknowledge an open alert (re-announced on the alert topic)', (c) => c
      .positional('id', { type: 'number', demandOption: true })
      .option('by', { type: 'string', default: process.env.USER ?? 'cli', describe: 'who acknowledges' })
      .option('db', dbOption),
    async (args) => {
      const ok = await withStore(args.db as string, async (store, m) => new m.AlertStore(store.sql()).acknowledge(args.id as number, args.by as string, Date.now()));
      if (!ok) throw epError('EP_ALERT_NOT_OPEN', { id: String(args.id) });
      emitResult({ json: args.json as boolean }, { alertId: args.id, state: 'acknowledged' }, () => `alert ${args.id} acknowledged`);
    })
    .demandCommand(1, 'name an alerts subcommand: list, ack'));
}
