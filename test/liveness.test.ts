/**
 * A sark-migrate that dies (kill -9, a closed terminal, a CI timeout) must not leave its work
 * running in the server, holding locks the application waits on: its backends are gone within
 * seconds. Two ways the tool ensures it, each tested on its own:
 *   - the copy's statements are short (time-bounded batches), so the server notices the closed
 *     socket at the end of the current one;
 *   - every session sets client_connection_check_interval (PostgreSQL 14+), so even a long
 *     statement stops when the client is gone.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../src/commands/seed.ts';
import { GlobalOptions, openContext, type Context } from '../src/context.ts';
import { PROJECT_ROOT } from '../src/db/sqlFiles.ts';
import { schemaUp } from '../src/schema/migrate.ts';
import { freshDatabase, type TestDatabase } from './support/db.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let db: TestDatabase;
let ctx: Context;
beforeAll(async () => {
  db = await freshDatabase('v1');
  // Not the tool's application_name: the backends counted below are the child's only.
  ctx = await openContext(GlobalOptions.parse({}), { ...db.conn, applicationName: 'sark-liveness-test' });
  await db.sql.end(); // its sessions carry the tool's application_name
  await seed(ctx, { servers: 6000, toolsPerServer: 10, dirty: false });
  await schemaUp(ctx, {});
});
afterAll(async () => {
  await ctx?.close();
  await db?.drop();
});

/** Backends of the tool (application_name sark-migrate) on this database, and what they run. */
const toolBackends = () =>
  ctx.sql<{ pid: number; state: string; query: string }[]>`
    select pid, state, left(query, 80) as query from pg_stat_activity
     where datname = current_database() and application_name = 'sark-migrate'`;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms: number): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Seconds until no backend of the tool is left, after the client was killed. */
async function secondsUntilGone(): Promise<number> {
  const killedAt = performance.now();
  await waitFor('the tool\'s backends to end', async () => ((await toolBackends()).length === 0 ? true : undefined), 30_000);
  return (performance.now() - killedAt) / 1000;
}

describe('a killed client leaves nothing running in the server', () => {
  it('data --execute killed with SIGKILL in the middle of the copy: its backends are gone within 10 s', async () => {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin', 'sark-migrate.js'), 'data', '--execute'], {
      env: { ...process.env, DATABASE_URL: db.url, NO_COLOR: '1', CI: '1' },
      stdio: 'ignore',
    });
    await waitFor('a copy batch', async () => ((await toolBackends()).some((b) => /copy_batch/.test(b.query) && b.state === 'active') ? true : undefined), 60_000);
    child.kill('SIGKILL');
    const seconds = await secondsUntilGone();
    console.info(`copy killed mid-batch: the tool's backends were gone ${seconds.toFixed(1)} s later`);
    expect(seconds).toBeLessThan(10);
    // No lock of the tool's is left on this database (other test files run the tool beside it).
    const [left] = await ctx.sql<{ n: number }[]>`
      select count(*)::int as n from pg_locks l join pg_stat_activity a using (pid)
       where a.datname = current_database() and a.application_name = 'sark-migrate'`;
    expect(left!.n).toBe(0);
  });

  it('a long statement of a killed client stops too (client_connection_check_interval, PostgreSQL 14+)', async ({ skip }) => {
    if (ctx.server.serverVersionNum < 140000) skip(); // 13 has no such check: there the bound is the length of each statement
    // A tool session running a statement that would last a minute, then the process killed.
    const script = `
      import { GlobalOptions, openContext, withPoolOf } from '${join(PROJECT_ROOT, 'src', 'context.ts')}';
      import { resolveConnection } from '${join(PROJECT_ROOT, 'src', 'config', 'connection.ts')}';
      const ctx = await openContext(GlobalOptions.parse({}), resolveConnection(process.env.DATABASE_URL));
      const lanes = withPoolOf(ctx, 1);
      await Promise.all([ctx.sql\`select pg_sleep(60)\`, lanes.sql\`select pg_sleep(60)\`]);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, DATABASE_URL: db.url },
      stdio: 'ignore',
    });
    await waitFor('two sleeping statements', async () => ((await toolBackends()).filter((b) => /pg_sleep/.test(b.query) && b.state === 'active').length === 2 ? true : undefined), 30_000);
    child.kill('SIGKILL');
    const seconds = await secondsUntilGone();
    console.info(`pg_sleep(60) of a killed client: gone ${seconds.toFixed(1)} s later`);
    expect(seconds).toBeLessThan(10);
  });
});
