/**
 * The databases SARK's own code makes (sark-schema.md): built by Alembic (lower-case enum labels,
 * parameters_schema), built by the application's models (upper-case labels such as 'HTTP' and
 * 'MEDIUM', `parameters`, json columns), and v1 databases on which the newer application already
 * created empty v2 tables. Each migrates losslessly through the whole pipeline (schema up, copy,
 * validate --full, cutover, v2 writes, rollback to v1), with dirty rows, and v2 holds what SARK's
 * v2 code reads (lower-case values), while everything written back to v1 uses v1's own labels.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { executeData } from '../src/commands/data.ts';
import { seed } from '../src/commands/seed.ts';
import { validate } from '../src/commands/validate.ts';
import type { Context } from '../src/context.ts';
import type { Sql } from '../src/db/connect.ts';
import { schemaUp } from '../src/schema/migrate.ts';
import { readSyncState } from '../src/sync/state.ts';
import { syncCutover, syncRollback } from '../src/sync/sync.ts';
import { applyFixture } from './support/alembic.ts';
import { freshDatabase, type TestDatabase } from './support/db.ts';
import { differences, ensureMapping, NO_DIFFERENCES, startV1Writer, startV2Writer } from './support/writer.ts';

const dbs: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(dbs.splice(0).map((d) => d.drop()));
});

/** A model-built v1 database with the same seeded rows as any other; `upper`: its labels as the models make them. */
async function modelBuilt(upper: boolean): Promise<{ db: TestDatabase; ctx: Context }> {
  const db = await freshDatabase('v1');
  dbs.push(db);
  await applyFixture(db.sql, 'model_v1.sql');
  const ctx = await db.context({ lockTimeout: '1s' });
  await seed(ctx, { servers: 120, toolsPerServer: 3, dirty: true });
  if (upper) await applyFixture(db.sql, 'model_enum_labels.sql'); // relabels the seeded rows too
  await schemaUp(ctx, {});
  await ensureMapping(db.sql);
  return { db, ctx };
}

const v2Rows = (sql: Sql) =>
  sql<{ t: string; id: string; row: string }[]>`
    select 'resources' as t, id, to_jsonb(r)::text as row from resources r
    union all select 'capabilities', id, to_jsonb(c)::text from capabilities c order by 1, 2`;

const quarantine = (sql: Sql) =>
  sql<{ reason: string; n: number }[]>`select reason, count(*)::int as n from sark_migration.quarantine group by 1 order by 1`;

describe('a v1 database built by SARK\'s models (upper-case enum labels)', () => {
  it('migrates exactly as the same rows with lower-case labels: the same v2 rows, the same quarantine, validate --full passes', async () => {
    const upper = await modelBuilt(true);
    const lower = await modelBuilt(false);
    expect((await upper.db.sql`select enum_labels from sark_migration.v1_variant`)[0]).toEqual({ enum_labels: 'upper' });
    expect((await upper.db.sql`select transport::text as t from mcp_servers order by id limit 1`)[0]!.t).toMatch(/^[A-Z]+$/);
    await executeData(upper.ctx, {});
    await executeData(lower.ctx, {});
    // Not one STDIO server held back for a case-sensitive comparison, not one CHECK violated.
    expect(await quarantine(upper.db.sql)).toEqual(await quarantine(lower.db.sql));
    expect(await v2Rows(upper.db.sql)).toEqual(await v2Rows(lower.db.sql));
    const [v2] = await upper.db.sql<{ transports: string[]; levels: string[]; statuses: string[] }[]>`
      select array(select distinct metadata ->> 'transport' from resources order by 1) as transports,
             array(select distinct sensitivity_level from capabilities order by 1) as levels,
             array(select distinct metadata ->> 'status' from resources order by 1) as statuses`;
    expect(v2!.transports).toEqual(['http', 'sse', 'stdio']);
    expect(v2!.levels).toEqual(['critical', 'high', 'low', 'medium']);
    expect(v2!.statuses.every((s) => s === s.toLowerCase())).toBe(true);
    const full = await validate(upper.ctx, 'full');
    expect(full.issues.filter((i) => i.severity === 'error' || i.severity === 'critical')).toEqual([]);
  });

  it('cutover, v2 writes, rollback: v1 holds every v2 write in its own labels, nothing unrepresentable, nothing lost', async () => {
    const { db, ctx } = await modelBuilt(true);
    await executeData(ctx, {});
    // The v1 application (writing 'HTTP', 'MEDIUM', ...) while syncing, then the v2 one after the cutover.
    const v1app = await startV1Writer(db.conn, { maxOps: 120, seed: 31 }).done;
    expect(v1app.errors).toEqual([]);
    await syncCutover(ctx);
    const v2app = await startV2Writer(db.conn, { maxOps: 150, seed: 32 }).done;
    expect(v2app.errors).toEqual([]);
    await syncRollback(ctx);
    const state = await readSyncState(db.sql);
    expect(state.failures.open).toBe(0);
    expect(state.unrepresentable.by_reason).toEqual([]);
    const d = await differences(db.sql);
    expect(d, JSON.stringify(d.sample)).toMatchObject(NO_DIFFERENCES);
    // The v2 application's MCP servers reached v1 with v1's labels.
    const [native] = await db.sql<{ n: number; transports: string[] }[]>`
      select count(*)::int as n, array_agg(distinct transport::text order by transport::text) as transports
        from mcp_servers where name like 'native %'`;
    expect(native!.n).toBeGreaterThan(0);
    expect(native!.transports.every((t) => t === t.toUpperCase())).toBe(true);
  });
});
