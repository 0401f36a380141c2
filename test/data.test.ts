/**
 * Phase 2, the data migration, as the runbook promises it: lossless, idempotent, resumable after
 * kill -9, honest about dirty data, and a rollback that touches only what it wrote.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { executeData } from '../src/commands/data.ts';
import { seed } from '../src/commands/seed.ts';
import type { Context } from '../src/context.ts';
import type { Sql } from '../src/db/connect.ts';
import { installDefinitions } from '../src/db/definitions.ts';
import { PROJECT_ROOT } from '../src/db/sqlFiles.ts';
import { copyData } from '../src/data/copy.ts';
import { planData } from '../src/data/plan.ts';
import { rollback } from '../src/data/rollback.ts';
import { schemaUp } from '../src/schema/migrate.ts';
import { applyFixture, buildWithoutLedger } from './support/alembic.ts';
import { catalogSnapshot } from './support/catalog.ts';
import { freshDatabase, runCli, type TestDatabase } from './support/db.ts';

let db: TestDatabase | undefined;
afterEach(async () => {
  await db?.drop();
  db = undefined;
});

async function seeded(o: { servers: number; tools: number; dirty?: boolean }): Promise<{ db: TestDatabase; ctx: Context }> {
  db = await freshDatabase('v1');
  const ctx = await db.context();
  await seed(ctx, { servers: o.servers, toolsPerServer: o.tools, dirty: o.dirty ?? false });
  await schemaUp(ctx, {});
  return { db, ctx };
}

/** Both directions of "the inverse mapping rebuilds every v1 row", over rows not quarantined. */
async function inverseDifferences(sql: Sql): Promise<{ servers: number; tools: number }> {
  const [row] = await sql<{ servers: number; tools: number }[]>`
    with s1 as (select * from sark_migration.v1_servers s
                 where not exists (select 1 from sark_migration.quarantine q where q.source_table = 'mcp_servers' and q.source_id = s.id)),
         t1 as (select * from sark_migration.v1_tools t
                 where not exists (select 1 from sark_migration.quarantine q where q.source_table = 'mcp_tools' and q.source_id = t.id))
    select (select count(*) from ((select * from s1 except select * from sark_migration.v1_servers_rebuilt)
                                  union all (select * from sark_migration.v1_servers_rebuilt except select * from s1)) d)::int as servers,
           (select count(*) from ((select * from t1 except select * from sark_migration.v1_tools_rebuilt)
                                  union all (select * from sark_migration.v1_tools_rebuilt except select * from t1)) d)::int as tools`;
  return row!;
}

/** xmin of every v2 row: unchanged exactly when no row was rewritten. */
async function rowVersions(sql: Sql): Promise<string> {
  const [row] = await sql<{ v: string }[]>`
    select md5(coalesce((select string_agg(id || ':' || xmin::text, ',' order by id) from public.resources), '')
            || coalesce((select string_agg(id || ':' || xmin::text, ',' order by id) from public.capabilities), '')) as v`;
  return row!.v;
}

describe('clean data', () => {
  it('copies every row, and the inverse mapping rebuilds every v1 row exactly, both ways', async () => {
    const { db, ctx } = await seeded({ servers: 120, tools: 4 });
    const result = await executeData(ctx, { sync: false });
    expect(result.tables.map((t) => [t.table, t.inserted, t.quarantined])).toEqual([
      ['resources', 120, 0],
      ['capabilities', 480, 0],
    ]);
    expect(await inverseDifferences(db.sql)).toEqual({ servers: 0, tools: 0 });
    const [v1] = await db.sql<{ created: Date; updated: Date }[]>`select created_at as created, updated_at as updated from mcp_servers order by id limit 1`;
    const [v2] = await db.sql<{ created: Date; updated: Date }[]>`select created_at as created, updated_at as updated from resources order by id limit 1`;
    expect(v2).toEqual(v1);
  });

  it('re-running writes nothing: no row rewritten, no dead tuple, no updated_at churn', async () => {
    const { db, ctx } = await seeded({ servers: 80, tools: 3 });
    await executeData(ctx, { sync: false });
    await db.sql`vacuum resources, capabilities`;
    const before = await rowVersions(db.sql);
    const again = await executeData(ctx, { sync: false });
    expect(again.tables.map((t) => [t.table, t.inserted, t.updated, t.deleted])).toEqual([
      ['resources', 0, 0, 0],
      ['capabilities', 0, 0, 0],
    ]);
    expect(await rowVersions(db.sql)).toBe(before);
    // The statistics collector agrees. A backend flushes its counters when it exits, so each run
    // gets its own connection, closed before the counters are read. Before PostgreSQL 15 they
    // reach the collector asynchronously: a read is trusted once every row's insert is counted and
    // three reads over 800 ms agree.
    const stats = async () => {
      const seen: string[] = [];
      let rows: { relname: string; w: number; dead: number; n: number }[] = [];
      for (let i = 0; i < 50; i++) {
        await db.sql`select pg_stat_clear_snapshot()`;
        rows = await db.sql<{ relname: string; w: number; dead: number; n: number }[]>`
          select relname, (n_tup_ins + n_tup_upd + n_tup_del)::int as w, n_dead_tup::int as dead,
                 case relname when 'resources' then (select count(*) from resources) else (select count(*) from capabilities) end::int as n
            from pg_stat_user_tables where relname in ('resources', 'capabilities') order by relname`;
        seen.push(JSON.stringify(rows));
        if (rows.every((r) => r.w >= r.n) && seen.length >= 3 && seen.slice(-3).every((x) => x === seen.at(-1))) break;
        await new Promise((r) => setTimeout(r, 400));
      }
      return rows.map(({ relname, w, dead }) => ({ relname, w, dead }));
    };
    const runAlone = async () => {
      const own = await db.context();
      await executeData(own, { sync: false });
      await own.close();
    };
    await ctx.close();
    const s1 = await stats();
    await runAlone();
    const s2 = await stats();
    expect(s2).toEqual(s1);
    expect(s2.every((s: { dead: number }) => s.dead === 0)).toBe(true);
  });

  it('propagates v1 changes made between runs: updates, inserts and deletes', async () => {
    const { db, ctx } = await seeded({ servers: 40, tools: 3 });
    await executeData(ctx, { sync: false });
    await db.sql`update mcp_servers set name = name || ' (renamed)', tags = '["moved"]' where id = (select id from mcp_servers order by id limit 1)`;
    await db.sql`update mcp_tools set parameters_schema = '{"type":"object","properties":{"q":{"type":"string"}}}'
                  where id = (select id from mcp_tools where server_id = (select id from mcp_servers order by id limit 1) order by id limit 1)`;
    await db.sql`delete from mcp_tools where id = (select id from mcp_tools order by id desc limit 1)`;
    await db.sql`delete from mcp_servers where id = (select id from mcp_servers order by id desc limit 1)`;
    const r = await executeData(ctx, { sync: false });
    const resources = r.tables.find((t) => t.table === 'resources')!;
    const capabilities = r.tables.find((t) => t.table === 'capabilities')!;
    expect(resources.updated).toBe(1);
    expect(capabilities.updated).toBe(1);
    expect(resources.deleted).toBe(1);
    expect(capabilities.deleted).toBeGreaterThanOrEqual(1);
    expect(await inverseDifferences(db.sql)).toEqual({ servers: 0, tools: 0 });
  });

  it('dry-run shows the plan computed in SQL and changes nothing', async () => {
    const { db, ctx } = await seeded({ servers: 30, tools: 2, dirty: true });
    const catalog = await catalogSnapshot(db.sql);
    const plan = await planData(ctx);
    expect(await catalogSnapshot(db.sql)).toEqual(catalog);
    const [schema] = await db.sql<{ n: number }[]>`select count(*)::int as n from pg_namespace where nspname = 'sark_migration'`;
    expect(schema!.n).toBe(1); // only the ledger schema schema up created; the definitions were rolled back
    const [views] = await db.sql<{ n: number }[]>`select count(*)::int as n from pg_views where schemaname = 'sark_migration'`;
    expect(views!.n).toBe(0);
    const resources = plan.plan.find((p) => p.target_table === 'resources')!;
    expect(resources.would_insert).toBeGreaterThanOrEqual(30);
    expect(resources.quarantined).toBeGreaterThan(0);
    expect(plan.samples.length).toBeGreaterThan(0);
    expect(plan.findings.map((f) => f.finding)).toEqual(expect.arrayContaining(['no_endpoint', 'orphan_tool', 'extra_metadata_key_collision']));
    const [{ n }] = (await db.sql<{ n: number }[]>`select count(*)::int as n from resources`) as unknown as [{ n: number }];
    expect(n).toBe(0);
  });
});

describe('dirty data: every class migrates losslessly or is quarantined with its reason', () => {
  it('holds back what cannot migrate, migrates the rest exactly, and exits 1 saying how to fix it', async () => {
    const { db, ctx } = await seeded({ servers: 20, tools: 2, dirty: true });
    const cli = runCli(['data', '--execute', '--no-sync', '--json', '--database-url', db.url]);
    expect(cli.status).toBe(1);
    expect(cli.stderr + cli.stdout).toMatch(/quarantine/);

    const reasons = await db.sql<{ reason: string; name: string }[]>`
      select q.reason, coalesce(s.name, t.name) as name
        from sark_migration.quarantine q
        left join mcp_servers s on q.source_table = 'mcp_servers' and s.id = q.source_id
        left join mcp_tools t on q.source_table = 'mcp_tools' and t.id = q.source_id`;
    const reasonOf = (prefix: string) => new Set(reasons.filter((r) => r.name.startsWith(prefix)).map((r) => r.reason));
    expect(reasonOf('dirty-no_endpoint-').size).toBeGreaterThan(0);
    expect([...reasonOf('dirty-wrong_endpoint-')].join()).toMatch(/endpoint_transport_mismatch/);
    expect([...reasonOf('dirty-orphan_tool-')].join()).toMatch(/orphan_tool/);
    // SARK's CapabilitySchema rejects a non-object input_schema: such a tool is held back, not copied.
    expect([...reasonOf('dirty-tool_parameters_not_object-')].join()).toMatch(/parameters_not_object/);
    const [arrays] = await db.sql<{ n: number }[]>`select count(*)::int as n from capabilities where jsonb_typeof(input_schema) <> 'object'`;
    expect(arrays!.n).toBe(0);
    expect([...reasonOf('dirty-no_endpoint-1-tool')].join() + [...reasonOf('dirty-no_endpoint-')].join()).toMatch(/server_quarantined|no_endpoint/);
    // Nothing vanished: every v1 row is either in v2 or in quarantine.
    const [accounted] = await db.sql<{ missing: number }[]>`
      select ((select count(*) from mcp_servers s where not exists (select 1 from resources r where r.id = s.id::text)
                 and not exists (select 1 from sark_migration.quarantine q where q.source_id = s.id))
            + (select count(*) from mcp_tools t where not exists (select 1 from capabilities c where c.id = t.id::text)
                 and not exists (select 1 from sark_migration.quarantine q where q.source_id = t.id)))::int as missing`;
    expect(accounted!.missing).toBe(0);
    expect(await inverseDifferences(db.sql)).toEqual({ servers: 0, tools: 0 });

    // Core keys win over colliding extra_metadata keys; the originals are kept under _v1.
    const [collision] = await db.sql<{ status: string; v1_status: string; kept: unknown }[]>`
      select r.metadata->>'status' as status, s.status::text as v1_status,
             r.metadata->'_v1'->'extra_metadata_collisions'->'status' as kept
        from mcp_servers s join resources r on r.id = s.id::text
       where s.name like 'dirty-metadata_collision-%' and s.extra_metadata ? 'status' limit 1`;
    expect(collision!.status).toBe(collision!.v1_status);
    expect(collision!.kept).not.toBeNull();
    // A non-object extra_metadata never turns metadata into anything but an object.
    const [shapes] = await db.sql<{ bad: number }[]>`select count(*)::int as bad from resources where jsonb_typeof(metadata) <> 'object'`;
    expect(shapes!.bad).toBe(0);
    // Awkward text arrives byte for byte; large JSON arrives whole.
    const [text] = await db.sql<{ same: boolean }[]>`
      select bool_and(r.name = s.name and r.metadata->>'description' is not distinct from s.description) as same
        from mcp_servers s join resources r on r.id = s.id::text where s.name like 'dirty-awkward_text-%'`;
    expect(text!.same).toBe(true);
    const [large] = await db.sql<{ same: boolean }[]>`
      select bool_and(length(r.metadata::text) > 1000000) as same
        from mcp_servers s join resources r on r.id = s.id::text where s.name like 'dirty-large_json-%'`;
    expect(large!.same).toBe(true);

    // Fix the v1 rows, re-run: the quarantine empties and the rows arrive.
    await db.sql`update mcp_servers set endpoint = 'https://fixed.example/mcp', command = null, transport = 'http' where name like 'dirty-no_endpoint-%' or name like 'dirty-wrong_endpoint-%' or name like 'dirty-blank_endpoint-%'`;
    await db.sql`delete from mcp_tools where name like 'dirty-orphan_tool-%'`;
    await db.sql.unsafe(`update mcp_tools set parameters_schema = jsonb_build_object('type', 'object', 'x-args', parameters_schema)
                          where jsonb_typeof(parameters_schema) <> 'object'`);
    const fixed = await executeData(ctx, { sync: false });
    expect(fixed.quarantined).toBe(0);
    expect(await inverseDifferences(db.sql)).toEqual({ servers: 0, tools: 0 });
  });

  it('migrates a database built from the SQLAlchemy model: json columns, `parameters`, invocation columns', async () => {
    db = await freshDatabase('empty');
    await buildWithoutLedger(db.sql, '005');
    await applyFixture(db.sql, 'model_v1.sql');
    const ctx = await db.context();
    await schemaUp(ctx, { baseline: '005' });
    await seed(ctx, { servers: 25, toolsPerServer: 3, dirty: false });
    const r = await executeData(ctx, { sync: false });
    expect(r.tables.map((t) => t.inserted)).toEqual([25, 75]);
    expect(await inverseDifferences(db.sql)).toEqual({ servers: 0, tools: 0 });
    const [t] = await db.sql<{ n: number }[]>`select count(*)::int as n from capabilities where metadata ? 'invocation_count' and metadata->>'invocation_count' is not null`;
    expect(t!.n).toBe(75);
  });

  it('overwrites rows an Alembic-made copy left (faulty merge), keeping their images for rollback', async () => {
    const { db, ctx } = await seeded({ servers: 15, tools: 2 });
    await applyFixture(db.sql, 'alembic_v2_007_data.sql');
    const [pre] = await db.sql<{ n: number; h: string }[]>`select count(*)::int as n, md5(string_agg(to_jsonb(r)::text, ',' order by id)) as h from resources r`;
    expect(pre!.n).toBe(15);
    const r = await executeData(ctx, { sync: false });
    expect(r.preexisting_captured).toBeGreaterThanOrEqual(15);
    expect(r.tables.find((t) => t.table === 'resources')!.updated).toBe(15);
    expect(await inverseDifferences(db.sql)).toEqual({ servers: 0, tools: 0 });
    await rollback(ctx);
    const [post] = await db.sql<{ n: number; h: string }[]>`select count(*)::int as n, md5(string_agg(to_jsonb(r)::text, ',' order by id)) as h from resources r`;
    expect(post).toEqual(pre);
  });
});

describe('batches survive kill -9', () => {
  it('a batched run killed at several points is finished by a re-run: nothing missing, nothing twice, finished batches not redone', async () => {
    const { db, ctx } = await seeded({ servers: 400, tools: 5 });
    for (const killAfterRows of [1, 600]) {
      const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin', 'sark-migrate.js'), 'data', '--execute', '--no-sync', '--batch-size', '25', '--database-url', db.url], {
        stdio: 'ignore',
        env: { ...process.env, CI: '1' },
      });
      const exited = new Promise((r) => child.once('exit', r));
      // Kill as soon as progress shows that many rows committed (resources, then capabilities).
      for (let i = 0; i < 400; i++) {
        const [p] = await db.sql<{ done: number }[]>`
          select coalesce(sum(rows_done), 0)::int as done from sark_migration.copy_progress where finished_at is null`.catch(() => [{ done: 0 }]);
        if (p!.done >= killAfterRows) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      child.kill('SIGKILL');
      await exited;
    }
    const [before] = await db.sql<{ done: number }[]>`select coalesce(sum(rows_done), 0)::int as done from sark_migration.copy_progress where finished_at is null`;
    const rerun = await executeData(ctx, { sync: false, batchSize: 25 });
    if (before!.done > 0) expect(rerun.tables.some((t) => t.resumed)).toBe(true);
    const [counts] = await db.sql<{ r: number; c: number }[]>`select (select count(*) from resources)::int as r, (select count(*) from capabilities)::int as c`;
    expect(counts).toEqual({ r: 400, c: 2000 });
    expect(await inverseDifferences(db.sql)).toEqual({ servers: 0, tools: 0 });
  });
});

describe('lanes', () => {
  it('copies key ranges side by side; a v2 row that appears in a range after its probe is compared, never skipped', async () => {
    const { db, ctx } = await seeded({ servers: 90, tools: 3 });
    await installDefinitions(db.sql);
    // (The write watermark's triggers are in place, as after a first run: creating them would wait
    // for the other session.)
    await db.sql`select sark_migration.install_write_watermark()`;
    // Another session writes one server's row into resources, the way the forward sync would, but
    // with a stale name, and has not committed when the copy probes the range ("fresh") and inserts.
    const other = await db.sql.reserve();
    try {
      await other`begin`;
      const [stale] = await other<{ id: string }[]>`
        insert into resources (id, name, protocol, endpoint, sensitivity_level, metadata, created_at, updated_at)
        select id, 'stale name', protocol, endpoint, sensitivity_level, metadata, created_at, updated_at
          from sark_migration.resource_image order by id offset 40 limit 1
        returning id`;
      const copying = copyData(ctx, { jobs: 3 });
      // The copy's INSERT waits for that transaction: commit it then.
      for (let i = 0; i < 200; i++) {
        const [w] = await db.sql<{ n: number }[]>`
          select count(*)::int as n from pg_stat_activity where application_name = 'sark-migrate' and wait_event = 'transactionid'`;
        if (w!.n > 0) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      await other`commit`;
      const result = await copying;
      const res = result.tables.find((t) => t.table === 'resources')!;
      expect({ inserted: res.inserted, updated: res.updated, unchanged: res.unchanged }).toEqual({ inserted: 89, updated: 1, unchanged: 0 });
      const [row] = await db.sql<{ same: boolean }[]>`
        select r.name = i.name as same from resources r join sark_migration.resource_image i on i.id = r.id where r.id = ${stale!.id}`;
      expect(row!.same).toBe(true);
    } finally {
      other.release();
    }
    const lanes = await db.sql<{ target_table: string; n: number }[]>`
      select target_table, count(*)::int as n from sark_migration.copy_progress where finished_at is not null group by 1 order by 1`;
    expect(lanes).toEqual([{ target_table: 'capabilities', n: 3 }, { target_table: 'resources', n: 3 }]);
    expect(await inverseDifferences(db.sql)).toEqual({ servers: 0, tools: 0 });
    // Another session wrote v2 during that run (it held its write lock when the run began, so the
    // run kept no write watermark): the next one compares every row (and writes nothing); the one
    // after proves from the watermark alone that there is nothing to do.
    const again = await copyData(ctx, { jobs: 1 });
    expect(again.tables.map((t) => [t.inserted + t.updated, t.batches > 0])).toEqual([[0, true], [0, true]]);
    const third = await copyData(ctx, { jobs: 2 });
    expect(third.tables.map((t) => [t.inserted + t.updated, t.batches])).toEqual([[0, 0], [0, 0]]);
  });

  it('never makes one lane wait for another: each batch notes its run without locking a shared row', async () => {
    // Reproduces the 1,000,000-server bench: every batch appended its transaction id to the one
    // row of its run (runs.writer_xids), so the lanes took turns on that row, and it grew by a
    // transaction id per batch (38,071 of them, 124 kB rewritten per batch at 96 % of 10,000,000
    // tools), until the batches, waiting past their cap, shrank to a few rows each.
    const { db } = await seeded({ servers: 40, tools: 2 });
    await installDefinitions(db.sql);
    await db.sql`select sark_migration.install_write_watermark()`;
    const run = (await db.sql<{ run_id: number }[]>`select run_id from sark_migration.begin_run()`)[0]!.run_id;
    const copyRun = (await db.sql<{ run: number }[]>`select sark_migration.copy_run('resources') as run`)[0]!.run;
    const lanes = (await db.sql<{ lane: number }[]>`select lane from sark_migration.copy_lanes('resources', ${copyRun}, 2) order by lane`).map((l) => l.lane);
    expect(lanes).toHaveLength(2);
    const first = await db.sql.reserve();
    const second = await db.sql.reserve();
    try {
      await first`begin`;
      await first`select * from sark_migration.copy_batch('resources', ${copyRun}, 5, ${lanes[0]!})`;
      // The first lane's batch has not committed; the second lane's goes through at once.
      await second`set lock_timeout = '300ms'`;
      const [b] = await second<{ inserted: number }[]>`select inserted from sark_migration.copy_batch('resources', ${copyRun}, 5, ${lanes[1]!})`;
      expect(Number(b!.inserted)).toBe(5);
      await first`commit`;
    } finally {
      await first`rollback`.catch(() => {});
      first.release();
      second.release();
    }
    // What the run noted is still what it wrote: both batches' transactions and their rows.
    for (const lane of lanes) await db.sql`select * from sark_migration.copy_batch('resources', ${copyRun}, null, ${lane})`;
    const toolRun = (await db.sql<{ run: number }[]>`select sark_migration.copy_run('capabilities') as run`)[0]!.run;
    await db.sql`select * from sark_migration.copy_batch('capabilities', ${toolRun}, null, 0)`;
    await db.sql`select sark_migration.delete_vanished()`;
    await db.sql`select sark_migration.finish_run(${run})`;
    const [r] = await db.sql<{ xids: number; resources: string; copied: Record<string, number> }[]>`
      select cardinality(writer_xids) as xids, row_counts ->> 'public.resources' as resources, copied
        from sark_migration.runs where run_id = ${run}`;
    expect(r).toEqual({ xids: 5, resources: '40', copied: { resources: 40, capabilities: 80 } });
    const [again] = await db.sql<{ noop: boolean }[]>`select noop from sark_migration.begin_run()`;
    expect(again!.noop).toBe(true);
  });
});

describe('the write watermark', () => {
  it('proves "nothing changed" without reading a row, and never misses a write', async () => {
    const { db, ctx } = await seeded({ servers: 30, tools: 2 });
    await executeData(ctx, { sync: false });
    const updatedResources = (r: Awaited<ReturnType<typeof copyData>>) => r.tables.find((t) => t.table === 'resources')!.updated;
    const first = async () => (await db.sql<{ id: string }[]>`select min(id::text) as id from mcp_servers`)[0]!.id;

    // Unchanged since the last run: a no-op, decided by the counter alone.
    const [quiet] = await db.sql<{ noop: boolean; reason: string }[]>`select noop, reason from sark_migration.begin_run()`;
    expect(quiet).toMatchObject({ noop: true, reason: expect.stringContaining('by the write watermark') });

    // A write made with triggers "off" (session_replication_role = replica: pg_restore, logical
    // replication) is counted all the same: ENABLE ALWAYS.
    await db.sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`update mcp_servers set name = name || ' (replica)' where id = ${await first()}`;
    });
    expect(updatedResources(await copyData(ctx, { jobs: 1 }))).toBe(1);

    // A transaction that wrote before a run began and commits after the run read the row: the run
    // cannot see it, so it must not become the proof that nothing changed.
    // (Another change, committed, so that this run has work to do and records its watermark.)
    await db.sql`update mcp_servers set name = name || ' (other)' where id = (select max(id::text)::uuid from mcp_servers)`;
    const other = await db.sql.reserve();
    try {
      await other`begin`;
      await other`update mcp_servers set name = name || ' (late)' where id = ${await first()}`;
      expect(updatedResources(await copyData(ctx, { jobs: 1 }))).toBe(1);
      await other`commit`;
    } finally {
      other.release();
    }
    expect(updatedResources(await copyData(ctx, { jobs: 1 }))).toBe(1);
    expect(await inverseDifferences(db.sql)).toEqual({ servers: 0, tools: 0 });
  });
});

describe('a re-run with nothing to do', () => {
  it('reads no table row to find out: the watermark decides, and nothing counts the tables', async () => {
    // At 1,000,000 servers / 10,000,000 tools the no-op data --execute took 9.5 s: preparing the
    // sync for the copy read the full sync state, which counts every table's rows for `status`.
    const { db } = await seeded({ servers: 30, tools: 4 });
    expect(runCli(['data', '--execute', '--json', '--database-url', db.url]).status).toBe(0);
    const read = async () =>
      db.sql<{ relname: string; n: number }[]>`
        select relname, (coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0))::int as n from pg_stat_user_tables
         where schemaname = 'public' and relname in ('mcp_servers', 'mcp_tools', 'resources', 'capabilities') order by 1`;
    await db.sql`select pg_stat_clear_snapshot()`;
    const before = await read();
    const again = runCli(['data', '--execute', '--json', '--database-url', db.url]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toContain('by the write watermark');
    // The CLI's sessions have ended, so their counters are flushed.
    await new Promise((r) => setTimeout(r, 200));
    await db.sql`select pg_stat_clear_snapshot()`;
    const after = await read();
    // At most the one row each "is v2 still empty?" probe reads.
    expect(after.map((a, i) => [a.relname, a.n - before[i]!.n <= 1])).toEqual(before.map((b) => [b.relname, true]));
  });
});

describe('a lane that fails', () => {
  it('stops the copy with its error while the other lanes commit what they did; the re-run finishes only what is left', async () => {
    const { db, ctx } = await seeded({ servers: 60, tools: 2 });
    await installDefinitions(db.sql);
    // v2 refuses one capability (a stand-in for any failure inside one lane's range).
    const [bad] = await db.sql<{ id: string }[]>`select id::text from mcp_tools order by id offset 100 limit 1`;
    await db.sql.unsafe(`create function public.refuse_one() returns trigger language plpgsql as $$
      begin if new.id = '${bad!.id}' then raise exception 'v2 says no to %', new.id; end if; return new; end $$`);
    await db.sql`create trigger refuse_one before insert on capabilities for each row execute function public.refuse_one()`;
    await expect(copyData(ctx, { jobs: 2 })).rejects.toThrow(/v2 says no/);
    const lanes = await db.sql<{ lane: number; finished: boolean }[]>`
      select lane, finished_at is not null as finished from sark_migration.copy_progress
       where target_table = 'capabilities' order by lane`;
    // The failing key is the 101st of 120, in lane 1 (keys 61-120): lane 0 finished and committed.
    expect(lanes).toEqual([{ lane: 0, finished: true }, { lane: 1, finished: false }]);
    const [half] = await db.sql<{ n: number }[]>`select count(*)::int as n from capabilities`;
    expect(half!.n).toBe(60);

    await db.sql`drop trigger refuse_one on capabilities`;
    const rerun = await copyData(ctx, { jobs: 2 });
    const caps = rerun.tables.find((t) => t.table === 'capabilities')!;
    expect(caps.resumed).toBe(true);
    expect(caps.inserted).toBe(60);
    expect(await inverseDifferences(db.sql)).toEqual({ servers: 0, tools: 0 });
  });
});

describe('a batch whose answer is lost', () => {
  it('is run again from the lane\'s recorded progress; five in a row stop the copy saying how to resume; nothing missing, nothing twice', async () => {
    // Seen once at 82 % of a 10,000,000-tool copy: a lane's batch came back without its result
    // row ("Cannot read properties of undefined (reading 'inserted')") and the copy stopped.
    // Here the batch function commits its batch and then answers with no row, `lose` times.
    const { db, ctx } = await seeded({ servers: 40, tools: 3 });
    await installDefinitions(db.sql);
    await db.sql`create table public.lost_answers (n int, lose int)`;
    await db.sql`insert into public.lost_answers values (0, 2)`;
    // The real batch function under another name (its body names its own parameters by it).
    const [real] = await db.sql<{ def: string }[]>`
      select pg_get_functiondef('sark_migration.copy_batch(text, bigint, integer, integer, boolean)'::regprocedure) as def`;
    await db.sql.unsafe(real!.def.replace('sark_migration.copy_batch(', 'sark_migration.copy_batch_answering(').replaceAll('copy_batch.lane', 'copy_batch_answering.lane'));
    await db.sql.unsafe(`
      create or replace function sark_migration.copy_batch(target text, run bigint, batch_size integer default null,
                                                lane integer default 0, lock_source boolean default false)
      returns table (last_key uuid, done boolean, inserted bigint, updated bigint, unchanged bigint, captured bigint, rows_done bigint)
      language plpgsql as $$
      begin
        if target = 'capabilities' and lane = 1 and (select n < lose from public.lost_answers) then
          perform * from sark_migration.copy_batch_answering(target, run, 1, lane, lock_source);
          update public.lost_answers set n = n + 1;
          return;                                   -- the work is done and committed, the answer lost
        end if;
        return query select * from sark_migration.copy_batch_answering(target, run, batch_size, lane, lock_source);
      end $$`);
    // Two lost answers: each batch is run again, the copy finishes.
    const result = await copyData(ctx, { jobs: 2 });
    expect((await db.sql<{ n: number }[]>`select n from public.lost_answers`)[0]!.n).toBe(2);
    const caps = result.tables.find((t) => t.table === 'capabilities')!;
    expect(caps.inserted).toBe(118); // the two lost batches wrote a row each, which the copy did not see
    expect((await db.sql<{ n: number }[]>`select count(*)::int as n from capabilities`)[0]!.n).toBe(120);
    expect(await inverseDifferences(db.sql)).toEqual({ servers: 0, tools: 0 });

    // Five in a row: the copy stops with what happened and how to resume, its batches committed.
    await db.sql`truncate capabilities, resources`;
    await db.sql`update public.lost_answers set n = 0, lose = 5`;
    await expect(copyData(ctx, { jobs: 2 })).rejects.toThrow(/5 batches in a row came back without their result row.*committed/);
    await db.sql`update public.lost_answers set lose = 0`;
    const rerun = await copyData(ctx, { jobs: 2 });
    expect(rerun.tables.find((t) => t.table === 'capabilities')!.resumed).toBe(true);
    expect((await db.sql<{ n: number }[]>`select count(*)::int as n from capabilities`)[0]!.n).toBe(120);
    expect(await inverseDifferences(db.sql)).toEqual({ servers: 0, tools: 0 });
  });
});

describe('statistics refreshed on the way', () => {
  it('never wait for a lock: a table autovacuum is working on is planned with the statistics it has', async () => {
    // Seen in bench: a re-run of data --execute right after a big load stopped at its very end,
    // delete_vanished's ANALYZE of capabilities giving up after lock_timeout behind autovacuum's
    // VACUUM ANALYZE of it (both take SHARE UPDATE EXCLUSIVE; PostgreSQL cancels autovacuum for a
    // waiting request only after deadlock_timeout, 1 s, longer than the tool waits).
    const { db } = await seeded({ servers: 2, tools: 1 });
    await installDefinitions(db.sql);
    // Autovacuum kept off it: an ANALYZE of its own would make the table fresh under the test.
    await db.sql`create table public.stale_probe (x int) with (autovacuum_enabled = false)`;
    await db.sql`insert into public.stale_probe select generate_series(1, 2000)`;
    // The insert reaches pg_stat_all_tables when its session reports (asynchronously).
    for (let i = 0; i < 50; i++) {
      const [s] = await db.sql<{ n: number }[]>`select n_mod_since_analyze::int as n from pg_stat_all_tables where relid = 'public.stale_probe'::regclass`;
      if ((s?.n ?? 0) >= 2000) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const holder = await db.sql.reserve();
    const caller = await db.sql.reserve();
    try {
      await holder`begin`;
      await holder`lock table public.stale_probe in share update exclusive mode`;   // what (auto)vacuum holds
      await caller`set lock_timeout = '500ms'`;                                       // what the tool runs with
      const started = performance.now();
      const [busy] = await caller<{ analyzed: boolean }[]>`select sark_migration.analyze_if_stale('public.stale_probe') as analyzed`;
      expect(busy!.analyzed).toBe(false);
      expect(performance.now() - started).toBeLessThan(400);
      await holder`commit`;
      const [free] = await caller<{ analyzed: boolean }[]>`select sark_migration.analyze_if_stale('public.stale_probe') as analyzed`;
      expect(free!.analyzed).toBe(true);
      const [after] = await caller<{ tuples: number }[]>`select reltuples::int as tuples from pg_class where oid = 'public.stale_probe'::regclass`;
      expect(after!.tuples).toBe(2000);
    } finally {
      holder.release();
      caller.release();
    }
  });
});

describe('rollback', () => {
  it('waits out a session that holds capabilities briefly (autovacuum does, right after a copy) instead of failing', async () => {
    const { db, ctx } = await seeded({ servers: 10, tools: 2 });
    await executeData(ctx, { sync: false });
    const holder = await db.sql.reserve();
    try {
      // The lock autovacuum takes: it conflicts with the rollback's, not with the application's writes.
      await holder`begin`;
      await holder`lock table capabilities in share update exclusive mode`;
      const release = new Promise((r) => setTimeout(r, 1500)).then(() => holder`commit`);
      const r = await rollback(ctx);
      await release;
      expect(r.rollback.find((x) => x.target_table === 'capabilities')!.deleted).toBe(20);
    } finally {
      holder.release();
    }
  });

  it('removes exactly what the migration wrote; v2-native rows (even protocol mcp) stay, and so does a resource they reference', async () => {
    const { db, ctx } = await seeded({ servers: 20, tools: 2 });
    await executeData(ctx, { sync: false });
    await db.sql`insert into resources (id, name, protocol, endpoint, metadata) values ('native-mcp-1', 'native', 'mcp', 'https://native.example', '{"transport":"http"}')`;
    const [migrated] = await db.sql<{ id: string }[]>`select id from resources where metadata ? '_v1' order by id limit 1`;
    await db.sql`insert into capabilities (id, resource_id, name) values ('native-cap-1', ${migrated!.id}, 'native capability')`;
    const plan = runCli(['data', '--rollback', '--dry-run', '--json', '--database-url', db.url]);
    expect(plan.status).toBe(0);
    expect(plan.json()).toMatchObject({ dry_run: true, forward_sync: 'off' });
    const result = (await rollback(ctx)).rollback;
    const res = result.find((r) => r.target_table === 'resources')!;
    expect(Number(res.kept_referenced)).toBe(1);
    const rows = await db.sql<{ id: string }[]>`select id from resources order by id`;
    expect(rows.map((r) => r.id).sort()).toEqual([migrated!.id, 'native-mcp-1'].sort());
    const caps = await db.sql<{ id: string }[]>`select id from capabilities`;
    expect(caps.map((c) => c.id)).toEqual(['native-cap-1']);
    const [v1] = await db.sql<{ s: number; t: number }[]>`select (select count(*) from mcp_servers)::int as s, (select count(*) from mcp_tools)::int as t`;
    expect(v1).toEqual({ s: 20, t: 40 });
  });
});
