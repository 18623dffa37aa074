import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** ../shared beside the project, or EDGEPROBE_SHARED; tests that need it skip with a reason when absent. */
export const SHARED_DIR = process.env.EDGEPROBE_SHARED ?? resolve(PROJECT_ROOT, '..', 'shared');
export const SHARED_MODEL = join(SHARED_DIR, 'models', 'wordnet-bert-small');
export const SHARED_MLM_MODEL = join(SHARED_MODEL, 'mlm');
export const SHARED_NORMS = join(SHARED_DIR, 'norms');
export const HAVE_SHARED = existsSync(join(SHARED_MODEL, 'model.onnx'));
/** `skip` option for node:test when the shared data is not beside the project */
export const needsShared = HAVE_SHARED ? false : `needs ${SHARED_MODEL} (set EDGEPROBE_SHARED)`;
