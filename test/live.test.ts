/**
 * Zero downtime as a user gets it, by default, without flags: an application keeps writing v1 at a
 * fixed rate while `data --execute`, `run` and `sync --cutover` run with their defaults. One writer
 * updates, inserts and deletes random servers and tools; a second one chases the copy, writing the
 * rows of the batch being copied (right after a lane's last committed key), which are the rows
 * the copy holds locked. Afterwards every writer statement has succeeded, none waited 1 s (the
 * bound the README promises; the aim is tens of milliseconds), and v1 = v2 by the validation views.
 * The longest waits are printed. (Correctness and bounded waits, not timing: bench measures speed.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mergeStats, writerSummary } from '../src/bench/appWriter.ts';
import { executeData } from '../src/commands/data.ts';
import { seed } from '../src/commands/seed.ts';
import { validate } from '../src/commands/validate.ts';
import type { Context } from '../src/context.ts';
import { schemaUp } from '../src/schema/migrate.ts';
import { runAll } from '../src/sync/run.ts';
import { readSyncState } from '../src/sync/state.ts';
import { syncCutover } from '../src/sync/sync.ts';
import { freshDatabase, type TestDatabase } from './support/db.ts';
import { differences, ensureMapping, NO_DIFFERENCES, startCustomWriter, startV1Writer, startV2Writer, type Writer, type WriterStats } from './support/writer.ts';

/** The README's promise for an application write during any phase: never a wait of 1 s. */
const NEVER_MS = 1000;
const RATE = 40;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let db: TestDatabase | undefined;
afterEach(async () => {
  await db?.drop();
  db = undefined;
});

async function seeded(): Promise<Context> {
  db = await freshDatabase('v1');
  const ctx = await db.context();
  await seed(ctx, { servers: 3000, toolsPerServer: 5, dirty: false });
  return ctx;
}

/** Updates the v1 row right after a lane's last committed key: a row of the batch in flight. */
function startBatchChaser(d: TestDatabase): Writer {
  return startCustomWriter(d.conn, { ratePerSecond: RATE, maxMs: 120_000, seed: 5, applicationName: 'sark-test-chaser' }, async () => {
    let n = 0;
    return (r) => {
      n += 1;
      const [table, target] = r() < 0.5 ? ['mcp_tools', 'capabilities'] : ['mcp_servers', 'resources'];
      const offset = Math.floor(r() * 20);
      return {
        kind: `chase_${table}`,
        run: async (q) => {
          // Before schema up and the mapping (run), there is no copy to chase yet.
          const [{ ok }] = (await q`select to_regclass('sark_migration.copy_progress') is not null as ok`) as unknown as [{ ok: boolean }];
          if (!ok) return;
          await q.unsafe(
          `update ${table} set description = $1, updated_at = clock_timestamp()
            where id = (select v.id from ${table} v,
                          (select last_key from sark_migration.copy_progress
                            where target_table = $2 and finished_at is null and last_key is not null
                            order by random() limit 1) p
                         where v.id > p.last_key order by v.id limit 1 offset $3)`,
          [`chased ${n}`, target, offset],
          );
        },
      };
    };
  });
}

function report(what: string, ...stats: WriterStats[]) {
  const w = writerSummary(mergeStats(stats));
  console.info(`${what}: ${w.statements} writer statements, p50 ${w.p50_ms} ms, p99 ${w.p99_ms} ms, longest wait ${w.max_ms} ms (${w.slowest})`);
  return w.max_ms;
}

async function expectV1EqualsV2(ctx: Context) {
  expect(await differences(db!.sql)).toMatchObject(NO_DIFFERENCES);
  const full = await validate(ctx, 'full');
  expect(full.issues.filter((i) => i.severity === 'error' || i.severity === 'critical')).toEqual([]);
}

describe('a live application writes v1 at a fixed rate', () => {
  it('through the default data --execute: every statement succeeds, none waits 1 s, v1 = v2', async () => {
    const ctx = await seeded();
    await schemaUp(ctx, {});
    await ensureMapping(db!.sql);
    const app = startV1Writer(db!.conn, { ratePerSecond: RATE, maxMs: 120_000, seed: 1 });
    const chaser = startBatchChaser(db!);
    await sleep(500);
    const copy = await executeData(ctx, {});
    await sleep(300);
    const [a, c] = [await app.stop(), await chaser.stop()];
    expect(copy.mode).toBe('live');
    expect([...a.errors, ...c.errors]).toEqual([]);
    expect(c.byKind.chase_mcp_tools ?? 0).toBeGreaterThan(0);
    expect(report('data --execute', a, c)).toBeLessThan(NEVER_MS);
    expect((await readSyncState(db!.sql)).failures.open).toBe(0);
    await expectV1EqualsV2(ctx);
  });

  it('through run (every phase, defaults): every statement succeeds, none waits 1 s, v1 = v2', async () => {
    const ctx = await seeded();
    const app = startV1Writer(db!.conn, { ratePerSecond: RATE, maxMs: 120_000, seed: 2 });
    const chaser = startBatchChaser(db!);
    await sleep(500);
    const run = await runAll(ctx, { sync: true, optimize: true, longTransactionThreshold: '1min' });
    await sleep(300);
    const [a, c] = [await app.stop(), await chaser.stop()];
    expect(run.result.failed_phase, JSON.stringify(run.result.phases.find((p) => p.status === 'failed'))).toBeNull();
    expect([...a.errors, ...c.errors].slice(0, 3)).toEqual([]);
    expect(report('run', a, c)).toBeLessThan(NEVER_MS);
    await expectV1EqualsV2(ctx);
  });

  it('through sync --cutover while v1 and v2 applications write: every statement succeeds, none waits 1 s, v1 = v2', async () => {
    const ctx = await seeded();
    await schemaUp(ctx, {});
    await ensureMapping(db!.sql);
    await executeData(ctx, {});
    // Before the cutover the v2 application writes only what lives in v2 alone (non-MCP
    // resources, which v1 cannot hold): its writes contend with the cutover's triggers on
    // resources and capabilities, and none of them is owed to v1.
    // Updates only: a v1 delete of a server the v2 application is adding a capability to would be a clash of the two applications.
    const v1app = startV1Writer(db!.conn, { ratePerSecond: RATE, maxMs: 120_000, seed: 3, updatesOnly: true });
    const v2before = startCustomWriter(db!.conn, { ratePerSecond: RATE, maxMs: 120_000, seed: 4, applicationName: 'sark-test-v2-writer' }, async () => {
      let n = 0;
      return () => {
        n += 1;
        const id = `grpc-${n}`;
        return n % 3 === 0
          ? { kind: 'delete_grpc_resource', run: (q) => q`delete from resources where id = ${`grpc-${n - 1}`}` }
          : { kind: 'insert_grpc_resource', run: (q) => q`insert into resources (id, name, protocol, endpoint, sensitivity_level, metadata) values (${id}, ${`grpc ${n}`}, 'grpc', ${`grpc://svc-${n}:50051`}, 'low', '{}')` };
      };
    });
    await sleep(1000);
    await syncCutover(ctx);
    await sleep(500);
    const b = await v2before.stop();
    // After it, the v2 application writes MCP rows too; they reach v1 through the reverse sync.
    const v2app = startV2Writer(db!.conn, { ratePerSecond: RATE, maxMs: 120_000, seed: 6 });
    await sleep(1500);
    const [a, c] = [await v1app.stop(), await v2app.stop()];
    expect([...a.errors, ...b.errors, ...c.errors]).toEqual([]);
    expect(report('sync --cutover', a, b, c)).toBeLessThan(NEVER_MS);
    const state = await readSyncState(db!.sql);
    expect(state.phase).toBe('cutover');
    expect(state.failures.open).toBe(0);
    const d = await differences(db!.sql);
    expect(d, JSON.stringify(d.sample, null, 1)).toMatchObject(NO_DIFFERENCES);
  });
});
