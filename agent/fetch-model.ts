import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { epError } from '../core/errors.ts';
import { cacheDir } from '../core/paths.ts';
import type { Progress } from '../core/progress.ts';

export interface FetchResult { url: string; sha256: string; bytes: number; path: string; extractedTo?: string }

const ARCHIVE = /\.(tar\.gz|tgz|tar)$/i;

/**
 * Downloads a published model file or .tar.gz/.tgz/.tar archive, checking its sha256 while it streams.
 * A mismatch deletes the download and is refused: a model that is not the one the fleet agreed on would
 * make every later comparison meaningless. Archives are unpacked with the system `tar`.
 */
export async function fetchModel(url: string, expectedSha256: string, opts: { dir?: string; progress?: Progress } = {}): Promise<FetchResult> {
  const want = expectedSha256.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(want)) throw epError('EP_FETCH_SHA256_INVALID', { sha256: expectedSha256 });
  let parsed: URL;
  try { parsed = new URL(url); } catch { throw epError('EP_FETCH_URL_INVALID', { url }); }
  if (!['http:', 'https:'].includes(parsed.protocol)) throw epError('EP_FETCH_URL_SCHEME', { scheme: parsed.protocol, url });
  const dir = opts.dir ?? cacheDir('models', want.slice(0, 16));
  mkdirSync(dir, { recursive: true });
  const name = basename(parsed.pathname) || 'model.onnx';
  const path = join(dir, name);
  let res: Response;
  try { res = await fetch(url); } catch (err) {
    throw epError('EP_FETCH_UNREACHABLE', { url, reason: (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message });
  }
  if (!res.ok || !res.body) throw epError('EP_FETCH_HTTP', { url, status: res.status, statusText: res.statusText });
  const total = Number(res.headers.get('content-length') ?? 0);
  const hash = createHash('sha256');
  const tmp = `${path}.part`;
  const file = createWriteStream(tmp);
  let bytes = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    bytes += chunk.byteLength;
    if (!file.write(chunk)) await new Promise<void>((r) => file.once('drain', () => r()));
    if (total > 0) opts.progress?.step('download', bytes, total, name);
  }
  await new Promise<void>((resolve, reject) => file.end((err?: Error | null) => (err ? reject(err) : resolve())));
  const got = hash.digest('hex');
  if (got !== want) {
    rmSync(tmp, { force: true });
    throw epError('EP_FETCH_SHA256_MISMATCH', { url, expected: want, actual: got });
  }
  renameSync(tmp, path);
  const result: FetchResult = { url, sha256: got, bytes, path };
  if (ARCHIVE.test(name)) {
    const out = join(dir, name.replace(ARCHIVE, ''));
    mkdirSync(out, { recursive: true });
    const r = spawnSync('tar', ['-xf', path, '-C', out], { encoding: 'utf8' });
    if (r.status !== 0) throw epError('EP_FETCH_UNPACK_FAILED', { file: path, reason: (r.stderr || r.error?.message || '').trim() });
    result.extractedTo = out;
  }
  return result;
}

