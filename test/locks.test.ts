/**
 * sark_migration.lock_tables (sql/tool/002): the tool's multi-table locks never wait while holding
 * a lock, so the application's transaction is never the one a deadlock cancels. The scenario is
 * the one seen on PostgreSQL 13 under load: the application holds mcp_tools and then writes
 * mcp_servers while `sync --enable` locks both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installDefinitions } from '../src/db/definitions.ts';
import { openSql, type Sql } from '../src/db/connect.ts';
import { toSarkError } from '../src/errors.ts';
import { freshDatabase, type TestDatabase } from './support/db.ts';

let db: TestDatabase;
let app: Sql;
let tool: Sql;

beforeAll(async () => {
  db = await freshDatabase('v1');
  await installDefinitions(db.sql);
  // Long enough that, with a plain LOCK TABLE, both sessions would be waiting when it fires.
  app = openSql(db.conn, { deadlock_timeout: '300ms', lock_timeout: '0' }, 1);
  tool = openSql(db.conn, { deadlock_timeout: '300ms', lock_timeout: '5s' }, 1);
});
afterAll(async () => {
  await app?.end();
  await tool?.end();
  await db?.drop();
});

describe('lock_tables', () => {
  it('takes the first table waiting and the rest NOWAIT: busy -> 55P03 at once, the application write goes on', async () => {
    const [server] = await db.sql<{ id: string }[]>`insert into mcp_servers (id, name, transport, endpoint, sensitivity_level, status, created_at, updated_at) values (gen_random_uuid(), 'lock-test', 'http', 'http://x', 'low', 'active', now(), now()) returning id::text`;
    let toolError: (Error & { code?: string }) | undefined;
    let toolMs = 0;
    await app.begin(async (tx) => {
      // The application holds mcp_tools (RowExclusiveLock) ...
      await tx`delete from mcp_tools where false`;
      const t = performance.now();
      await tool`select sark_migration.lock_tables('{public.mcp_servers,public.mcp_tools}', 'SHARE ROW EXCLUSIVE')`.catch((e) => (toolError = e));
      toolMs = performance.now() - t;
      // ... and then writes mcp_servers: with `LOCK TABLE mcp_servers, mcp_tools` waiting on the
      // other session, this would close a cycle.
      await tx`update mcp_servers set description = 'written' where id = ${server!.id}::uuid`;
    });
    expect(toolError?.code).toBe('55P03');
    expect(toolMs).toBeLessThan(1000);
    // The operator is told where it gave up: the statement, the function and its line.
    expect(toSarkError(toolError, 'db').message).toMatch(
      /^Gave up waiting for a lock: could not obtain lock on relation "mcp_tools" \(in: select sark_migration\.lock_tables\(.* → PL\/pgSQL function sark_migration\.lock_tables\(regclass\[\],text\) line \d+ at EXECUTE → SQL statement "LOCK TABLE mcp_tools IN SHARE ROW EXCLUSIVE MODE NOWAIT"\)\.$/,
    );
    const [row] = await db.sql<{ description: string }[]>`select description from mcp_servers where id = ${server!.id}::uuid`;
    expect(row!.description).toBe('written');
    // Free, it takes them all.
    await tool.begin(async (tx) => {
      await tx`select sark_migration.lock_tables('{public.mcp_servers,public.mcp_tools}', 'SHARE ROW EXCLUSIVE')`;
      const locks = await tx<{ relname: string }[]>`
        select c.relname from pg_locks l join pg_class c on c.oid = l.relation
         where l.pid = pg_backend_pid() and l.mode = 'ShareRowExclusiveLock' order by 1`;
      expect(locks.map((l) => l.relname)).toEqual(['mcp_servers', 'mcp_tools']);
    });
  });

  it('refuses a lock mode it does not know', async () => {
    await expect(db.sql`select sark_migration.lock_tables('{public.mcp_servers}', 'ROW SHARE; drop table x')`).rejects.toThrow(/unsupported lock mode/);
  });
});
