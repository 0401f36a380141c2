#!/usr/bin/env node
// Entry point. An installed package runs the compiled dist/cli.js (`npm run build`). A checkout
// with its development dependencies runs the TypeScript sources through tsx, so an edit takes
// effect without a build and a stale dist/ is never what you test.
import { existsSync } from 'node:fs';

const sources = new URL('../src/cli.ts', import.meta.url);
let tsx;
if (existsSync(sources)) {
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    // no development dependencies: run what was built
  }
}
if (tsx) {
  tsx.register();
  await import(sources.href);
} else {
  await import('../dist/cli.js');
}
