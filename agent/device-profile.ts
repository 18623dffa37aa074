import { existsSync, readFileSync } from 'node:fs';
import si from 'systeminformation';
import { ort, ORT_VERSION } from '../core/runtime/ort-session.ts';

/** What a device is, as far as benchmark numbers depend on it. */
export interface DeviceProfile {
  hostname: string;
  cpu: { manufacturer: string; brand: string; model: string; cores: number; physicalCores: number; speedGHz: number; flags: string[] };
  /** int8 dot-product instructions that make onnxruntime's int8 matmuls fast (present ones only) */
  dotProduct: string[];
  memory: { totalMB: number; availableMB: number };
  os: { platform: string; distro: string; release: string; kernel: string; arch: string };
  /** "Raspberry Pi 4 Model B Rev 1.4", "NVIDIA Jetson Orin Nano ..." from /proc/device-tree/model, when present */
  board: string | null;
  boardKind: 'raspberry-pi' | 'jetson' | 'other' | null;
  node: string;
  /** bundled: false = this build knows the EP but its binaries are installed separately (CUDA: ONNXRUNTIME_NODE_INSTALL=cuda12) */
  onnxruntime: { version: string; executionProviders: Array<{ name: string; bundled: boolean }> };
}

/** avx512_vnni / avx_vnni (x86 VNNI), amx_int8 (x86 AMX), asimddp (Arm dot product, "dotprod" on some kernels) */
const DOT_PRODUCT_FLAGS = ['avx512_vnni', 'avx_vnni', 'avxvnni', 'amx_int8', 'asimddp', 'dotprod', 'i8mm'];

export function boardKind(model: string | null): DeviceProfile['boardKind'] {
  if (!model) return null;
  if (/raspberry pi/i.test(model)) return 'raspberry-pi';
  if (/jetson/i.test(model)) return 'jetson';
  return 'other';
}

/** The device-tree model string (NUL-terminated) on Arm boards; null elsewhere. */
export function readBoardModel(path = '/proc/device-tree/model'): string | null {
  if (!existsSync(path)) return null;
  return readFileSync(path, 'utf8').replace(/\0+$/, '').trim() || null;
}

export function dotProductFlags(flags: readonly string[]): string[] {
  const set = new Set(flags.map((f) => f.toLowerCase()));
  return DOT_PRODUCT_FLAGS.filter((f) => set.has(f));
}

export async function deviceProfile(): Promise<DeviceProfile> {
  const [cpu, flags, mem, os] = await Promise.all([si.cpu(), si.cpuFlags(), si.mem(), si.osInfo()]);
  const flagList = flags.split(/\s+/).filter(Boolean);
  const board = readBoardModel();
  return {
    hostname: os.hostname,
    cpu: { manufacturer: cpu.manufacturer, brand: cpu.brand, model: cpu.model, cores: cpu.cores, physicalCores: cpu.physicalCores, speedGHz: cpu.speed, flags: flagList },
    dotProduct: dotProductFlags(flagList),
    memory: { totalMB: Math.round(mem.total / 2 ** 20), availableMB: Math.round(mem.available / 2 ** 20) },
    os: { platform: os.platform, distro: os.distro, release: os.release, kernel: os.kernel, arch: os.arch },
    board,
    boardKind: boardKind(board),
    node: process.version,
    onnxruntime: { version: ORT_VERSION, executionProviders: ort.listSupportedBackends().map((b) => ({ name: b.name, bundled: b.bundled })) },
  };
}
