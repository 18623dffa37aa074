import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { cacheDir } from '../../core/paths.ts';

export interface CacheKey { modelSha: string; variant: string; templatesHash: string }

/**
 * Concept embeddings per (model sha256, variant, representation, template set, word) in SQLite under
 * cacheDir(): recomputing them is the slow part of a rerun (one forward pass per word and template),
 * and a content hash as key makes a stale hit impossible when the model or templates change.
 */
export class EmbeddingCache {
  private db: Database.Database;

  constructor(path = cacheDir('properties', 'embeddings.sqlite')) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS concept_embeddings (
      model_sha TEXT NOT NULL, variant TEXT NOT NULL, layer TEXT NOT NULL, templates TEXT NOT NULL,
      word TEXT NOT NULL, dims INTEGER NOT NULL, vector BLOB NOT NULL,
      PRIMARY KEY (model_sha, variant, layer, templates, word))`);
  }

  /** Cached vectors of the words for one representation; missing words are absent from the map. */
  get(key: CacheKey, layer: string, words: readonly string[]): Map<string, Float32Array> {
    const stmt = this.db.prepare('SELECT word, vector FROM concept_embeddings WHERE model_sha = ? AND variant = ? AND layer = ? AND templates = ?');
    const wanted = new Set(words);
    const out = new Map<string, Float32Array>();
    for (const row of stmt.iterate(key.modelSha, key.variant, layer, key.templatesHash) as Iterable<{ word: string; vector: Buffer }>) {
      if (!wanted.has(row.word)) continue;
      const copy = new Uint8Array(row.vector).slice();
      out.set(row.word, new Float32Array(copy.buffer, 0, copy.byteLength / 4));
    }
    return out;
  }

  put(key: CacheKey, layer: string, vectors: Map<string, Float32Array>): void {
    const stmt = this.db.prepare('INSERT OR REPLACE INTO concept_embeddings VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const [word, v] of vectors) stmt.run(key.modelSha, key.variant, layer, key.templatesHash, word, v.length, Buffer.from(v.buffer, v.byteOffset, v.byteLength));
    })();
  }

  close(): void { this.db.close(); }
}
