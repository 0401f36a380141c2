/**
 * `make pgtap`: builds a database through every state the suites describe and runs pg_prove on
 * each state's suites — the same .sql files CI users point pg_prove at on their own databases.
 *
 *   v1 (schema up --to 005)                 → pgtap/01-*.sql
 *   v2 (schema up)                          → pgtap/02-*.sql
 *   migrated (seed clean + dirty, data copy) → pgtap/02-*.sql, pgtap/1*.sql, pgtap/2*.sql
 *   optimized (optimize --optimize)         → the same again
 *   back at v1 (rollback, schema down --to 005) → pgtap/01-*.sql again
 * Every suite a user may run on a migrated database holds in each state they may run it in.
 *
 * Prints per-file results and writes reports/pgtap.json with the passed/failed assertion counts.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { libpqEnv, type ConnectionSettings } from '../../src/config/connection.ts';
import { GlobalOptions, openContext, type Context } from '../../src/context.ts';
import { PROJECT_ROOT } from '../../src/db/sqlFiles.ts';
import { createDatabase, dropDatabase, startThrowawayServer } from '../../src/db/throwaway.ts';
import { output } from '../../src/output.ts';
import { schemaDown, schemaUp } from '../../src/schema/migrate.ts';
import { seed } from '../../src/commands/seed.ts';
import { stages as dataStages } from './stages.ts';

const PGTAP_DIR = join(PROJECT_ROOT, 'pgtap');
const suites = (pattern: RegExp) => readdirSync(PGTAP_DIR).filter((f) => pattern.test(f)).sort().map((f) => join(PGTAP_DIR, f));

interface Tally {
  passed: number;
  failed: number;
  files: { stage: string; file: string; passed: number; failed: number; ok: boolean }[];
}

function prove(conn: ConnectionSettings, stage: string, files: string[], tally: Tally) {
  for (const file of files) {
    const r = spawnSync('pg_prove', ['--verbose', '--ext', '.sql', file], { encoding: 'utf8', env: { ...process.env, ...libpqEnv(conn) } });
    if (r.error) throw new Error(`pg_prove could not run (${r.error.message}); run \`make setup\` to install it.`);
    const out = `${r.stdout}${r.stderr}`;
    const passed = (out.match(/^\s*ok \d+/gm) ?? []).length;
    let failed = (out.match(/^\s*not ok \d+/gm) ?? []).length;
    if (r.status !== 0 && failed === 0) failed = 1; // died before or beyond its plan
    tally.passed += passed;
    tally.failed += failed;
    tally.files.push({ stage, file: file.replace(`${PROJECT_ROOT}/`, ''), passed, failed, ok: r.status === 0 });
    process.stdout.write(`${r.status === 0 ? 'ok  ' : 'FAIL'} [${stage}] ${file.replace(`${PROJECT_ROOT}/`, '')}: ${passed} passed, ${failed} failed\n`);
    if (r.status !== 0) process.stdout.write(out.split('\n').filter((l) => /not ok|#|Dubious|Bad plan|ERROR/.test(l)).slice(0, 40).join('\n') + '\n');
  }
}

async function main() {
  output.quiet = !process.env.SARK_DEBUG;
  const tally: Tally = { passed: 0, failed: 0, files: [] };
  const server = await startThrowawayServer();
  const name = `sark_pgtap_${process.pid}`;
  try {
    const conn = await createDatabase(server, name);
    const ctx: Context = await openContext(GlobalOptions.parse({}), conn);
    try {
      await schemaUp(ctx, { to: '005' });
      prove(conn, 'v1', suites(/^01-.*\.sql$/), tally);
      await schemaUp(ctx, {});
      prove(conn, 'v2', suites(/^02-.*\.sql$/), tally);
      await seed(ctx, { servers: 300, toolsPerServer: 4, dirty: true });
      await dataStages.migrate(ctx);
      prove(conn, 'migrated', suites(/^(02|[1-9]\d)-.*\.sql$/), tally);
      await dataStages.optimize(ctx);
      prove(conn, 'optimized', suites(/^(02|[1-9]\d)-.*\.sql$/), tally);
      await dataStages.rollback(ctx);
      await schemaDown(ctx, { to: '005' });
      prove(conn, 'back at v1', suites(/^01-.*\.sql$/), tally);
    } finally {
      await ctx.close();
    }
  } catch (e) {
    tally.failed += 1;
    process.stdout.write(`FAIL pgTAP harness: ${e instanceof Error ? (process.env.SARK_DEBUG ? `${e.stack} ${JSON.stringify({ ...e, query: (e as { query?: string }).query?.slice(0, 300) })}` : e.message) : String(e)}\n`);
  } finally {
    await dropDatabase(server, name).catch(() => {});
    await server.stop();
  }
  mkdirSync(join(PROJECT_ROOT, 'reports'), { recursive: true });
  writeFileSync(process.env.PGTAP_REPORT || join(PROJECT_ROOT, 'reports', 'pgtap.json'), JSON.stringify(tally, null, 2));
  process.stdout.write(`pgTAP: ${tally.passed} passed, ${tally.failed} failed\n`);
  process.exitCode = tally.failed === 0 ? 0 : 1;
}

await main();
