import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, release } from 'node:os';
import type { SoftwareFingerprint } from '../../core/results/probe-record.ts';
import { AGENT_VERSION } from './device-info.ts';

let cached: SoftwareFingerprint | undefined;

/** PRETTY_NAME of os-release(5), the one file every current Linux distribution has. */
export function osName(osRelease = '/etc/os-release'): string {
  try {
    const m = /^PRETTY_NAME=("?)(.*)\1$/m.exec(readFileSync(osRelease, 'utf8'));
    if (m?.[2]) return m[2].slice(0, 256);
  } catch { /* not Linux, or no os-release */ }
  return process.platform;
}

/** The agent's software, stamped on every record it sends (read once: none of it changes while the agent runs). */
export function softwareFingerprint(): SoftwareFingerprint {
  if (cached) return cached;
  let onnxruntime = 'unknown';
  try { onnxruntime = (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version; } catch { /* kept 'unknown' */ }
  cached = { edgeprobe: AGENT_VERSION, onnxruntime, node: process.version, os: osName(), kernel: release().slice(0, 256), arch: arch() };
  return cached;
}
