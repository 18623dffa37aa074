// Worker entry: registers tsx (the CLI launcher registers it in the main thread only, and a worker
// thread starts with its own module loader), then loads the TypeScript worker.
import { register } from 'tsx/esm/api';
register();
await import('./layer-worker.ts');
