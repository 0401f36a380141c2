#!/usr/bin/env node
// `npm run build`: compiles the TypeScript CLI into one ES module, dist/cli.js, with its
// dependencies inside. One file starts several times faster than node_modules resolved module by
// module (yargs, zod, postgres.js, pg, node-pg-migrate), which is what keeps `--help` near psql's
// start-up time. Types are checked by `npm run typecheck` (tsc), not here.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
rmSync(join(root, 'dist'), { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'src', 'cli.ts')],
  outfile: join(root, 'dist', 'cli.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  // Smaller to parse at every start; identifiers keep their names for readable stack traces.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'linked',
  // pg's optional native binding, and testcontainers (loaded only where a Docker engine answers,
  // a development dependency) stay outside.
  external: ['pg-native', '@testcontainers/postgresql', 'testcontainers'],
  // Bundled CommonJS dependencies call require(); an ES module has none of its own.
  banner: { js: "import { createRequire as __sarkCreateRequire } from 'node:module';\nconst require = __sarkCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
