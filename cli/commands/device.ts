import type { Argv } from 'yargs';
import { emitResult } from '../output.ts';

export function deviceCommand(y: Argv): Argv {
  return y.command('device', 'profile this device: CPU, dot-product instructions, memory, OS, board, onnxruntime providers', (c) => c, async (args) => {
    // loaded here: systeminformation and onnxruntime stay out of every other command (notably the agent)
    const { deviceProfile } = await import('../../agent/device-profile.ts');
    const p = await deviceProfile();
    emitResult({ json: args.json as boolean }, p, () => [
      `${p.hostname}${p.board ? `  (${p.board})` : ''}`,
      `cpu: ${p.cpu.manufacturer} ${p.cpu.brand}, ${p.cpu.cores} cores (${p.cpu.physicalCores} physical), ${p.os.arch}`,
      `int8 dot-product instructions: ${p.dotProduct.length > 0 ? p.dotProduct.join(', ') : 'none (int8 matmuls will gain little)'}`,
      `memory: ${p.memory.totalMB} MB total, ${p.memory.availableMB} MB available`,
      `os: ${p.os.distro} ${p.os.release}, kernel ${p.os.kernel}; node ${p.node}`,
      `onnxruntime ${p.onnxruntime.version}: ${p.onnxruntime.executionProviders.map((e) => `${e.name}${e.bundled ? '' : ' (not bundled: needs a separate install)'}`).join(', ')}`,
    ].join('\n'));
  });
}
