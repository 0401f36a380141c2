/**
 * Phase 2, the copy. The SQL does the work (sql/mapping: sark_migration.copy_batch, which writes
 * through write_resources / write_capabilities, the same upsert the forward sync uses); this
 * module orders the steps, sizes and retries the batches, shows progress and times it.
 *
 *   1. refresh_quarantine()   dirty v1 rows are held back, each with its reason
 *   2. copy resources, then capabilities, each in lanes (key ranges side by side, one connection
 *      each: --jobs), in keyset batches of one transaction each, sized by time so that no batch
 *      holds its locks longer than the application can wait (src/data/batches.ts); progress is
 *      committed with each batch, so a killed run resumes after each lane's last committed batch.
 *      --offline: one statement per lane (the application must be stopped)
 *   3. delete_vanished()      migrated v2 rows whose v1 row was deleted since go too
 */
import { withPoolOf, type Context } from '../context.ts';
import { one } from '../db/connect.ts';
import { withLockRetry } from '../db/retry.ts';
import { log, progress, timedDebug } from '../output.ts';
import { forwardSyncOn } from '../sync/state.ts';
import { BatchSizer, batchCapMs, DEFAULT_BATCH_TIME_MS, IncompleteBatchAnswer, MAX_BATCH_ROWS, runBatch } from './batches.ts';

export const COPY_TARGETS = [
  { target: 'resources', source: 'mcp_servers' },
  { target: 'capabilities', source: 'mcp_tools' },
] as const;
export type CopyTarget = (typeof COPY_TARGETS)[number]['target'];

export interface TableCopy {
  table: CopyTarget;
  inserted: number;
  updated: number;
  unchanged: number;
  quarantined: number;
  deleted: number;
  batches: number;
  resumed: boolean;
  seconds: number;
  rows_per_second: number;
}

export interface CopyResult {
  tables: TableCopy[];
  preexisting_captured: number;
  quarantined: number;
  seconds: number;
  /** how the batches were run: time-bounded (live) or one statement per lane (offline) */
  mode: 'live' | 'offline';
  /** live: what each batch aimed at, and the cap past which it was cancelled and retried smaller */
  batch_time_ms: number | null;
  batch_cap_ms: number | null;
}

interface BatchRow {
  last_key: string | null;
  done: boolean;
  inserted: number;
  updated: number;
  unchanged: number;
  captured: number;
  rows_done: number;
}

export interface CopyOptions {
  /** at most this many rows per batch (default: as many as fit in batchTimeMs) */
  batchSize?: number;
  /** what each batch aims to take, in ms (default DEFAULT_BATCH_TIME_MS) */
  batchTimeMs?: number;
  /** lanes per table, copied side by side (sark_migration.copy_lanes); default DEFAULT_JOBS */
  jobs?: number;
  /** the application is stopped: one statement per lane, v1 locked in SHARE mode while the sync is on */
  offline?: boolean;
}

/**
 * Two lanes: on 2 cores, two inserters load 100,000 servers / 1,000,000 tools in 27-28 s, one in
 * 37-41 s even with the GIN merger beside it (bench). More lanes than cores only contend.
 */
export const DEFAULT_JOBS = 2;

export async function copyData(ctx: Context, opts: CopyOptions = {}): Promise<CopyResult> {
  const started = performance.now();
  const sql = ctx.sql;
  // The write watermark's triggers (DDL on the tracked tables, an instant under lock_timeout,
  // retried): with them, a re-run on an unchanged database proves it in time independent of size.
  const created = await withLockRetry('write watermark', () => sql<{ n: number }[]>`select sark_migration.install_write_watermark() as n`, undefined, {
    sql,
    tables: ['public.mcp_servers', 'public.mcp_tools', 'public.resources', 'public.capabilities'],
  });
  if (Number(created[0]!.n) > 0) log.debug(`write watermark: ${created[0]!.n} triggers created`);
  // The run watermark: when no input row was written since the last finished run began (and the
  // definitions are the same), every step would write nothing — proven without computing an image.
  const run = one(await timedDebug('begin_run', () => sql<{ run_id: number; noop: boolean; reason: string; copied: Record<string, number> }[]>`
    select * from sark_migration.begin_run()`));
  if (run.noop) {
    log.info(`nothing to copy: ${run.reason}`);
    return noopResult(ctx, run.copied, started);
  }
  log.debug(`run ${run.run_id}: ${run.reason}`);
  await timedDebug('refresh_quarantine', () => sql`select * from sark_migration.refresh_quarantine()`);
  const quarantine = await sql<{ source_table: string; n: number }[]>`
    select source_table, count(distinct source_id)::int as n from sark_migration.quarantine group by source_table`;
  const held = (source: string) => quarantine.find((q) => q.source_table === source)?.n ?? 0;

  const tables: TableCopy[] = [];
  // With the forward sync on, each batch locks its v1 rows first (sark_migration.copy_range).
  const lockSource = await forwardSyncOn(sql);
  const jobs = opts.jobs ?? DEFAULT_JOBS;
  const targetMs = opts.batchTimeMs ?? DEFAULT_BATCH_TIME_MS;
  // One session per lane, whatever the size of the command's pool; live batches run under their cap.
  const lanes = opts.offline ? withPoolOf(ctx, jobs) : withPoolOf(ctx, jobs, { statement_timeout: `${batchCapMs(targetMs)}ms` });
  let captured = 0;
  try {
    for (const { target, source } of COPY_TARGETS) {
      const t = await copyTable(ctx, lanes, target, source, held(source), { ...opts, jobs, lockSource, targetMs });
      captured += t.captured;
      tables.push(t.table);
    }
  } finally {
    await lanes.close();
  }
  if (captured > 0) log.warn(`${captured} v2 rows existed before this migration touched them; their images are saved for rollback`);
  const vanished = await timedDebug('delete_vanished', () => sql<{ target_table: CopyTarget; deleted: number; kept: number }[]>`select * from sark_migration.delete_vanished()`);
  for (const row of vanished) {
    const t = tables.find((x) => x.table === row.target_table);
    if (t) t.deleted = Number(row.deleted);
    if (Number(row.kept) > 0) log.warn(`${row.kept} ${row.target_table} whose v1 row is gone were kept: v2-native capabilities still reference them`);
  }
  await sql`select sark_migration.finish_run(${run.run_id})`;
  return {
    tables,
    preexisting_captured: captured,
    quarantined: tables.reduce((n, t) => n + t.quarantined, 0),
    seconds: (performance.now() - started) / 1000,
    mode: opts.offline ? 'offline' : 'live',
    batch_time_ms: opts.offline ? null : targetMs,
    batch_cap_ms: opts.offline ? null : batchCapMs(targetMs),
  };
}

interface LaneRow {
  lane: number;
  rows_done: number;
  finished: boolean;
}

/**
 * `plan` is the command's own session; `lanes` has the batch cap as statement_timeout, so only the
 * batches run there: planning the lanes (lane_ends reads every key) and counting the source took
 * longer than the 500 ms cap at 10,000,000 tools, and the copy stopped with "canceling statement
 * due to statement timeout" (bench at 1,000,000 servers).
 */
async function copyTable(
  plan: Context,
  lanesPool: Context,
  target: CopyTarget,
  source: string,
  quarantined: number,
  opts: CopyOptions & { jobs: number; lockSource: boolean; targetMs: number },
): Promise<{ table: TableCopy; captured: number }> {
  const started = performance.now();
  const { run } = one(await plan.sql<{ run: number }[]>`select sark_migration.copy_run(${target}) as run`);
  // Planned on the first call of the run; a resumed run keeps the lanes it was planned with.
  const lanes = await plan.sql<LaneRow[]>`
    select lane, rows_done, finished from sark_migration.copy_lanes(${target}, ${run}, ${opts.jobs}::int)`;
  const done = new Map(lanes.map((l) => [l.lane, Number(l.rows_done)]));
  const resumedRows = [...done.values()].reduce((a, b) => a + b, 0);
  // For the progress bar only: the planner's estimate (fresh after ANALYZE), counted when there is none.
  const { total } = one(await plan.sql.unsafe<{ total: number }[]>(`
    select case when c.reltuples >= 0 then c.reltuples::bigint else (select count(*) from public.${source}) end::int as total
      from pg_catalog.pg_class c where c.oid = 'public.${source}'::regclass`));
  const sql = lanesPool.sql;
  if (resumedRows > 0) log.info(`${target}: resuming run ${run} after ${resumedRows} rows already copied`);
  if (lanes.length > 1) log.debug(`${target}: ${lanes.length} lanes side by side`);

  const bar = progress(`copying ${source} -> ${target}`, total);
  const totals = { inserted: 0, updated: 0, unchanged: 0, batches: 0, captured: 0 };
  let failed = false;
  const batch = (lane: number, rows: number | null) =>
    sql<BatchRow[]>`
      select * from sark_migration.copy_batch(${target}, ${run}, ${rows}::int, ${lane}::int, ${opts.lockSource})`.then((r) => {
      const row = r[0];
      if (row?.rows_done == null) {
        throw new IncompleteBatchAnswer(`copy_batch of ${target}, lane ${lane}, answered ${r.length} row(s) and no result`);
      }
      return row;
    });
  const copyLane = async (lane: number) => {
    const sizer = new BatchSizer({ targetMs: opts.targetMs, maxRows: opts.batchSize ?? MAX_BATCH_ROWS });
    // Autocommit: each call is one statement, so each batch (and its progress row) is one transaction.
    while (!failed) {
      const b = opts.offline
        ? await batch(lane, opts.batchSize ?? null)
        : await runBatch(`copy ${target}, lane ${lane}`, sizer, (rows) => batch(lane, rows), (r) => Number(r.inserted) + Number(r.updated) + Number(r.unchanged));
      totals.inserted += Number(b.inserted);
      totals.updated += Number(b.updated);
      totals.unchanged += Number(b.unchanged);
      totals.captured += Number(b.captured);
      totals.batches += 1;
      done.set(lane, Number(b.rows_done));
      bar.update(Math.min(total, [...done.values()].reduce((a, x) => a + x, 0)));
      if (b.done) return;
    }
  };
  // A lane that fails stops the others after their current batch (committed, so a re-run resumes).
  const outcomes = await Promise.allSettled(
    lanes.filter((l) => !l.finished).map((l) => copyLane(l.lane).catch((e: unknown) => ((failed = true), Promise.reject(e)))),
  );
  const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failure) throw failure.reason;
  bar.done();
  const seconds = (performance.now() - started) / 1000;
  const written = totals.inserted + totals.updated + totals.unchanged;
  const { captured, ...counts } = totals;
  return {
    captured,
    table: {
      table: target,
      ...counts,
      quarantined,
      deleted: 0,
      resumed: resumedRows > 0,
      seconds,
      rows_per_second: seconds > 0 ? Math.round(written / seconds) : written,
    },
  };
}

async function noopResult(ctx: Context, copied: Record<string, number>, started: number): Promise<CopyResult> {
  const held = await ctx.sql<{ source_table: string; n: number }[]>`
    select source_table, count(distinct source_id)::int as n from sark_migration.quarantine group by source_table`;
  const tables = COPY_TARGETS.map(({ target, source }) => ({
    table: target,
    inserted: 0,
    updated: 0,
    unchanged: Number(copied?.[target] ?? 0),
    quarantined: held.find((q) => q.source_table === source)?.n ?? 0,
    deleted: 0,
    batches: 0,
    resumed: false,
    seconds: 0,
    rows_per_second: 0,
  }));
  return {
    tables,
    preexisting_captured: 0,
    quarantined: tables.reduce((n, t) => n + t.quarantined, 0),
    seconds: (performance.now() - started) / 1000,
    mode: 'live',
    batch_time_ms: null,
    batch_cap_ms: null,
  };
}
