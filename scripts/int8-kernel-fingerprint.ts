/**
 * Prints a fingerprint of onnxruntime's int8 kernels on this CPU: the int8-dynamic logits of the generated tiny
 * MLM model for one sentence (same files every run, in OUT_DIR). fp32 logits are printed as the control: they
 * must match across CPUs, the int8 ones differ where the kernels do (AVX2 alone vs VNNI vs ARM dot product).
 * scripts/test-avx2-emulated.sh compares the native and the emulated output.
 * Run: npx tsx scripts/int8-kernel-fingerprint.ts OUT_DIR
 */
import { join } from 'node:path';
import { ensureVariants } from '../agent/compress/ensure-variants.ts';
import { loadModelDir } from '../core/model/model-dir.ts';
import { bertFeeds, tensorFloats } from '../core/runtime/encoder-runner.ts';
import { createSession } from '../core/runtime/ort-session.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: int8-kernel-fingerprint.ts OUT_DIR\n');
  process.exit(2);
}
const md = loadModelDir(ensureGeneratedModel('tiny', { dir: join(out, 'tiny-mlm'), overrides: { mlmHead: true } }));
const variants = await ensureVariants(md, ['fp32', 'int8-dynamic'], { outDir: join(out, 'variants') });
const ids = md.tokenizer.encode('the cat sat on the [MASK].').ids;
for (const v of variants) {
  const s = await createSession(v.onnxPath, v.onnxPath);
  const logits = tensorFloats((await s.run(bertFeeds(s.inputNames, [ids], md.tokenizer.padId).feeds)).logits);
  // rounded so float summation order (threads) cannot change the line; kernel rounding changes it far more
  console.log(`${v.name} ${Array.from(logits.subarray(0, 8), (x) => x.toFixed(4)).join(' ')}`);
}
