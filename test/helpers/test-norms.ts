import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Two small feature-norm sets in the generic CSV format (concept, feature, value, category), written for the
 * test from the demo vocabulary: one sparse (features listed per concept, scored with F1@10) and one dense
 * (ratings on every attribute, scored with Spearman), so the properties view gets both kinds of table row.
 */
export function writeTestNorms(dir: string): { sparse: string; dense: string } {
  const groups: Record<string, string[]> = {
    animal: ['cat', 'dog', 'bird', 'fish', 'horse', 'cow', 'sheep', 'pig', 'mouse', 'lion', 'tiger', 'bear', 'wolf', 'fox', 'rabbit', 'duck'],
    food: ['apple', 'banana', 'orange', 'grape', 'lemon', 'cherry', 'peach', 'pear', 'carrot', 'potato', 'onion', 'tomato', 'bread', 'cheese', 'milk', 'egg'],
    object: ['chair', 'table', 'desk', 'lamp', 'clock', 'mirror', 'cup', 'plate', 'bowl', 'knife', 'fork', 'spoon', 'door', 'window', 'bed', 'box'],
  };
  const feats: Record<string, string[]> = { animal: ['is_alive', 'has_legs', 'eats', 'makes_sounds'], food: ['is_edible', 'tastes', 'grows', 'is_sweet'], object: ['is_made', 'has_parts', 'is_used', 'is_hard'] };
  const sparse = ['concept,feature,value,category'];
  const dense = ['concept,feature,value,category'];
  const all = Object.values(feats).flat();
  for (const [cat, words] of Object.entries(groups)) {
    words.forEach((w, i) => {
      feats[cat].forEach((f, j) => { if ((i + j) % 4 !== 3) sparse.push(`${w},${f},${10 + ((i * 7 + j * 3) % 20)},${cat}`); });
      all.forEach((f, j) => dense.push(`${w},${f},${(feats[cat].includes(f) ? 4 : 1) + ((i + j) % 3) * 0.5},${cat}`));
    });
  }
  const paths = { sparse: join(dir, 'test-features.csv'), dense: join(dir, 'test-ratings.csv') };
  writeFileSync(paths.sparse, `${sparse.join('\n')}\n`);
  writeFileSync(paths.dense, `${dense.join('\n')}\n`);
  return paths;
}

