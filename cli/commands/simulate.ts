import type { Argv } from 'yargs';
import { epError } from '../../core/errors.ts';
import { isValidDeviceId } from '../../core/protocol/topics.ts';
import { emitResult, progressFor } from '../output.ts';

const LOAD_TOOL_NOTE = 'LOAD TOOL: these are simulated devices sending synthetic results (stored with simulated = 1), not measurements.';

function positive(name: string, v: number, allowZero = false): number {
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) throw epError('EP_FLAG_OUT_OF_RANGE', { flag: name, range: allowZero ? '>= 0' : '> 0', value: v, example: '10' });
  return v;
}

export function simulateCommand(y: Argv): Argv {
  return y.command('simulate', 'LOAD TOOL: N simulated devices (own MQTT client id and session each) send registration, heartbeats and synthetic results; jobs are answered with synthetic records', (c) => c
    .option('broker', { type: 'string', demandOption: true, describe: 'MQTT broker URL' })
    .option('devices', { type: 'number', default: 100, describe: 'simulated devices in this process' })
    .option('rate', { type: 'number', default: 10, describe: 'results messages per second across all simulated devices (0: only when jobs ask), under job id "stream": the coordinator stores them only with --load-test' })
    .option('heartbeat', { type: 'number', default: 30, describe: 'seconds between heartbeats of each device (the agent default is 30)' })
    .option('duration', { type: 'number', describe: 'seconds to run after all devices connected (default: until SIGINT/SIGTERM)' })
    .option('prefix', { type: 'string', default: 'sim', describe: 'device ids are <prefix>-<index>' })
    .option('first-index', { type: 'number', default: 0, describe: 'index of the first device (several processes can share one fleet)' })
    .option('connect-rate', { type: 'number', default: 500, describe: 'new connections per second' })
    .option('bad-rate', { type: 'number', default: 0, describe: 'malformed/oversized/spoofed messages per second (bad-input load)' })
    .option('job-delay', { type: 'number', default: 1000, describe: 'ms before a job is answered' })
    .option('seed', { type: 'number', default: 1, describe: 'seed of the synthetic numbers' }),
  async (args) => {
    const { DeviceSimulator } = await import('../../sim/device-simulator.ts');
    const prefix = args.prefix as string;
    const devices = positive('devices', args.devices as number);
    const firstIndex = positive('first-index', args['first-index'] as number, true);
    if (!Number.isInteger(devices) || !isValidDeviceId(`${prefix}-${firstIndex + devices}`)) throw epError('EP_SIM_DEVICE_IDS_INVALID', { prefix: JSON.stringify(prefix), devices });
    const broker = args.broker as string;
    if (!/^(mqtts?|wss?|tcp|ssl):\/\//.test(broker)) throw epError('EP_BROKER_URL_INVALID', { url: broker, source: '--broker' });
    const progress = progressFor({ json: args.json as boolean });
    progress.info(LOAD_TOOL_NOTE);
    const sim = new DeviceSimulator({
      broker, devices, prefix, firstIndex, seed: args.seed as number, progress,
      // the agent's environment variables: with a secured coordinator the simulated ids must be admitted
      // (admission.allowDevices, or its fleet token; docs/security.md)
      password: process.env.EDGEPROBE_MQTT_PASSWORD || undefined, registrationToken: process.env.EDGEPROBE_REGISTRATION_TOKEN || undefined,
      resultRate: positive('rate', args.rate as number, true), heartbeatS: positive('heartbeat', args.heartbeat as number),
      connectRate: positive('connect-rate', args['connect-rate'] as number), badRate: positive('bad-rate', args['bad-rate'] as number, true), jobDelayMs: positive('job-delay', args['job-delay'] as number, true),
    });
    const started = Date.now();
    await sim.start();
    progress.info(`${sim.stats.connected} simulated devices connected in ${((Date.now() - started) / 1000).toFixed(1)} s; sending`);
    await new Promise<void>((resolve) => {
      const duration = args.duration as number | undefined;
      const t = duration !== undefined ? setTimeout(resolve, positive('duration', duration) * 1000) : undefined;
      const onSignal = (): void => { clearTimeout(t); resolve(); };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    });
    const stats = await sim.stop();
    progress.done();
    emitResult({ json: args.json as boolean }, { simulated: true, note: LOAD_TOOL_NOTE, devices, ...stats }, () => [
      LOAD_TOOL_NOTE,
      `${devices} devices; results acknowledged by the broker ${stats.resultsAcked}; heartbeats ${stats.heartbeatsSent}; bad messages ${stats.badSent}; jobs answered ${stats.jobsAnswered}; publish errors ${stats.publishErrors}`,
    ].join('\n'));
  });
}
