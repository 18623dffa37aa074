import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where edgeprobe keeps what it derives (compressed variants, embedding caches, downloaded models).
 * Model directories may be read-only (a mounted share, a package), so nothing is written beside them.
 */
export function cacheDir(...parts: string[]): string {
  return join(process.env.EDGEPROBE_CACHE ?? join(homedir(), '.cache', 'edgeprobe'), ...parts);
}
