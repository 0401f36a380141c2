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
import { rollback } from '../src/data/rollback.ts';
import { seed } from '../src/commands/seed.ts';
import { validate } from '../src/commands/validate.ts';
import type { Context } from '../src/context.ts';
import type { Sql } from '../src/db/connect.ts';
import { schemaUp } from '../src/schema/migrate.ts';
import { readSyncState } from '../src/sync/state.ts';
import { syncCutover, syncRollback } from '../src/sync/sync.ts';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/db/sqlFiles.ts';
import { schemaDown } from '../src/schema/migrate.ts';
import { applyFixture, buildAlembicV1 } from './support/alembic.ts';
import { freshDatabase, psqlFile, runCli, type TestDatabase } from './support/db.ts';
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

/** A v1 database as SARK's Alembic builds it (alembic_version 005_gateway_audit), seeded with dirty rows, at v2. */
async function alembicBuilt(): Promise<{ db: TestDatabase; ctx: Context }> {
  const db = await freshDatabase('empty');
  dbs.push(db);
  await buildAlembicV1(db.sql);
  const ctx = await db.context({ lockTimeout: '1s' });
  await seed(ctx, { servers: 120, toolsPerServer: 3, dirty: true });
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

describe('v1 databases as SARK\'s models and its Alembic build them', () => {
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

  it.each([
    ['built by the models, upper-case labels', () => modelBuilt(true)],
    ['built by SARK\'s Alembic (at 005_gateway_audit)', () => alembicBuilt()],
  ])('%s, dirty rows: copy, cutover, v2 writes, rollback: v1 holds every v2 write in its own labels, nothing unrepresentable, nothing lost', async (_shape, build) => {
    const { db, ctx } = await build();
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
    // The v2 application's MCP servers reached v1 in the labels of this database.
    const [native] = await db.sql<{ n: number; transports: string[] }[]>`
      select count(*)::int as n, array_agg(distinct transport::text order by transport::text) as transports
        from mcp_servers where name like 'native %'`;
    expect(native!.n).toBeGreaterThan(0);
    const [{ enum_labels: labels }] = (await db.sql`select enum_labels from sark_migration.v1_variant`) as unknown as [{ enum_labels: string }];
    expect(native!.transports.every((t) => t === (labels === 'upper' ? t.toUpperCase() : t.toLowerCase()))).toBe(true);
  });
});

describe('SARK\'s own Alembic stays usable', () => {
  it('after a migration, `sark-migrate uninstall` and SARK\'s 007 then 006 downgrade() run cleanly, leaving v1 as it was', async () => {
    const db = await freshDatabase('empty');
    dbs.push(db);
    await buildAlembicV1(db.sql);
    const ctx = await db.context();
    await seed(ctx, { servers: 40, toolsPerServer: 2, dirty: false });
    const v1Before = await db.sql`select count(*)::int as s, (select count(*)::int from mcp_tools) as t from mcp_servers`;
    await schemaUp(ctx, {});
    await executeData(ctx, {});
    expect((await db.sql`select version_num from alembic_version`)[0]).toEqual({ version_num: '007_federation' });
    // Refused while the sync is on: writes would call functions that are gone.
    const refusedRun = runCli(['uninstall'], { DATABASE_URL: db.url });
    expect(refusedRun.status, refusedRun.stderr).toBe(1);
    expect(refusedRun.stderr).toMatch(/sync --disable/);
    expect(runCli(['sync', '--disable'], { DATABASE_URL: db.url }).status).toBe(0);
    const un = runCli(['uninstall', '--json'], { DATABASE_URL: db.url });
    expect(un.status, un.stderr).toBe(0);
    expect(un.json().kept).toEqual([]);
    // SARK's downgrade: plain DROP INDEX / DROP TABLE by SARK's names, no CASCADE.
    psqlFile(db.conn, join(PROJECT_ROOT, 'test', 'fixtures', 'sark_downgrade_007_006.sql'));
    const [left] = await db.sql<{ v2: number; tool: boolean; ledger: boolean; version: string }[]>`
      select (select count(*)::int from pg_class where relname in ('resources', 'capabilities', 'federation_nodes', 'cost_tracking', 'principal_budgets', 'mv_daily_cost_summary')) as v2,
             to_regnamespace('sark_migration') is not null as tool, to_regclass('public.pgmigrations') is not null as ledger,
             (select version_num from alembic_version) as version`;
    expect(left).toEqual({ v2: 0, tool: false, ledger: false, version: '005_gateway_audit' });
    expect(await db.sql`select count(*)::int as s, (select count(*)::int from mcp_tools) as t from mcp_servers`).toEqual(v1Before);
    // ... and this tool adopts it again from there.
    expect((await schemaUp(ctx, {})).adopted.at(-1)).toBe('005_gateway_audit');
  });

  it('schema down --to 005 leaves none of the tool\'s objects, or only its ledger tables with --keep-ledgers', async () => {
    for (const keepLedgers of [false, true]) {
      const db = await freshDatabase('v1');
      dbs.push(db);
      const ctx = await db.context();
      await seed(ctx, { servers: 20, toolsPerServer: 2, dirty: true });
      await schemaUp(ctx, {});
      await executeData(ctx, { sync: false });
      await rollback(ctx);
      const down = await schemaDown(ctx, { to: '005', keepLedgers });
      const [objects] = await db.sql<{ tables: string[]; others: number }[]>`
        select array(select c.relname::text from pg_class c where c.relnamespace = to_regnamespace('sark_migration')
                      and c.relkind = 'r' order by 1) as tables,
               ((select count(*) from pg_class c where c.relnamespace = to_regnamespace('sark_migration') and c.relkind in ('v', 'm'))
                + (select count(*) from pg_proc p where p.pronamespace = to_regnamespace('sark_migration')))::int as others`;
      expect(objects!.others).toBe(0);
      if (keepLedgers) {
        expect(objects!.tables).toEqual(expect.arrayContaining(['applied_files', 'copy_progress', 'preexisting_rows', 'quarantine', 'runs']));
        expect(down.tool!.kept).toEqual(expect.arrayContaining(['sark_migration.quarantine']));
      } else {
        expect((await db.sql`select to_regnamespace('sark_migration') as n`)[0]).toEqual({ n: null });
        expect(down.tool!.kept.filter((k) => k.startsWith('sark_migration.'))).toEqual([]);
      }
      // Up again works either way.
      await schemaUp(ctx, {});
    }
  });
});

describe('a v1 database on which SARK\'s newer application has started (empty v2 tables from create_all)', () => {
  async function appStarted(o: { dirty?: boolean } = {}): Promise<{ db: TestDatabase; ctx: Context }> {
    const db = await freshDatabase('empty');
    dbs.push(db);
    await buildAlembicV1(db.sql);
    const ctx = await db.context({ lockTimeout: '1s' });
    await seed(ctx, { servers: 60, toolsPerServer: 3, dirty: o.dirty ?? true });
    await applyFixture(db.sql, 'app_created_v2.sql');
    return { db, ctx };
  }
  const grants = (sql: Sql) =>
    sql<{ t: string; p: string }[]>`
      select table_name::text as t, string_agg(privilege_type, ',' order by privilege_type) as p
        from information_schema.role_table_grants where grantee = 'sark_app' group by 1 order by 1`;

  it('preflight says schema up takes them over; schema up does, with 006/007\'s constraints and indexes, their privileges kept', async () => {
    const { db, ctx } = await appStarted();
    const before = await grants(db.sql);
    const pre = runCli(['preflight', '--json'], { DATABASE_URL: db.url });
    const v2check = pre.json().checks.find((c: { name: string }) => c.name === 'prerequisites.v2_tables');
    expect(v2check).toMatchObject({ severity: 'info', message: expect.stringMatching(/takes them over/) });
    const up = await schemaUp(ctx, {});
    expect(up.taken_over).toEqual(['capabilities', 'cost_tracking', 'federation_nodes', 'principal_budgets', 'resources']);
    expect(up.to).toBe('007_federation');
    expect(await grants(db.sql)).toEqual(before);
    expect((await db.sql`select has_sequence_privilege('sark_app', 'public.cost_tracking_id_seq', 'USAGE') as ok`)[0]).toEqual({ ok: true });
    const schema = await validate(ctx, 'schema');
    expect(schema.issues.filter((i) => i.severity === 'error' || i.severity === 'critical')).toEqual([]);
    const [rec] = await db.sql<{ n: number }[]>`select count(*)::int as n from sark_migration.taken_over_v2_tables where restored_at is not null`;
    expect(rec!.n).toBe(5);
  });

  it('refuses, with the exact difference and before changing anything, a table that holds rows or has another shape; preflight says the same', async () => {
    const { db, ctx } = await appStarted({ dirty: false });
    await db.sql`insert into federation_nodes (id, node_id, name, endpoint, trust_anchor_cert, enabled, trusted_since, metadata, created_at, updated_at)
                 values (gen_random_uuid(), 'peer-1', 'peer', 'https://peer', 'pem', true, now(), '{}', now(), now())`;
    await db.sql`alter table principal_budgets alter column currency type varchar(8)`;
    const pre = runCli(['preflight', '--json'], { DATABASE_URL: db.url });
    expect(pre.status).toBe(1);
    const v2check = pre.json().checks.find((c: { name: string }) => c.name === 'prerequisites.v2_tables');
    expect(v2check.severity).toBe('blocker');
    expect(v2check.message).toMatch(/federation_nodes holds rows/);
    expect(v2check.message).toMatch(/principal_budgets\.currency is character varying\(8\), 006\/007 make it character varying\(3\)/);
    const up = runCli(['schema', 'up'], { DATABASE_URL: db.url });
    expect(up.status).toBe(1);
    expect(up.stderr).toMatch(/federation_nodes holds rows/);
    expect((await db.sql`select count(*)::int as n from federation_nodes`)[0]).toEqual({ n: 1 });
    expect((await db.sql`select to_regclass('public.resources') is not null as ok`)[0]).toEqual({ ok: true });
    await ctx.close();
  });

  it('the whole pipeline with dirty rows: copy, validate --full, cutover, v2 writes, rollback to v1, nothing lost', async () => {
    const { db, ctx } = await appStarted();
    await schemaUp(ctx, {});
    await ensureMapping(db.sql);
    await executeData(ctx, {});
    const full = await validate(ctx, 'full');
    expect(full.issues.filter((i) => i.severity === 'error' || i.severity === 'critical')).toEqual([]);
    await syncCutover(ctx);
    expect((await startV2Writer(db.conn, { maxOps: 100, seed: 41 }).done).errors).toEqual([]);
    await syncRollback(ctx);
    const state = await readSyncState(db.sql);
    expect(state.failures.open).toBe(0);
    const d = await differences(db.sql);
    expect(d, JSON.stringify(d.sample)).toMatchObject(NO_DIFFERENCES);
  });
});

describe('rows the v2 application creates with SARK\'s own ids', () => {
  it('reach v1 after the cutover under a name-based uuid, output_schema in extra_metadata._v2, and come back to the same v2 rows', async () => {
    const db = await freshDatabase('empty');
    dbs.push(db);
    await buildAlembicV1(db.sql);
    const ctx = await db.context({ lockTimeout: '1s' });
    await seed(ctx, { servers: 20, toolsPerServer: 2, dirty: false });
    await schemaUp(ctx, {});
    await executeData(ctx, {});
    await syncCutover(ctx);
    // As SARK's MCP adapter registers a server and its tool.
    const rid = 'mcp-stdio-d7aaf3bd';
    const cid = `${rid}-search`;
    const output = { type: 'object', properties: { hits: { type: 'array' } } };
    await db.sql`insert into resources (id, name, protocol, endpoint, sensitivity_level, metadata)
                 values (${rid}, 'search', 'mcp', 'npx -y @acme/search-mcp', 'medium', ${db.sql.json({ transport: 'stdio', status: 'active' })})`;
    await db.sql`insert into capabilities (id, resource_id, name, description, input_schema, output_schema, sensitivity_level, metadata)
                 values (${cid}, ${rid}, 'search', 'find things', ${db.sql.json({ type: 'object' })}, ${db.sql.json(output)}, 'low', '{}')`;
    const state = await readSyncState(db.sql);
    expect(state.unrepresentable.by_reason).toEqual([]);
    const [v1] = await db.sql<{ server: string; command: string; tool_server: string; extra: { _v2: { output_schema: unknown } } }[]>`
      select s.id::text as server, s.command, t.server_id::text as tool_server, t.extra_metadata as extra
        from mcp_servers s join mcp_tools t on t.server_id = s.id
       where s.id = sark_migration.v1_id(${rid})`;
    expect(v1).toMatchObject({ command: 'npx -y @acme/search-mcp', extra: { _v2: { output_schema: output } } });
    expect(v1!.server).toBe(v1!.tool_server);
    expect((await db.sql`select target_table, v2_id from sark_migration.id_map order by 1`).map((r) => [r.target_table, r.v2_id])).toEqual([
      ['capabilities', cid],
      ['resources', rid],
    ]);

    // A gRPC service v1 cannot hold: the rollback says so, instead of "every write".
    await db.sql`insert into resources (id, name, protocol, endpoint, sensitivity_level, metadata)
                 values ('grpc-inventory', 'inventory', 'grpc', 'grpc://inventory:50051', 'low', '{}')`;
    // Back to v1 (the application rolls back): nothing else is lost ...
    const back = await syncRollback(ctx);
    expect(back.notes.join(' ')).toMatch(/except 1 row\(s\) v1 cannot represent, which exist in v2 only: 1 resources \(not_mcp\)/);
    expect(await differences(db.sql)).toMatchObject(NO_DIFFERENCES);
    // ... and the v1 application's later writes reach the same v2 rows, not new ones.
    await db.sql`update mcp_servers set description = 'described in v1' where id = sark_migration.v1_id(${rid})`;
    await db.sql`update mcp_tools set description = 'found in v1' where id = sark_migration.v1_id(${cid})`;
    const [v2] = await db.sql<{ n: number; description: string; tool: string; output: unknown }[]>`
      select (select count(*)::int from resources where id = sark_migration.v1_id(${rid})::text) as n,
             (select metadata ->> 'description' from resources where id = ${rid}) as description,
             (select description from capabilities where id = ${cid}) as tool,
             (select output_schema from capabilities where id = ${cid}) as output`;
    expect(v2).toEqual({ n: 0, description: 'described in v1', tool: 'found in v1', output });
    expect((await readSyncState(db.sql)).failures.open).toBe(0);
    expect(await differences(db.sql)).toMatchObject(NO_DIFFERENCES);
    const full = await validate(ctx, 'full');
    expect(full.issues.filter((i) => i.severity === 'error' || i.severity === 'critical')).toEqual([]);
  });
});
