/**
 * The phases of the runbook as `status` reports them, the moves between them, the moves that are
 * refused (exit 1, with the fix), rollback from every phase, and decommission.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { backup } from '../src/backup/backup.ts';
import { executeData } from '../src/commands/data.ts';
import { seed } from '../src/commands/seed.ts';
import type { Context } from '../src/context.ts';
import type { Sql } from '../src/db/connect.ts';
import { planRollback, rollback } from '../src/data/rollback.ts';
import { schemaDown, schemaUp } from '../src/schema/migrate.ts';
import { readStatus } from '../src/status/phase.ts';
import { decommission } from '../src/sync/decommission.ts';
import { runAll } from '../src/sync/run.ts';
import { runSyncAction } from '../src/sync/sql.ts';
import { syncBeforeRollback, syncCutover, syncDisable, syncEnable, syncRollback } from '../src/sync/sync.ts';
import { freshDatabase, runCli, type TestDatabase } from './support/db.ts';
import { backupToolsTooOld } from './support/pgTools.ts';
import { differences, ensureMapping, migrate, NO_DIFFERENCES, startV1Writer, startV2Writer } from './support/writer.ts';

let db: TestDatabase | undefined;
const dir = mkdtempSync(join(tmpdir(), 'sark-phases-'));
afterEach(async () => {
  await db?.drop();
  db = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const phase = async (sql: Sql) => (await readStatus(sql)).phase;

/** Every v1 row, as text, in key order: "v1 exactly as it should be". */
async function v1Image(sql: Sql): Promise<{ servers: string; tools: string; n: number }> {
  const [r] = await sql<{ servers: string; tools: string; n: number }[]>`
    select (select md5(coalesce(string_agg(s::text, '|' order by s.id), '')) from mcp_servers s) as servers,
           (select md5(coalesce(string_agg(t::text, '|' order by t.id), '')) from mcp_tools t) as tools,
           (select count(*)::int from mcp_servers) as n`;
  return r!;
}

const migratedRows = async (sql: Sql) =>
  (await sql<{ n: number }[]>`
    select ((select count(*) from resources where metadata ? '_v1') + (select count(*) from capabilities where metadata ? '_v1'))::int as n`)[0]!.n;

/** A refused move: exit 1 and a message that says why. */
async function refusedWith(p: Promise<unknown>, message: RegExp) {
  await expect(p).rejects.toMatchObject({ exitCode: 1, message: expect.stringMatching(message) });
}

async function setUp(): Promise<Context> {
  db = await freshDatabase('v1');
  return db.context({ lockTimeout: '1s' });
}

describe('status follows the phases', () => {
  it('v1 -> schema-applied -> copied -> syncing -> cutover -> syncing -> copied', async () => {
    const ctx = await setUp();
    const sql = db!.sql;
    await seed(ctx, { servers: 30, toolsPerServer: 2, dirty: false });
    expect(await phase(sql)).toBe('v1');
    await schemaUp(ctx, {});
    expect(await phase(sql)).toBe('schema-applied');
    await ensureMapping(sql);
    await executeData(ctx, { batchSize: 10, sync: false });
    expect(await phase(sql)).toBe('copied');
    expect((await syncEnable(ctx)).to).toBe('syncing');
    // The copy above ran before the sync: writes in between could be missing, so a cutover waits
    // for one more copy (which writes only what changed).
    await refusedWith(syncCutover(ctx), /newest copy ran before the forward sync was enabled/);
    await executeData(ctx, { batchSize: 10 });
    expect((await syncCutover(ctx)).to).toBe('cutover');
    expect((await syncRollback(ctx)).to).toBe('syncing');
    expect((await syncDisable(ctx)).to).toBe('copied');
    const cli = runCli(['status', '--json'], { DATABASE_URL: db!.url });
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.json()).toMatchObject({ database_version: '2.0', phase: 'copied' });
    await ctx.close();
  });

  it('without the sync (data --execute --no-sync) a v1 write is missing from v2: the fault the sync closes', async () => {
    const ctx = await setUp();
    await migrate(ctx, { servers: 10, tools: 2, sync: false });
    await db!.sql`update mcp_servers set name = 'changed after the copy' where id = (select id from mcp_servers order by id limit 1)`;
    await syncEnable(ctx); // installs the reverse image used by differences(); writes nothing
    expect((await differences(db!.sql)).servers_missing_in_v2).toBe(1);
    await ctx.close();
  });
});

describe('unsafe moves are refused with exit 1 and the fix', () => {
  it('refuses each move whose precondition does not hold', async () => {
    const ctx = await setUp();
    const sql = db!.sql;
    await refusedWith(syncEnable(ctx), /v2 schema is not there yet/);
    await seed(ctx, { servers: 10, toolsPerServer: 2, dirty: false });
    await schemaUp(ctx, {});
    await ensureMapping(sql);
    await refusedWith(syncCutover(ctx), /forward sync is not on \(phase schema-applied\)/);
    await refusedWith(syncRollback(ctx), /no cutover to roll back/);
    await syncEnable(ctx);
    await refusedWith(syncCutover(ctx), /copy has not completed/);
    await executeData(ctx, { batchSize: 5 });
    await refusedWith(decommission(ctx, { confirm: true, graceDays: 0, backupMaxAgeHours: 24 }), /only possible from cutover/);
    expect(await syncBeforeRollback(ctx)).toBe('disable_forward'); // data --rollback turns the forward sync off itself
    await syncCutover(ctx);
    await refusedWith(syncBeforeRollback(ctx), /in cutover/); // ... but not at cutover
    await refusedWith(syncDisable(ctx), /would stop v2 writes from flowing to v1/);
    await refusedWith(executeData(ctx, { batchSize: 5 }), /in cutover/);

    // The same refusals through the CLI: exit 1, the reason and the fix on stderr.
    const env = { DATABASE_URL: db!.url };
    const disable = runCli(['sync', '--disable'], env);
    expect(disable.status).toBe(1);
    expect(disable.stderr).toMatch(/error: .*in cutover/);
    expect(disable.stderr).toMatch(/fix: .*sync --rollback/);
    const rollback = runCli(['data', '--rollback'], env);
    expect(rollback.status).toBe(1);
    expect(rollback.stderr).toMatch(/fix: .*sync --rollback.*then `data --rollback`/);
    const rollbackPlan = runCli(['data', '--rollback', '--dry-run'], env);
    expect(rollbackPlan.status).toBe(1); // the dry-run says what the real run would: refused
    expect(rollbackPlan.stderr).toMatch(/in cutover/);
    const decom = runCli(['decommission', '--grace-days', '0'], env);
    expect(decom.status).toBe(1);
    expect(decom.stderr).toMatch(/No backup was named/);
    const usage = runCli(['sync', '--enable', '--disable'], env);
    expect(usage.status).toBe(2);

    // --force drops both directions.
    const forced = runCli(['sync', '--disable', '--force', '--json'], env);
    expect(forced.status, forced.stderr).toBe(0);
    expect(forced.json()).toMatchObject({ move: 'disable', from: 'cutover', to: 'copied', changed: true });
    await ctx.close();
  });
});

describe('rollback from every phase leaves v1 exactly as it should be', () => {
  it('schema-applied -> schema down --to 005', async () => {
    const ctx = await setUp();
    await seed(ctx, { servers: 20, toolsPerServer: 2, dirty: true });
    const before = await v1Image(db!.sql);
    await schemaUp(ctx, {});
    expect(await phase(db!.sql)).toBe('schema-applied');
    await schemaDown(ctx, { to: '005' });
    expect(await phase(db!.sql)).toBe('v1');
    expect(await v1Image(db!.sql)).toEqual(before);
    await ctx.close();
  });

  it('copied -> data --rollback', async () => {
    const ctx = await setUp();
    await seed(ctx, { servers: 20, toolsPerServer: 2, dirty: true });
    const before = await v1Image(db!.sql);
    await schemaUp(ctx, {});
    await ensureMapping(db!.sql);
    await executeData(ctx, { batchSize: 7, sync: false });
    expect(await phase(db!.sql)).toBe('copied');
    await rollback(ctx);
    expect(await phase(db!.sql)).toBe('schema-applied');
    expect(await migratedRows(db!.sql)).toBe(0);
    expect(await v1Image(db!.sql)).toEqual(before);
    await ctx.close();
  });

  it('syncing -> data --rollback (the forward sync goes off first): v1 keeps the writes made while syncing', async () => {
    const ctx = await setUp();
    await migrate(ctx, { servers: 20, tools: 2, batchSize: 7 });
    expect(await phase(db!.sql)).toBe('syncing');
    const stats = await startV1Writer(db!.conn, { maxOps: 60, seed: 3 }).done;
    expect(stats.errors).toEqual([]);
    const afterWrites = await v1Image(db!.sql);
    const plan = await planRollback(ctx);
    expect(plan.forward_sync).toBe('would_disable');
    const done = await rollback(ctx);
    expect(done.forward_sync).toBe('disabled');
    expect(done.rollback).toEqual(plan.rollback.map((r) => ({ ...r }))); // the dry-run predicted it exactly
    expect(await phase(db!.sql)).toBe('schema-applied');
    expect(await migratedRows(db!.sql)).toBe(0);
    expect(await v1Image(db!.sql)).toEqual(afterWrites);
    await ctx.close();
  });

  it('cutover -> sync --rollback: v1 holds every write made through v2', async () => {
    const ctx = await setUp();
    await migrate(ctx, { servers: 20, tools: 2, batchSize: 7 });
    await syncCutover(ctx);
    const stats = await startV2Writer(db!.conn, { maxOps: 80, seed: 5 }).done;
    expect(stats.errors).toEqual([]);
    await syncRollback(ctx);
    expect(await phase(db!.sql)).toBe('syncing');
    expect(await differences(db!.sql)).toMatchObject(NO_DIFFERENCES);
    // ... and the application can go back to v1 and on to removing the copy: v1 keeps it all.
    const v1 = await v1Image(db!.sql);
    const removed = (await rollback(ctx)).rollback;
    // Migrated resources that v2-native capabilities now reference stay (the FK would cascade).
    expect(await migratedRows(db!.sql)).toBe(removed.reduce((n, r) => n + Number(r.kept_referenced), 0));
    expect(await v1Image(db!.sql)).toEqual(v1);
    await ctx.close();
  });
});

describe('decommission --confirm', () => {
  it.skipIf(backupToolsTooOld())('refuses without a backup, within the grace period, while a view depends on v1, without --confirm; then drops v1', async () => {
    const ctx = await setUp();
    const sql = db!.sql;
    await migrate(ctx, { servers: 15, tools: 2, batchSize: 10 });
    await syncCutover(ctx);
    const base = { confirm: true, graceDays: 0, backupMaxAgeHours: 24, writeWindowMs: 200 };
    await refusedWith(decommission(ctx, base), /No backup was named/);
    await refusedWith(decommission(ctx, { ...base, backup: join(dir, 'missing.dump') }), /No verified backup/);
    const archive = join(dir, 'before-decommission.dump');
    await backup(ctx, archive);
    await refusedWith(decommission(ctx, { ...base, backup: archive, graceDays: 30 }), /grace period of 30 day\(s\) since the cutover .* has not passed/);
    await sql`create view public.server_names as select name from mcp_servers`;
    await refusedWith(decommission(ctx, { ...base, backup: archive }), /view public\.server_names/);
    await sql`drop view public.server_names`;
    await refusedWith(decommission(ctx, { ...base, backup: archive, confirm: false }), /drops, for good: public\.mcp_tools \(30 rows\), public\.mcp_servers \(15 rows\)/);
    expect(await phase(sql)).toBe('cutover');

    // An application still writing v1 (here 20 statements/s) stops the drop, named, and so does 109
    // run by hand; v2 writes flowing back to v1 through the reverse sync do not count.
    // (updates only: a v1 delete of a server the v2 writer is adding a capability to is a clash of the two applications, not of the sync)
    const legacy = startV1Writer(db!.conn, { ratePerSecond: 20, maxMs: 30_000, seed: 9, applicationName: 'legacy-v1-app', updatesOnly: true });
    const v2app = startV2Writer(db!.conn, { ratePerSecond: 20, maxMs: 30_000, seed: 10 });
    await new Promise((r) => setTimeout(r, 300));
    await refusedWith(decommission(ctx, { ...base, backup: archive, writeWindowMs: 1500 }), /still being written: \d+ application write statement\(s\) in the last 1\.5 s, by pid \d+ \(legacy-v1-app/);
    await expect(runSyncAction(ctx, 'decommission', { 'sark_migration.grace_days': '0', 'sark_migration.write_window': '1s' })).rejects.toThrow(/still being written/);
    expect((await legacy.stop()).errors).toEqual([]);
    await decommission(ctx, { ...base, backup: archive, confirm: false, writeWindowMs: 1500 }).catch((e: Error) => expect(e.message).toMatch(/drops, for good/));
    expect((await v2app.stop()).errors).toEqual([]);
    expect(await phase(sql)).toBe('cutover');

    const v2Before = (await sql<{ n: number }[]>`select count(*)::int as n from resources`)[0]!.n;
    const result = await decommission(ctx, { ...base, backup: archive });
    expect(result.dropped).toBe(true);
    expect(await phase(sql)).toBe('decommissioned');
    expect(await sql`select to_regclass('public.mcp_servers') as t`).toEqual([{ t: null }]);
    expect((await sql<{ n: number }[]>`select count(*)::int as n from resources`)[0]!.n).toBe(v2Before);
    expect(await sql`select tgname from pg_trigger where tgname like 'sark_sync%'`).toHaveLength(0);
    // v2 keeps working without the sync.
    await sql`update resources set name = 'after decommission' where id = (select id from resources order by id limit 1)`;
    // validate has nothing to compare any more: it says so and what to run instead (exit 3).
    const v = runCli(['validate', '--quick'], { DATABASE_URL: db!.url });
    expect(v.status, v.stderr).toBe(3);
    expect(v.stderr).toMatch(/decommissioned/);
    expect(v.stderr).toMatch(/pgtap\/02-v2-schema\.sql/);
    await ctx.close();
  });
});

describe('run', () => {
  it.skipIf(backupToolsTooOld())('stops at the first failing phase and names it; run again after the fix and it finishes; a third run has nothing to do', async () => {
    const ctx = await setUp();
    await seed(ctx, { servers: 25, toolsPerServer: 2, dirty: false });
    const junk = join(dir, 'not-a-backup.dump');
    writeFileSync(junk, 'this is not an archive');
    const o = { batchSize: 10, sync: true, optimize: false, longTransactionThreshold: '1min' };

    const failed = await runAll(ctx, { ...o, backup: junk });
    expect(failed.exitCode).toBe(1);
    expect(failed.result).toMatchObject({ status: 'failed', failed_phase: 'backup' });
    expect(failed.result.phases.map((p) => [p.phase, p.status])).toEqual([['preflight', 'passed'], ['backup', 'failed']]);
    expect(failed.result.phases[1]!.fix).toMatch(/new file name/);
    expect(await phase(db!.sql)).toBe('v1'); // nothing after the failed phase ran

    // (Only while the mapping's files still sit in sql/data: install them as `schema up` will.)
    await schemaUp(ctx, {});
    await ensureMapping(db!.sql);
    const archive = join(dir, 'run.dump');
    const passed = await runAll(ctx, { ...o, backup: archive });
    expect(passed.result.failed_phase).toBeNull();
    expect(passed.exitCode).toBe(0);
    expect(passed.result.phases.map((p) => [p.phase, p.status])).toEqual([
      ['preflight', 'passed'], ['backup', 'passed'], ['schema', 'passed'], ['data', 'passed'], ['validate', 'passed'], ['optimize', 'skipped'],
    ]);
    expect(existsSync(`${archive}.json`)).toBe(true);
    expect(passed.result.final.phase).toBe('syncing');
    expect(await differences(db!.sql)).toMatchObject(NO_DIFFERENCES);

    const again = await runAll(ctx, { ...o, backup: archive });
    expect(again.exitCode).toBe(0);
    expect(again.result.phases.find((p) => p.phase === 'data')!.summary).toMatch(/resources: \+0 ~0 =25/);
    await ctx.close();
  });
});
