import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError } from '../core/errors.ts';
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
  if (!/^[0-9a-f]{64}$/.test(want)) throw new UserError(`--sha256 "${expectedSha256}" is not a sha256 hex digest`, 'pass the 64 hex characters published with the model');
  let parsed: URL;
  try { parsed = new URL(url); } catch { throw new UserError(`"${url}" is not a URL`, 'pass an http(s) URL of the model file or archive'); }
  if (!['http:', 'https:'].includes(parsed.protocol)) throw new UserError(`unsupported URL scheme ${parsed.protocol} in ${url}`, 'use an http:// or https:// URL');
  const dir = opts.dir ?? cacheDir('models', want.slice(0, 16));
  mkdirSync(dir, { recursive: true });
  const name = basename(parsed.pathname) || 'model.onnx';
  const path = join(dir, name);
  let res: Response;
  try { res = await fetch(url); } catch (err) {
    throw new UserError(`could not download ${url}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`, 'check the URL and the network connection');
  }
  if (!res.ok || !res.body) throw new UserError(`download of ${url} failed: HTTP ${res.status} ${res.statusText}`, 'check the URL');
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
    throw new UserError(`sha256 mismatch for ${url}: expected ${want}, got ${got}; the download was deleted`, 'check that --sha256 is the checksum published for this exact file, or that the URL points at the right version');
  }
  renameSync(tmp, path);
  const result: FetchResult = { url, sha256: got, bytes, path };
  if (ARCHIVE.test(name)) {
    const out = join(dir, name.replace(ARCHIVE, ''));
    mkdirSync(out, { recursive: true });
    const r = spawnSync('tar', ['-xf', path, '-C', out], { encoding: 'utf8' });
    if (r.status !== 0) throw new UserError(`could not unpack ${path}: ${(r.stderr || r.error?.message || '').trim()}`, 'the archive is damaged, or `tar` is not installed');
    result.extractedTo = out;
  }
  return result;
}

