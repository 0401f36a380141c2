/**
 * Zero downtime under load: an application writer runs (its own connection, no lock_timeout of
 * its own) while the migration copies, enables the sync, validates and cuts over; afterwards v1
 * and v2 agree row for row, and the writer never waited longer than the lock_timeout plus one
 * copy batch. Then a v2 writer after the cutover and a rollback: v1 holds every change. And a
 * long transaction during the DDL: the DDL times out and retries; the writer is not held longer
 * than the lock_timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from '../src/context.ts';
import type { CopyResult } from '../src/data/copy.ts';
import { executeData } from '../src/commands/data.ts';
import { validate } from '../src/commands/validate.ts';
import { seed } from '../src/commands/seed.ts';
import { openSql } from '../src/db/connect.ts';
import { log } from '../src/output.ts';
import { schemaUp } from '../src/schema/migrate.ts';
import { readSyncState } from '../src/sync/state.ts';
import { syncCutover, syncEnable, syncRollback } from '../src/sync/sync.ts';
import { freshDatabase, type TestDatabase } from './support/db.ts';
import { differences, ensureMapping, inverseDifferences, NO_DIFFERENCES, startCustomWriter, startV1Writer, startV2Writer } from './support/writer.ts';

const LOCK_TIMEOUT_MS = 1000;
/** Scheduling noise on a busy 2-core machine; every bound below is "what we promise + this". */
const MARGIN_MS = 750;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The longest a writer may wait because of a copy batch: its duration, bounded from the run. */
const longestBatchMs = (r: CopyResult) => Math.max(...r.tables.map((t) => (1000 * t.seconds) / Math.max(1, t.batches)));

describe('a migration under a writer at full speed', () => {
  let db: TestDatabase;
  let ctx: Context;
  beforeAll(async () => {
    db = await freshDatabase('v1');
    ctx = await db.context({ lockTimeout: `${LOCK_TIMEOUT_MS}ms` });
    await seed(ctx, { servers: 1500, toolsPerServer: 3, dirty: false });
    await schemaUp(ctx, {});
    await ensureMapping(ctx.sql);
  });
  afterAll(async () => {
    await ctx?.close();
    await db?.drop();
  });

  it('copy (batched), sync --enable, validation and cutover with a v1 writer running: v1 and v2 end equal', async () => {
    const writer = startV1Writer(db.conn, { maxMs: 50_000, seed: 11 });
    await sleep(400);
    await syncEnable(ctx);
    const copy = await executeData(ctx, { batchSize: 250 });
    // Validation while the writer writes: a v1 write and its sync commit together, so any one
    // snapshot sees both sides equal.
    expect(await differences(db.sql)).toMatchObject(NO_DIFFERENCES);
    expect(await inverseDifferences(db.sql)).toBe(0);
    const quick = await validate(ctx, 'quick');
    expect(quick.issues.filter((i) => i.severity === 'error' || i.severity === 'critical')).toEqual([]);
    await syncCutover(ctx);
    await sleep(400);
    const stats = await writer.stop();

    expect(stats.errors).toEqual([]);
    expect(stats.ops).toBeGreaterThan(100);
    const state = await readSyncState(db.sql);
    expect(state.phase).toBe('cutover');
    expect(state.failures.open).toBe(0);
    expect(await differences(db.sql)).toMatchObject(NO_DIFFERENCES);
    expect(await inverseDifferences(db.sql)).toBe(0);
    const bound = LOCK_TIMEOUT_MS + longestBatchMs(copy) + MARGIN_MS;
    console.info(`v1 writer: ${stats.ops} statements, ${stats.throughput.toFixed(0)}/s, max wait ${stats.maxLatencyMs.toFixed(0)} ms (${stats.maxLatencyKind}); bound ${bound.toFixed(0)} ms`);
    expect(stats.maxLatencyMs).toBeLessThan(bound);
  });

  it('a v2 writer after the cutover, then sync --rollback: v1 holds every change', async () => {
    const writer = startV2Writer(db.conn, { maxMs: 3000, seed: 12 });
    const stats = await writer.done;
    expect(stats.errors).toEqual([]);
    expect(stats.ops).toBeGreaterThan(50);
    await syncRollback(ctx);
    const state = await readSyncState(db.sql);
    expect(state.phase).toBe('syncing');
    expect(state.failures.open).toBe(0);
    expect(state.unrepresentable.total).toBe(0);
    expect(await differences(db.sql)).toMatchObject(NO_DIFFERENCES);
  });
});

describe('a long transaction during the DDL', () => {
  let db: TestDatabase;
  const warnings: string[] = [];
  const warn = log.warn;
  beforeAll(async () => {
    db = await freshDatabase('v1');
    log.warn = (m: string) => void warnings.push(m);
  });
  afterAll(async () => {
    log.warn = warn;
    await db?.drop();
  });

  /** An open transaction that holds `lockSql`'s locks for holdMs, then commits. */
  async function holdLocks(lockSql: string, holdMs: number): Promise<() => Promise<void>> {
    const blocker = openSql({ ...db.conn, applicationName: 'sark-test-long-transaction' }, {}, 1);
    const reserved = await blocker.reserve();
    await reserved.unsafe('begin');
    await reserved.unsafe(lockSql);
    const released = sleep(holdMs).then(async () => {
      await reserved.unsafe('commit');
      reserved.release();
      await blocker.end({ timeout: 5 });
    });
    return () => released;
  }

  it('schema up: the DDL times out and retries, and a writer is never held longer than the lock_timeout', async () => {
    const ctx = await db.context({ lockTimeout: '500ms' });
    await seed(ctx, { servers: 100, toolsPerServer: 2, dirty: false });
    // 007 alters audit_events: a reader holding ACCESS SHARE on it blocks the ALTER.
    const released = await holdLocks('select count(*) from audit_events', 2000);
    const writer = startCustomWriter(db.conn, { maxMs: 20_000 }, async () => () => ({
      kind: 'insert_audit_event',
      run: (q) => q`insert into audit_events (id, event_type, details) values (gen_random_uuid(), 'tool_invoked', '{}')`,
    }));
    await sleep(100);
    warnings.length = 0;
    const change = await schemaUp(ctx, {});
    await released();
    const stats = await writer.stop();
    // (change.applied lists only the migrations of the attempt that succeeded)
    expect(change.to).toBe('007_federation');
    expect(warnings.some((w) => /lock not available/.test(w))).toBe(true);
    expect(stats.errors).toEqual([]);
    console.info(`audit writer during schema up: ${stats.ops} statements, max wait ${stats.maxLatencyMs.toFixed(0)} ms`);
    expect(stats.maxLatencyMs).toBeLessThan(500 + MARGIN_MS);
    await ctx.close();
  });

  it('sync --enable: CREATE TRIGGER times out behind a writing transaction and retries; writers wait at most the lock_timeout', async () => {
    const ctx = await db.context({ lockTimeout: '500ms' });
    await ensureMapping(ctx.sql);
    // An open transaction that inserted a server holds ROW EXCLUSIVE on mcp_servers (and a row lock).
    const released = await holdLocks(
      `insert into mcp_servers (id, name, transport, endpoint, sensitivity_level, created_at, updated_at)
       values (gen_random_uuid(), 'in a long transaction', 'http', 'https://long.example.com', 'low', now(), now())`,
      2000,
    );
    const writer = startV1Writer(db.conn, { maxMs: 20_000, seed: 21 });
    await sleep(100);
    warnings.length = 0;
    const move = await syncEnable(ctx);
    await released();
    await sleep(200);
    const stats = await writer.stop();
    expect(move.to).toBe('syncing');
    expect(warnings.some((w) => /lock not available/.test(w))).toBe(true);
    expect(stats.errors).toEqual([]);
    console.info(`v1 writer during sync --enable: ${stats.ops} statements, max wait ${stats.maxLatencyMs.toFixed(0)} ms; slowest ${[...stats.latenciesMs].sort((a, b) => b - a).slice(0, 6).map((m) => m.toFixed(0)).join(", ")} ms`);
    expect(stats.maxLatencyMs).toBeLessThan(500 + MARGIN_MS);
    // The copy after it brings everything written before and during the wait to v2.
    await executeData(ctx, { batchSize: 50 });
    expect(await differences(db.sql)).toMatchObject(NO_DIFFERENCES);
    await ctx.close();
  });
});
