import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Reads what a board says about heat, clocks and power, from the kernel's and firmware's files under a
 * root directory ('/' on a device, a fixture tree in tests):
 * - Raspberry Pi firmware throttled bits: /sys/devices/platform/soc/soc:firmware/get_throttled (hex), or
 *   `vcgencmd get_throttled` ("throttled=0x50005") when the file is missing and the root is '/'
 * - Linux thermal zones: /sys/class/thermal/thermal_zone*\/{type,temp (m°C),trip_point_N_{type,temp}}
 * - cpufreq: /sys/devices/system/cpu/cpu*\/cpufreq/{scaling_cur_freq,scaling_max_freq,cpuinfo_max_freq} (kHz)
 * - power rails: hwmon INA3221 (Jetson, JetPack 5+: inN_label, inN_input mV, currN_input mA) and the
 *   older Jetson IIO driver ina3221x (rail_name_N, in_power N_input mW)
 * Hand-written: systeminformation reads only one CPU temperature and none of the throttling or rail files.
 * A source that is missing is reported with why, never guessed.
 */

export interface ZoneInfo { zone: string; type: string; /** lowest 'passive' trip point: the kernel starts cooling (throttling) there */ passiveTripC: number | null }
export interface CpuInfo { cpu: string; /** cpuinfo_max_freq: the hardware maximum */ hwMaxMHz: number | null }

/** Which sources a board has: found once, then only their value files are read per sample. */
export interface SensorLayout {
  throttled: { source: string } | { unavailable: string };
  zones: ZoneInfo[] | { unavailable: string };
  cpus: CpuInfo[] | { unavailable: string };
  rails: string[] | { unavailable: string };
  /** private: the files behind each value */
  files: { throttled?: { path: string } | { vcgencmd: true }; zones: string[]; cpus: Array<{ cur: string; max: string }>; rails: Array<{ mW: string } | { mV: string; mA: string }> };
}

/** One reading; arrays are aligned with the layout's zones, cpus and rails; null = that file could not be read. */
export interface SensorSample {
  tMs: number;
  throttledBits: number | null;
  tempC: Array<number | null>;
  curMHz: Array<number | null>;
  /** scaling_max_freq: lowered by thermal cooling devices and by the user */
  maxMHz: Array<number | null>;
  powerMW: Array<number | null>;
}

const THROTTLED_FILE = 'sys/devices/platform/soc/soc:firmware/get_throttled';

const readText = (path: string): string | null => {
  try { return readFileSync(path, 'utf8').trim(); } catch { return null; }
};
const readNumber = (path: string): number | null => {
  const t = readText(path);
  if (t === null || !/^-?\d+(\.\d+)?$/.test(t)) return null;
  return Number(t);
};
const list = (dir: string, pattern: RegExp): string[] => {
  try { return readdirSync(dir).filter((n) => pattern.test(n)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true })); } catch { return []; }
};

/** "throttled=0x50005" (vcgencmd) or "50005" (the sysfs file, hex without prefix) -> the bit field. */
export function parseThrottled(text: string): number | null {
  const m = /^(?:throttled=)?(?:0x)?([0-9a-f]+)$/i.exec(text.trim());
  return m ? parseInt(m[1], 16) : null;
}

/** Names of the Raspberry Pi firmware's throttled bits (documented in the Pi OS `vcgencmd` page). */
export const THROTTLED_NOW: ReadonlyArray<[number, string]> = [[0, 'under-voltage'], [1, 'ARM frequency capped'], [2, 'throttled'], [3, 'soft temperature limit']];
/** The same conditions, sticky since boot: bits 16-19. */
export const THROTTLED_SINCE_BOOT: ReadonlyArray<[number, string]> = THROTTLED_NOW.map(([b, n]) => [b + 16, n]);

export function describeThrottled(bits: number, which: ReadonlyArray<[number, string]>): string[] {
  return which.filter(([b]) => (bits >>> b) & 1).map(([, n]) => n);
}

function runVcgencmd(): string | null {
  try { return execFileSync('vcgencmd', ['get_throttled'], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }); } catch { return null; }
}

/** Finds the board's sources under `root`. `vcgencmd` is tried only for the real root ('/'). */
export function detectSensors(root = '/', vcgencmd: () => string | null = runVcgencmd): SensorLayout {
  const files: SensorLayout['files'] = { zones: [], cpus: [], rails: [] };
  let throttled: SensorLayout['throttled'];
  const tFile = join(root, THROTTLED_FILE);
  if (readText(tFile) !== null && parseThrottled(readText(tFile) ?? '') !== null) {
    throttled = { source: `/${THROTTLED_FILE}` };
    files.throttled = { path: tFile };
  } else if (root === '/' && parseThrottled(vcgencmd() ?? '') !== null) {
    throttled = { source: 'vcgencmd get_throttled' };
    files.throttled = { vcgencmd: true };
  } else {
    throttled = { unavailable: `no Raspberry Pi firmware throttled bits (/${THROTTLED_FILE} missing, no vcgencmd)` };
  }

  const thermalDir = join(root, 'sys/class/thermal');
  const zones: ZoneInfo[] = [];
  for (const z of list(thermalDir, /^thermal_zone\d+$/)) {
    const dir = join(thermalDir, z);
    if (readNumber(join(dir, 'temp')) === null) continue;
    const trips = list(dir, /^trip_point_\d+_type$/)
      .filter((t) => readText(join(dir, t)) === 'passive')
      .map((t) => readNumber(join(dir, t.replace(/_type$/, '_temp'))))
      // x86_pkg_temp lists passive trips at 0: disabled, not a limit
      .filter((x): x is number => x !== null && x > 0);
    zones.push({ zone: z, type: readText(join(dir, 'type')) ?? 'unknown', passiveTripC: trips.length ? Math.min(...trips) / 1000 : null });
    files.zones.push(join(dir, 'temp'));
  }

  const cpuDir = join(root, 'sys/devices/system/cpu');
  const cpus: CpuInfo[] = [];
  for (const c of list(cpuDir, /^cpu\d+$/)) {
    const dir = join(cpuDir, c, 'cpufreq');
    if (readNumber(join(dir, 'scaling_cur_freq')) === null) continue;
    const hw = readNumber(join(dir, 'cpuinfo_max_freq'));
    cpus.push({ cpu: c, hwMaxMHz: hw === null ? null : hw / 1000 });
    files.cpus.push({ cur: join(dir, 'scaling_cur_freq'), max: join(dir, 'scaling_max_freq') });
  }

  const rails: string[] = [];
  const hwmonDir = join(root, 'sys/class/hwmon');
  for (const h of list(hwmonDir, /^hwmon\d+$/)) {
    const dir = join(hwmonDir, h);
    if (readText(join(dir, 'name')) !== 'ina3221') continue;
    for (const label of list(dir, /^in\d+_label$/)) {
      const n = label.match(/^in(\d+)_label$/)![1];
      const mV = join(dir, `in${n}_input`), mA = join(dir, `curr${n}_input`);
      if (readNumber(mV) === null || readNumber(mA) === null) continue;
      rails.push(readText(join(dir, label)) ?? `in${n}`);
      files.rails.push({ mV, mA });
    }
  }
  const iioDir = join(root, 'sys/bus/iio/devices');
  for (const d of list(iioDir, /^iio:device\d+$/)) {
    const dir = join(iioDir, d);
    if (!/^ina3221x?$/.test(readText(join(dir, 'name')) ?? '')) continue;
    for (const railFile of list(dir, /^rail_name_\d+$/)) {
      const n = railFile.match(/(\d+)$/)![1];
      const mW = join(dir, `in_power${n}_input`);
      if (readNumber(mW) === null) continue;
      rails.push(readText(join(dir, railFile)) ?? `rail ${n}`);
      files.rails.push({ mW });
    }
  }

  return {
    throttled,
    zones: zones.length ? zones : { unavailable: 'no readable /sys/class/thermal/thermal_zone*/temp' },
    cpus: cpus.length ? cpus : { unavailable: 'no readable /sys/devices/system/cpu/cpu*/cpufreq/scaling_cur_freq' },
    rails: rails.length ? rails : { unavailable: 'no INA3221 power rails (hwmon name ina3221 or IIO ina3221x)' },
    files,
  };
}

/** Reads every available source once (synchronous: a few small sysfs files, taken between timed queries). */
export function sampleSensors(layout: SensorLayout, tMs: number, vcgencmd: () => string | null = runVcgencmd): SensorSample {
  const f = layout.files;
  let throttledBits: number | null = null;
  if (f.throttled) throttledBits = parseThrottled(('path' in f.throttled ? readText(f.throttled.path) : vcgencmd()) ?? '');
  const mhz = (p: string): number | null => { const k = readNumber(p); return k === null ? null : k / 1000; };
  return {
    tMs,
    throttledBits,
    tempC: f.zones.map((p) => { const m = readNumber(p); return m === null ? null : m / 1000; }),
    curMHz: f.cpus.map((c) => mhz(c.cur)),
    maxMHz: f.cpus.map((c) => mhz(c.max)),
    powerMW: f.rails.map((r) => {
      if ('mW' in r) return readNumber(r.mW);
      const v = readNumber(r.mV), a = readNumber(r.mA);
      return v === null || a === null ? null : (v * a) / 1000;
    }),
  };
}

/** The layout as a record states it: what was found, or why not (the private file paths left out). */
export function describeLayout(l: SensorLayout): Omit<SensorLayout, 'files'> {
  const { files: _files, ...shown } = l;
  return shown;
}
