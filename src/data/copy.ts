/**
 * Phase 2, the copy. The SQL does the work (sql/mapping: sark_migration.copy_batch); this module
 * orders the steps, gives each batch its own transaction, shows progress and times it.
 *
 *   1. capture_preexisting()  v2 rows with our ids that we did not make are saved for rollback
 *   2. refresh_quarantine()   dirty v1 rows are held back, each with its reason
 *   3. copy resources, then capabilities, each in lanes (key ranges side by side, one connection
 *      each: --jobs): keyset batches, one transaction each (or one transaction per lane without
 *      --batch-size); progress is committed with each batch, so a killed run resumes after each
 *      lane's last committed batch
 *   4. delete_vanished()      migrated v2 rows whose v1 row was deleted since go too
 */
import { withPoolOf, type Context } from '../context.ts';
import { one } from '../db/connect.ts';
import { log, progress } from '../output.ts';
import { copyBatchLockingSource, forwardSyncOn } from '../sync/copyLock.ts';

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
}

interface BatchRow {
  last_key: string | null;
  done: boolean;
  inserted: number;
  updated: number;
  unchanged: number;
  rows_done: number;
}

export interface CopyOptions {
  batchSize?: number;
  /** lanes per table, copied side by side (sark_migration.copy_lanes); default DEFAULT_JOBS */
  jobs?: number;
}

/**
 * Two lanes: on 2 cores, two inserters load 100,000 servers / 1,000,000 tools in 27-28 s, one in
 * 37-41 s even with the GIN merger beside it (bench). More lanes than cores only contend.
 */
export const DEFAULT_JOBS = 2;

export async function copyData(ctx: Context, opts: CopyOptions = {}): Promise<CopyResult> {
  const started = performance.now();
  const sql = ctx.sql;
  // The run watermark: when no input row was written since the last finished run began (and the
  // definitions are the same), every step would write nothing — proven without computing an image.
  const run = one(await sql<{ run_id: number; noop: boolean; reason: string; copied: Record<string, number> }[]>`
    select * from sark_migration.begin_run()`);
  if (run.noop) {
    log.info(`nothing to copy: ${run.reason}`);
    return noopResult(ctx, run.copied, started);
  }
  log.debug(`run ${run.run_id}: ${run.reason}`);
  const [captured] = await sql<{ n: number }[]>`select coalesce(sum(captured), 0)::int as n from sark_migration.capture_preexisting()`;
  if (captured!.n > 0) log.warn(`${captured!.n} v2 rows existed before this migration touched them; their images are saved for rollback`);
  await sql`select * from sark_migration.refresh_quarantine()`;
  const quarantine = await sql<{ source_table: string; n: number }[]>`
    select source_table, count(distinct source_id)::int as n from sark_migration.quarantine group by source_table`;
  const held = (source: string) => quarantine.find((q) => q.source_table === source)?.n ?? 0;

  const tables: TableCopy[] = [];
  // With the forward sync on, each batch locks its v1 rows first (src/sync/copyLock.ts).
  const lockSource = await forwardSyncOn(sql);
  // One session per lane, whatever the size of the command's pool.
  const jobs = opts.jobs ?? DEFAULT_JOBS;
  const lanes = jobs > 1 ? withPoolOf(ctx, jobs) : ctx;
  try {
    for (const { target, source } of COPY_TARGETS) {
      tables.push(await copyTable(lanes, target, source, held(source), { ...opts, jobs, lockSource }));
    }
  } finally {
    if (lanes !== ctx) await lanes.close();
  }
  for (const row of await sql<{ target_table: CopyTarget; deleted: number; kept: number }[]>`select * from sark_migration.delete_vanished()`) {
    const t = tables.find((x) => x.table === row.target_table);
    if (t) t.deleted = Number(row.deleted);
    if (Number(row.kept) > 0) log.warn(`${row.kept} ${row.target_table} whose v1 row is gone were kept: v2-native capabilities still reference them`);
  }
  await sql`select sark_migration.finish_run(${run.run_id})`;
  return {
    tables,
    preexisting_captured: captured!.n,
    quarantined: tables.reduce((n, t) => n + t.quarantined, 0),
    seconds: (performance.now() - started) / 1000,
  };
}

interface LaneRow {
  lane: number;
  rows_done: number;
  finished: boolean;
}

async function copyTable(ctx: Context, target: CopyTarget, source: string, quarantined: number, opts: CopyOptions & { jobs: number; lockSource: boolean }): Promise<TableCopy> {
  const sql = ctx.sql;
  const started = performance.now();
  const { run } = one(await sql<{ run: number }[]>`select sark_migration.copy_run(${target}) as run`);
  // Planned on the first call of the run; a resumed run keeps the lanes it was planned with.
  const lanes = await sql<LaneRow[]>`
    select lane, rows_done, finished from sark_migration.copy_lanes(${target}, ${run}, ${opts.jobs}::int)`;
  const done = new Map(lanes.map((l) => [l.lane, Number(l.rows_done)]));
  const resumedRows = [...done.values()].reduce((a, b) => a + b, 0);
  const { total } = one(await sql.unsafe<{ total: number }[]>(`select count(*)::int as total from public.${source}`));
  if (resumedRows > 0) log.info(`${target}: resuming run ${run} after ${resumedRows} rows already copied`);
  if (lanes.length > 1) log.debug(`${target}: ${lanes.length} lanes side by side`);

  const bar = progress(`copying ${source} -> ${target}`, total);
  const totals = { inserted: 0, updated: 0, unchanged: 0, batches: 0 };
  let failed = false;
  const copyLane = async (lane: number) => {
    // Autocommit: each call is one statement, so each batch (and its progress row) is one transaction.
    while (!failed) {
      const batch = opts.lockSource
        ? await copyBatchLockingSource<BatchRow>(ctx, target, run, opts.batchSize, lane)
        : one(await sql<BatchRow[]>`
      select * from sark_migration.copy_batch(${target}, ${run}, ${opts.batchSize ?? null}::int, ${lane}::int)`);
      totals.inserted += Number(batch.inserted);
      totals.updated += Number(batch.updated);
      totals.unchanged += Number(batch.unchanged);
      totals.batches += 1;
      done.set(lane, Number(batch.rows_done));
      bar.update(Math.min(total, [...done.values()].reduce((a, b) => a + b, 0)));
      if (batch.done) return;
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
  return {
    table: target,
    ...totals,
    quarantined,
    deleted: 0,
    resumed: resumedRows > 0,
    seconds,
    rows_per_second: seconds > 0 ? Math.round(written / seconds) : written,
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
  return { tables, preexisting_captured: 0, quarantined: tables.reduce((n, t) => n + t.quarantined, 0), seconds: (performance.now() - started) / 1000 };
}
