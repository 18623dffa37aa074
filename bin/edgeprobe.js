#!/usr/bin/env node
// Thin launcher so `npx edgeprobe` works without a build step: tsx loads the TypeScript sources.
import { register } from 'tsx/esm/api';
register();
await import('../cli/main.ts');
