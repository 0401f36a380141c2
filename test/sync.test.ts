/**
 * The zero-downtime sync, against a real database: what is written to v1 while syncing appears in
 * v2 exactly (through the one mapping), what is written to v2 after the cutover appears in v1,
 * nothing echoes, nothing fails the application's write, and nothing is dropped silently.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Context } from '../src/context.ts';
import type { Sql } from '../src/db/connect.ts';
import { validate } from '../src/commands/validate.ts';
import { readSyncState } from '../src/sync/state.ts';
import { syncCutover, syncRetry, syncRollback } from '../src/sync/sync.ts';
import { applyFixture } from './support/alembic.ts';
import { join } from 'node:path';
import { executeData } from '../src/commands/data.ts';
import { seed } from '../src/commands/seed.ts';
import { SQL_DIR } from '../src/db/sqlFiles.ts';
import { schemaUp } from '../src/schema/migrate.ts';
import { readStatus } from '../src/status/phase.ts';
import { installSyncDefinitions } from '../src/sync/sql.ts';
import { freshDatabase, psqlFile, type TestDatabase } from './support/db.ts';
import { differences, ensureMapping, inverseDifferences, migrate, NO_DIFFERENCES, startV1Writer } from './support/writer.ts';

let db: TestDatabase | undefined;
afterEach(async () => {
  await db?.drop();
  db = undefined;
});

const VARIANTS = [
  { name: 'Alembic variant (jsonb, parameters_schema)', fixture: undefined },
  { name: 'model variant (json columns, parameters, invocation columns)', fixture: 'model_v1.sql' },
] as const;

async function setUp(variant: (typeof VARIANTS)[number], o: { servers?: number; tools?: number } = {}): Promise<Context> {
  db = await freshDatabase('v1');
  if (variant.fixture) await applyFixture(db.sql, variant.fixture);
  const ctx = await db.context({ lockTimeout: '1s' });
  await migrate(ctx, { servers: o.servers ?? 60, tools: o.tools ?? 3, batchSize: 25 });
  return ctx;
}

/** Makes `table` refuse deletes (a stand-in for any failure on that side of the sync); returns what lifts it. */
async function refuseDeletes(sql: Sql, table: string): Promise<() => Promise<unknown>> {
  await sql`create or replace function public.sync_test_refuse() returns trigger language plpgsql as $$ begin raise exception 'refused by the test'; end $$`;
  await sql.unsafe(`create trigger refuse_delete before delete on public.${table} for each statement execute function public.sync_test_refuse()`);
  return () => sql.unsafe(`drop trigger refuse_delete on public.${table}`);
}

/** The JSON type of a v1 column in this variant, for literals written by the tests. */
async function jsonType(sql: Sql, table: string, column: string): Promise<string> {
  const [r] = await sql<{ t: string }[]>`
    select format_type(atttypid, null) as t from pg_attribute where attrelid = ${`public.${table}`}::regclass and attname = ${column}`;
  return r!.t;
}

/**
 * Calls of the sync's functions made by `fn` (track_functions = all), as the difference of the
 * backend's not-yet-flushed function counters before and after: they may still hold earlier
 * transactions' calls.
 */
async function countCalls(sql: Sql, fn: (tx: Sql) => Promise<unknown>): Promise<Record<string, number>> {
  return sql.begin(async (t) => {
    const tx = t as unknown as Sql;
    await tx`set local track_functions = 'all'`;
    const read = async () =>
      Object.fromEntries(
        (await tx<{ funcname: string; calls: number }[]>`
          select funcname::text, calls::int from pg_stat_xact_user_functions where schemaname = 'sark_migration'`).map((r) => [r.funcname, r.calls]),
      );
    const before = await read();
    await fn(tx);
    const after = await read();
    return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
  }) as Promise<Record<string, number>>;
}

describe.each(VARIANTS)('forward sync, $name', (variant) => {
  it('applies v1 inserts, updates, deletes and primary-key changes to v2 exactly, through the mapping', async () => {
    const ctx = await setUp(variant);
    const sql = db!.sql;
    expect((await readSyncState(sql)).phase).toBe('syncing');
    expect(await differences(sql)).toMatchObject(NO_DIFFERENCES);

    // An application at work: single and multi-row updates, inserts of servers with tools, deletes.
    const writer = startV1Writer(db!.conn, { maxOps: 250, seed: 7 });
    const stats = await writer.done;
    expect(stats.errors).toEqual([]);

    // Awkward writes: metadata colliding with core keys, non-object metadata, a tool re-keyed, a
    // server re-keyed, a bulk update and a bulk delete in one statement each.
    const em = await jsonType(sql, 'mcp_servers', 'extra_metadata');
    const [s1, s2, s3] = (await sql<{ id: string }[]>`select id from mcp_servers order by id limit 3`).map((r) => r.id);
    await sql.unsafe(`update mcp_servers set extra_metadata = '{"status": "shadow", "region": "eu"}'::text::${em} where id = $1`, [s1!]);
    await sql.unsafe(`update mcp_servers set extra_metadata = '[1, 2, 3]'::text::${em} where id = $1`, [s2!]);
    await sql`update mcp_tools set id = gen_random_uuid() where id = (select id from mcp_tools where server_id = ${s3!} order by id limit 1)`;
    await sql`update mcp_tools set sensitivity_level = 'critical' where server_id = ${s3!}`;
    const lonely = (await sql<{ id: string }[]>`
      insert into mcp_servers (id, name, transport, command, sensitivity_level, created_at, updated_at)
      values (gen_random_uuid(), 'no tools', 'stdio', 'uvx lonely', 'low', now(), now()) returning id`)[0]!.id;
    await sql`update mcp_servers set id = gen_random_uuid() where id = ${lonely}`;
    await sql`delete from mcp_tools where name like 'tool 1%'`;

    const state = await readSyncState(sql);
    expect(state.failures.open).toBe(0);
    expect(await differences(sql)).toMatchObject(NO_DIFFERENCES);
    expect(await inverseDifferences(sql)).toBe(0);
    // v2 holds nothing the migration wrote for a v1 row that is gone (the re-keyed ids included).
    const [orphans] = await sql<{ n: number }[]>`
      select count(*)::int as n from resources r where r.metadata ? '_v1' and not exists (select 1 from mcp_servers s where s.id::text = r.id)`;
    expect(orphans!.n).toBe(0);
    await ctx.close();
  });

  it('after the cutover, v2 writes reach v1 and nothing echoes; what v1 cannot hold is recorded', async () => {
    const ctx = await setUp(variant, { servers: 20, tools: 2 });
    const sql = db!.sql;
    await syncCutover(ctx);
    expect((await readSyncState(sql)).phase).toBe('cutover');
    const [migrated] = await sql<{ id: string }[]>`select id from resources where metadata ? '_v1' order by id limit 1`;
    const [migratedCap] = await sql<{ id: string }[]>`select id from capabilities where metadata ? '_v1' order by id limit 1`;
    const native = '5a1e0000-0000-4000-8000-000000000001';
    const nativeSse = '5a1e0000-0000-4000-8000-000000000002';
    const nativeCap = '5a1e0000-0000-4000-8000-0000000000c1';
    const capOnMigrated = '5a1e0000-0000-4000-8000-0000000000c2';

    const counted = await countCalls(sql, async (tx) => {
      await tx`update resources set name = 'renamed by v2', metadata = metadata || '{"owner_team": "platform"}' where id = ${migrated!.id}`;
      await tx`insert into resources (id, name, protocol, endpoint, sensitivity_level, metadata)
               values (${native}, 'native stdio', 'mcp', 'npx -y @acme/native', 'high', '{"transport": "stdio", "status": "active", "team": "v2"}')`;
      await tx`insert into resources (id, name, protocol, endpoint, sensitivity_level, metadata)
               values (${nativeSse}, 'native sse', 'mcp', 'https://native.example.com/sse', 'low', '{}')`;
      await tx`insert into capabilities (id, resource_id, name, description, input_schema, sensitivity_level, metadata)
               values (${nativeCap}, ${native}, 'native tool', 'made in v2', '{"type": "object"}', 'medium', '{"requires_approval": true}')`;
      await tx`insert into capabilities (id, resource_id, name, input_schema, sensitivity_level, metadata)
               values (${capOnMigrated}, ${migrated!.id}, 'added in v2', '{}', 'low', '{}')`;
      await tx`delete from capabilities where id = ${migratedCap!.id}`;
      await tx`insert into resources (id, name, protocol, endpoint, sensitivity_level, metadata)
               values ('grpc-inventory', 'inventory', 'grpc', 'grpc://inventory:50051', 'medium', '{}')`;
      await tx`insert into capabilities (id, resource_id, name, input_schema, sensitivity_level, metadata)
               values ('5a1e0000-0000-4000-8000-0000000000c3', 'grpc-inventory', 'List', '{}', 'low', '{}')`;
    });
    // The reverse sync ran; the forward triggers fired on its v1 writes and returned at once.
    expect(counted.reverse_apply_resources).toBeGreaterThan(0);
    expect(counted.reverse_apply_capabilities).toBeGreaterThan(0);
    expect(counted.forward_sync).toBeGreaterThan(0);
    expect(counted.apply_resources ?? 0).toBe(0);
    expect(counted.apply_capabilities ?? 0).toBe(0);

    // And a v1 write at cutover goes to v2 without coming back.
    const back = await countCalls(sql, (tx) => tx`update mcp_servers set description = 'written by the v1 application' where id = ${migrated!.id}`);
    expect(back.apply_resources).toBe(1);
    expect(back.reverse_apply_resources ?? 0).toBe(0);

    const [server] = await sql<{ name: string; description: string }[]>`select name, description from mcp_servers where id = ${migrated!.id}`;
    expect(server).toEqual({ name: 'renamed by v2', description: 'written by the v1 application' });
    const [nat] = await sql<{ transport: string; command: string; endpoint: string | null; status: string }[]>`
      select transport::text, command, endpoint, status::text from mcp_servers where id = ${native}`;
    expect(nat).toEqual({ transport: 'stdio', command: 'npx -y @acme/native', endpoint: null, status: 'active' });
    const [sse] = await sql<{ transport: string; endpoint: string }[]>`select transport::text, endpoint from mcp_servers where id = ${nativeSse}`;
    expect(sse).toEqual({ transport: 'sse', endpoint: 'https://native.example.com/sse' });
    const inferred = await sql`select id, column_name, value from sark_migration.reverse_inferred`;
    expect(inferred.map((r) => [r.id, r.column_name, r.value])).toEqual([[nativeSse, 'transport', 'sse']]);
    const tools = await sql<{ id: string }[]>`select id from mcp_tools where id in (${nativeCap}, ${capOnMigrated}, ${migratedCap!.id})`;
    expect(tools.map((t) => t.id).sort()).toEqual([nativeCap, capOnMigrated].sort());
    const unrepresentable = await sql`select target_table, id, reason from sark_migration.reverse_unrepresentable order by 1 desc, 2`;
    expect(unrepresentable.map((u) => [u.target_table, u.id, u.reason])).toEqual([
      ['resources', 'grpc-inventory', 'not_mcp'],
      ['capabilities', '5a1e0000-0000-4000-8000-0000000000c3', 'resource_not_in_v1'],
    ]);
    expect((await readSyncState(sql)).unrepresentable.total).toBe(2);
    expect(await differences(sql)).toMatchObject(NO_DIFFERENCES);

    // Rolled back to v1 (reverse sync off): every v2 write above is in v1.
    await syncRollback(ctx);
    expect((await readSyncState(sql)).phase).toBe('syncing');
    expect(await differences(sql)).toMatchObject(NO_DIFFERENCES);
    await ctx.close();
  });
});

describe('reverse sync and v1\'s updated_at', () => {
  it('a v2 change to a migrated row moves v1\'s updated_at on, and v2 keeps the same time, so validate --full still passes', async () => {
    const ctx = await setUp(VARIANTS[0], { servers: 10, tools: 2 });
    const sql = db!.sql;
    await syncCutover(ctx);
    const [cap] = await sql<{ id: string; at: Date }[]>`
      select c.id, t.updated_at as at from capabilities c join mcp_tools t on t.id::text = c.id where c.metadata ? '_v1' order by c.id limit 1`;
    const [res] = await sql<{ id: string; at: Date }[]>`
      select r.id, s.updated_at as at from resources r join mcp_servers s on s.id::text = r.id where r.metadata ? '_v1' order by r.id limit 1`;
    // The v2 application changes a description and a name, and touches no timestamp.
    await sql`update capabilities set description = 'clarified in v2' where id = ${cap!.id}`;
    await sql`update resources set name = 'renamed in v2' where id = ${res!.id}`;
    const [after] = await sql<{ tool_at: Date; tool_stamp: string; server_at: Date; resource_at: Date; stamp_text: string }[]>`
      select (select updated_at from mcp_tools where id::text = ${cap!.id}) as tool_at,
             (select metadata ->> 'updated_at' from capabilities where id = ${cap!.id}) as tool_stamp,
             (select sark_migration.utc_text(updated_at) from mcp_tools where id::text = ${cap!.id}) as stamp_text,
             (select updated_at from mcp_servers where id::text = ${res!.id}) as server_at,
             (select updated_at from resources where id = ${res!.id}) as resource_at`;
    expect(after!.tool_at.getTime()).toBeGreaterThan(cap!.at.getTime());
    expect(after!.tool_stamp).toBe(after!.stamp_text);
    expect(after!.server_at.getTime()).toBeGreaterThan(res!.at.getTime());
    expect(after!.resource_at.getTime()).toBe(after!.server_at.getTime());
    const full = await validate(ctx, 'full');
    expect(full.issues.filter((i) => i.severity === 'error' || i.severity === 'critical')).toEqual([]);
    expect(await differences(sql)).toMatchObject(NO_DIFFERENCES);
  });
});

describe('forward sync and dirty data', () => {
  it('holds a dirty row inserted while syncing in quarantine (the insert succeeds) and applies it once fixed', async () => {
    const ctx = await setUp(VARIANTS[0], { servers: 10, tools: 2 });
    const sql = db!.sql;
    const id = '0d1e0000-0000-4000-8000-000000000001';
    await sql`insert into mcp_servers (id, name, transport, sensitivity_level, created_at, updated_at)
              values (${id}, 'no endpoint yet', 'http', 'low', now(), now())`;
    await sql`insert into mcp_tools (id, server_id, name, sensitivity_level, created_at, updated_at)
              values ('0d1e0000-0000-4000-8000-0000000000a1', ${id}, 'waits for its server', 'low', now(), now())`;
    const held = await sql`select source_table, source_id::text, reason from sark_migration.quarantine order by 1`;
    expect(held.map((q) => [q.source_table, q.source_id, q.reason])).toEqual([
      ['mcp_servers', id, 'no_endpoint'],
      ['mcp_tools', '0d1e0000-0000-4000-8000-0000000000a1', 'server_quarantined'],
    ]);
    expect(await sql`select 1 from resources where id = ${id}`).toHaveLength(0);
    expect((await readSyncState(sql)).failures.open).toBe(0);

    await sql`update mcp_servers set endpoint = 'https://fixed.example.com/mcp' where id = ${id}`;
    expect(await sql`select 1 from sark_migration.quarantine`).toHaveLength(0);
    expect(await sql`select 1 from resources where id = ${id}`).toHaveLength(1);
    expect(await sql`select 1 from capabilities where id = '0d1e0000-0000-4000-8000-0000000000a1'`).toHaveLength(1);
    expect(await differences(sql)).toMatchObject(NO_DIFFERENCES);
    await ctx.close();
  });

  it('never fails the v1 write: a sync that fails is recorded, reported, and re-applied by sync --retry', async () => {
    const ctx = await setUp(VARIANTS[0], { servers: 10, tools: 2 });
    const sql = db!.sql;
    // v2 refuses this name (a stand-in for any v2-side failure).
    await sql`alter table resources add constraint sync_test_refuses check (name <> 'refused by v2') not valid`;
    const id = 'fa11ed00-0000-4000-8000-000000000001';
    await sql`insert into mcp_servers (id, name, transport, endpoint, sensitivity_level, created_at, updated_at)
              values (${id}, 'refused by v2', 'http', 'https://refused.example.com', 'low', now(), now())`;
    expect(await sql`select 1 from mcp_servers where id = ${id}`).toHaveLength(1);
    expect(await sql`select 1 from resources where id = ${id}`).toHaveLength(0);

    const state = await readSyncState(sql);
    expect(state.failures.open).toBe(1);
    expect(state.failures.latest[0]).toMatchObject({ direction: 'forward', source_table: 'mcp_servers', sqlstate: '23514', sample_ids: [id] });
    const [issue] = await sql`select kind, severity from sark_migration.sync_issues`;
    expect(issue).toMatchObject({ kind: 'sync_failure', severity: 'error' });

    await sql`alter table resources drop constraint sync_test_refuses`;
    const retry = await syncRetry(ctx);
    expect(retry.retried).toHaveLength(1);
    expect(retry.retried![0]!.resolved).toBe(true);
    expect(await sql`select 1 from resources where id = ${id}`).toHaveLength(1);
    expect((await readSyncState(sql)).failures.open).toBe(0);
    expect(await differences(sql)).toMatchObject(NO_DIFFERENCES);
    await ctx.close();
  });
});

describe('forward sync and TRUNCATE', () => {
  it('a TRUNCATE of v1 removes the migrated v2 rows and their quarantine entries; v2-native rows and what they reference stay', async () => {
    const ctx = await setUp(VARIANTS[0], { servers: 12, tools: 3 });
    const sql = db!.sql;
    // A dirty server (quarantined) and a v2-native capability on a migrated resource.
    await sql`insert into mcp_servers (id, name, transport, sensitivity_level, created_at, updated_at)
              values ('7e0c0000-0000-4000-8000-000000000001', 'no endpoint', 'http', 'low', now(), now())`;
    const [kept] = await sql<{ id: string }[]>`select id from resources order by id limit 1`;
    await sql`insert into capabilities (id, resource_id, name, sensitivity_level) values ('native-cap-1', ${kept!.id}, 'native', 'low')`;
    expect(await sql`select 1 from sark_migration.quarantine`).toHaveLength(1);

    await sql`truncate mcp_tools`;
    expect(await sql`select id from capabilities`).toEqual([{ id: 'native-cap-1' }]);
    expect(await differences(sql)).toMatchObject(NO_DIFFERENCES);

    await sql`truncate mcp_servers cascade`;
    // Every migrated resource goes but the one a v2-native capability references (kept, and said so).
    expect((await sql`select id from resources`).map((r) => r.id)).toEqual([kept!.id]);
    expect(await sql`select 1 from sark_migration.quarantine`).toHaveLength(0);
    expect(await sql`select id from capabilities`).toEqual([{ id: 'native-cap-1' }]);
    expect((await readSyncState(sql)).failures.open).toBe(0);
    await ctx.close();
  });

  it('never fails the TRUNCATE: a failed sync is recorded and sync --retry repairs it', async () => {
    const ctx = await setUp(VARIANTS[0], { servers: 5, tools: 2 });
    const sql = db!.sql;
    // v2 refuses the deletes for now (a stand-in for any v2-side failure).
    const lift = await refuseDeletes(sql, 'capabilities');
    await sql`truncate mcp_tools`;
    expect(await sql`select 1 from mcp_tools`).toHaveLength(0);
    const state = await readSyncState(sql);
    expect(state.failures.open).toBe(1);
    expect(state.failures.latest[0]).toMatchObject({ direction: 'forward', source_table: 'mcp_tools' });

    await lift();
    const retry = await syncRetry(ctx);
    expect(retry.retried![0]!.resolved).toBe(true);
    expect(await sql`select 1 from capabilities`).toHaveLength(0);
    expect(await differences(sql)).toMatchObject(NO_DIFFERENCES);
    await ctx.close();
  });
});

describe('reverse sync and TRUNCATE (after the cutover)', () => {
  it('a TRUNCATE of v2 removes the v1 rows it held; rows v2 never held (quarantined) stay, and nothing echoes', async () => {
    const ctx = await setUp(VARIANTS[0], { servers: 12, tools: 3 });
    const sql = db!.sql;
    // A dirty server: quarantined, so v2 never held it.
    const dirty = '7e0c0000-0000-4000-8000-000000000002';
    await sql`insert into mcp_servers (id, name, transport, sensitivity_level, created_at, updated_at)
              values (${dirty}, 'no endpoint', 'http', 'low', now(), now())`;
    await syncCutover(ctx);
    expect((await readSyncState(sql)).triggers.filter((t) => t.direction === 'reverse')).toHaveLength(8);
    // A grpc resource v1 cannot hold is recorded, and goes from that record with the TRUNCATE.
    await sql`insert into resources (id, name, protocol, endpoint, sensitivity_level, metadata)
              values ('grpc-inventory', 'inventory', 'grpc', 'grpc://inventory:50051', 'medium', '{}')`;
    expect(await sql`select 1 from sark_migration.reverse_unrepresentable`).toHaveLength(1);

    await sql`truncate capabilities`;
    expect(await sql`select 1 from mcp_tools`).toHaveLength(0);
    expect((await sql`select count(*)::int as n from mcp_servers`)[0]!.n).toBe(13);

    await sql`truncate resources cascade`;
    expect((await sql`select id::text from mcp_servers`).map((r) => r.id)).toEqual([dirty]);
    expect(await sql`select 1 from sark_migration.reverse_unrepresentable`).toHaveLength(0);
    // The forward sync fired on those v1 deletes and let them be: v2 is still empty, the dirty row still held.
    expect(await sql`select 1 from resources`).toHaveLength(0);
    expect(await sql`select 1 from sark_migration.quarantine`).toHaveLength(1);
    expect((await readSyncState(sql)).failures.open).toBe(0);
    await ctx.close();
  });

  it('never fails the TRUNCATE: a failed sync is recorded and sync --retry repairs it', async () => {
    const ctx = await setUp(VARIANTS[0], { servers: 5, tools: 2 });
    const sql = db!.sql;
    await syncCutover(ctx);
    const lift = await refuseDeletes(sql, 'mcp_tools');
    await sql`truncate capabilities`;
    expect(await sql`select 1 from capabilities`).toHaveLength(0);
    const state = await readSyncState(sql);
    expect(state.failures.open).toBe(1);
    expect(state.failures.latest[0]).toMatchObject({ direction: 'reverse', source_table: 'capabilities' });

    await lift();
    const retry = await syncRetry(ctx);
    expect(retry.retried![0]!.resolved).toBe(true);
    expect(await sql`select 1 from mcp_tools`).toHaveLength(0);
    expect((await sql`select count(*)::int as n from mcp_servers`)[0]!.n).toBe(5);
    await ctx.close();
  });
});

describe('dirty data and the DBA path', () => {
  it('keeps v2 exact under writes when the v1 data is dirty (quarantined rows, orphan tools, FK NOT VALID)', async () => {
    db = await freshDatabase('v1');
    const ctx = await db.context({ lockTimeout: '1s' });
    await migrate(ctx, { servers: 40, tools: 3, dirty: true, batchSize: 20 });
    const held = (await readStatus(db.sql)).counts.quarantined ?? 0;
    expect(held).toBeGreaterThan(0);
    const stats = await startV1Writer(db.conn, { maxOps: 200, seed: 9 }).done;
    expect(stats.errors).toEqual([]);
    expect((await readSyncState(db.sql)).failures.open).toBe(0);
    expect(await differences(db.sql)).toMatchObject(NO_DIFFERENCES);
    await ctx.close();
  });

  it('runs the action files with psql as a DBA would, with the same refusals', async () => {
    db = await freshDatabase('v1');
    const ctx = await db.context();
    await seed(ctx, { servers: 10, toolsPerServer: 2, dirty: false });
    await schemaUp(ctx, {});
    await ensureMapping(db.sql);
    await installSyncDefinitions(db.sql);
    const action = (f: string) => psqlFile(db!.conn, join(SQL_DIR, 'sync', f));
    action('101_enable_forward_sync.sql');
    action('101_enable_forward_sync.sql'); // idempotent
    expect((await readSyncState(db.sql)).triggers.filter((t) => t.direction === 'forward')).toHaveLength(8);
    expect(() => action('103_enable_reverse_sync.sql')).toThrow(/copy has not completed/);
    await executeData(ctx, { batchSize: 5 });
    action('103_enable_reverse_sync.sql');
    expect((await readStatus(db.sql)).phase).toBe('cutover');
    expect(() => action('102_disable_forward_sync.sql')).toThrow(/reverse sync is on/);
    expect(() => action('109_decommission_v1.sql')).toThrow(/grace period of 30 days/);
    action('104_disable_reverse_sync.sql');
    action('102_disable_forward_sync.sql');
    expect((await readStatus(db.sql)).phase).toBe('copied');
    const events = await db.sql`select event from sark_migration.sync_log order by id`;
    expect(events.map((e) => e.event)).toEqual(['forward_enabled', 'cutover', 'rollback', 'forward_disabled']);
    await ctx.close();
  });
  it('does not touch installed, unchanged sync definitions while the application writes their ledgers', async () => {
    // Reproduces bench's live load: re-applying 001_create_sync_ledgers.sql (CREATE INDEX IF NOT
    // EXISTS takes a SHARE lock even when the index exists) gave up on lock_timeout behind an
    // application transaction that had recorded a sync failure.
    const ctx = await setUp(VARIANTS[0], { servers: 5, tools: 2 });
    const app = await db!.sql.reserve();
    try {
      await app`begin`;
      await app`insert into sark_migration.sync_failures (direction, source_table, ids, sqlstate, message) values ('forward', 'mcp_servers', '{x}', 'XX000', 'test')`;
      const session = await db!.context({ lockTimeout: '200ms' });
      try {
        expect(await installSyncDefinitions(session.sql)).toBe(true);
        // An edited file is applied (under lock_timeout, retried) once the application commits.
        await session.sql`update sark_migration.applied_files set sha256 = 'edited' where path = 'sql/sync/001_create_sync_ledgers.sql'`;
        const applied = installSyncDefinitions(session.sql);
        await new Promise((r) => setTimeout(r, 600));
        await app`rollback`;
        expect(await applied).toBe(true);
        const [r] = await session.sql`select sha256 <> 'edited' as current from sark_migration.applied_files where path = 'sql/sync/001_create_sync_ledgers.sql'`;
        expect(r!.current).toBe(true);
      } finally {
        await session.close();
      }
    } finally {
      await app`rollback`.catch(() => {});
      app.release();
    }
    await ctx.close();
  });
});
