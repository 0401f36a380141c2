/**
 * The loads `bench` compares, each on the same v1 data into the same empty v2 tables. A load is a
 * loader under an index strategy:
 *
 *   loader  insert  the bare INSERT … SELECT of the mapping's images, one statement per table:
 *                   the floor, what moving the rows costs without batching, bookkeeping and
 *                   conflict handling
 *           lanes   the same bare INSERT … SELECT split into --jobs key ranges, one session
 *                   each, side by side: the floor at the copy's parallelism
 *           copy    the real Phase 2 copy (copyData, as `data --execute` runs it, in --jobs lanes)
 *           live    the same copy while an application updates v1 rows at --writer-rate statements/s
 *                   (src/bench/appWriter.ts): its latencies are what the copy makes users wait
 *           naive   the public implementation's approach, written here: one INSERT … SELECT … ON
 *                   CONFLICT (id) DO UPDATE of every column per table, no batching, no ledger, no
 *                   sync, no check of values; what "x times the naive copy" is measured against.
 *                   Run a second time on the loaded tables too (it rewrites every row: rerun_seconds)
 *
 *   index   A       every index of sql/optimize/indexes in place before the load (created on the
 *                   empty tables), the GIN pending lists merged beside the load: by the other
 *                   lanes, or by the merger on a second connection when there is one lane
 *                   (src/optimize/load.ts loadWithIndexesInPlace)
 *           A0      every index in place, nothing else
 *           S       the schema's own indexes only (migration 006, as a fresh v2 schema has them), in
 *                   place; none of the recommended ones (the naive upsert's setting). For the copy
 *                   (copy:S), the recommended ones are built after it, concurrently: their upkeep
 *                   during the load against one build afterwards
 *           B       drop those indexes, load, then CREATE INDEX CONCURRENTLY each (what a live
 *                   database would need), with the build session's maintenance_work_mem and
 *                   parallel workers
 *
 * The index strategies are compared with the insert loader, so the answer does not depend on the
 * copy's own machinery; the floor of the copy is insert:A, the same statement shape under the same
 * index strategy as copy:A.
 */
import { withPoolOf, type Context } from '../context.ts';
import { log } from '../output.ts';
import type { BuildResult, BuildSettings } from '../optimize/indexes.ts';
import { dropIndexConcurrently, ensureIndexes, openMaintenance } from '../optimize/indexes.ts';
import { buildSecondaryIndexes, dropSecondaryIndexes, loadWithIndexesInPlace, loadedTableIndexes, withGinMerger, type MergerStats } from '../optimize/load.ts';
import type { CpuUsage } from './cpu.ts';
import { mergeStats, startV1Writer, writerSummary } from './appWriter.ts';
import { runCopy } from './hooks.ts';

export const LOADS = ['naive:S', 'insert:B', 'insert:A0', 'insert:A', 'lanes:A', 'live:A', 'copy:A', 'copy:A0', 'copy:B', 'copy:S', 'unsynced:A'] as const;
export type LoadName = (typeof LOADS)[number];
export const DEFAULT_LOADS: LoadName[] = ['naive:S', 'insert:B', 'insert:A0', 'insert:A', 'lanes:A', 'live:A', 'copy:A'];
type Loader = 'naive' | 'insert' | 'lanes' | 'copy' | 'live' | 'unsynced';

/** The loaders that run the real copy (copyData), and so leave a finished copy run behind. */
const COPY_LOADERS: readonly Loader[] = ['copy', 'live', 'unsynced'];
const isCopyLoader = (loader: Loader) => COPY_LOADERS.includes(loader);
/** Whether a load runs the real copy: the pipeline continues from the last load, which must be one. */
export const isCopyLoad = (name: string) => isCopyLoader(name.split(':')[0] as Loader);

export interface LoadRun {
  name: LoadName;
  description: string;
  /** until the tables are loaded and fully indexed */
  seconds: number;
  /** until the last row is in (for B: before the index builds; for A: before the final merge) */
  load_seconds: number;
  build_seconds: number;
  resources: number;
  capabilities: number;
  /** server CPU (when the server runs on this machine): independent of what else the machine runs */
  cpu?: CpuUsage;
  merger?: MergerStats;
  builds?: BuildResult[];
  /** live: the application writer's statements and latencies during the load */
  writer?: ReturnType<typeof writerSummary>;
  /** naive: the same statements again on the loaded tables (the public script's re-run) */
  rerun_seconds?: number;
  /** the copy loads: whether the forward sync was on (each batch locking its v1 rows) */
  forward_sync?: boolean;
}

const INDEXING = { A: 'indexes in place, GIN merged beside', A0: 'indexes in place', S: 'the schema\'s indexes in place (no recommended ones)', B: 'indexes dropped, built after, concurrently' } as const;

/** Lanes the load runs in: the bare INSERT one, the others --jobs. */
const lanesOf = (loader: Loader, jobs: number) => (loader === 'insert' || loader === 'naive' ? 1 : jobs);

export const describeLoad = (name: LoadName, jobs: number, writerRate = 0) => {
  const [loader, indexing] = name.split(':') as [Loader, keyof typeof INDEXING];
  const lanes = lanesOf(loader, jobs);
  const what = { naive: 'naive upsert (INSERT … SELECT … ON CONFLICT DO UPDATE, one statement per table)', insert: 'bare INSERT … SELECT', lanes: 'bare INSERT … SELECT', copy: 'copy (copyData)', unsynced: 'copy (copyData) without the forward sync (data --execute --no-sync: no FOR SHARE lock on the v1 rows)', live: `copy (copyData), application writing v1 at ${writerRate}/s` }[loader];
  const after = indexing === 'S' && loader !== 'naive' ? ', the recommended ones built after it, concurrently' : '';
  return `${what}${lanes > 1 ? ` in ${lanes} lanes` : ''}, ${INDEXING[indexing]}${after}`;
};

/** Empties the v2 tables and flushes dirty buffers, so each load starts from the same state. */
export async function resetV2(ctx: Context): Promise<void> {
  // Bench owns this database: wait for autovacuum, which a load of a million rows sets off, rather
  // than give up after the session's lock_timeout (PostgreSQL cancels autovacuum for a waiter
  // only after deadlock_timeout, 1 s).
  await ctx.sql.begin(async (tx) => {
    await tx`set local lock_timeout = '5min'`;
    await tx`truncate public.capabilities, public.resources`;
  });
  await ctx.sql`checkpoint`.catch((e) => log.debug(`checkpoint skipped: ${(e as Error).message}`));
}

/** How a load runs: the copy's batches and lanes, the index builds, the live application's rate. */
export interface LoadOptions {
  batchSize?: number;
  batchTimeMs?: number;
  jobs: number;
  build: BuildSettings;
  writerRate: number;
}

const syncOf = (r: object) => ('synced' in r ? { forward_sync: Boolean(r.synced) } : {});

export async function runLoad(ctx: Context, name: LoadName, opts: LoadOptions): Promise<LoadRun> {
  const [loader] = name.split(':') as [Loader];
  if (loader !== 'live') return runLoadQuietly(ctx, name, opts);
  // The application starts before the copy and stops after it, so every batch meets it.
  // Updates only (single servers, three servers at once, tools), so every load copies the same rows.
  // Four sessions, as an application's pool: one session waiting on a row does not hold back the
  // others, so the rate holds.
  const sessions = 4;
  const writers = Array.from({ length: sessions }, (_, k) =>
    startV1Writer({ ...ctx.conn, applicationName: 'sark-bench-application' }, { ratePerSecond: opts.writerRate / sessions, seed: 42 + k, updatesOnly: true }),
  );
  await new Promise((r) => setTimeout(r, 1000));
  const run = await runLoadQuietly(ctx, name, opts).finally(() => Promise.all(writers.map((w) => w.stop())));
  const summary = writerSummary(mergeStats(await Promise.all(writers.map((w) => w.done))));
  log.info(`application writer during the copy: ${summary.statements} statements (${summary.errors} errors), p50 ${summary.p50_ms} ms, p99 ${summary.p99_ms} ms, max ${summary.max_ms} ms`);
  return { ...run, writer: summary };
}

async function runLoadQuietly(ctx: Context, name: LoadName, opts: LoadOptions): Promise<LoadRun> {
  const [loader, indexing] = name.split(':') as [Loader, 'A' | 'A0' | 'S' | 'B'];
  const lanes = lanesOf(loader, opts.jobs);
  const load = () => (isCopyLoader(loader) ? runCopy(ctx, { ...opts, sync: loader !== 'unsynced' }) : insertAll(ctx, lanes));
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const base = { name, description: describeLoad(name, opts.jobs, opts.writerRate) };
  if (indexing === 'A') {
    // Exactly what `data --execute` does with empty tables (src/optimize/load.ts).
    const { result, merger, built } = await loadWithIndexesInPlace(ctx, load, { lanes, build: opts.build });
    const s = elapsed();
    return { ...base, seconds: s, load_seconds: s - merger.final_seconds, build_seconds: merger.final_seconds, resources: result.resources, capabilities: result.capabilities, merger, builds: built, ...syncOf(result) };
  }
  if (indexing === 'S') {
    // A fresh v2 schema, as the public script meets it: the migration's indexes, no others.
    const maint = openMaintenance(ctx);
    try {
      for (const d of loadedTableIndexes().filter((x) => x.kind !== 'schema')) await dropIndexConcurrently(maint, d.name);
    } finally {
      await maint.end({ timeout: 5 });
    }
    await ensureIndexes(ctx, loadedTableIndexes().filter((x) => x.kind === 'schema'), opts.build);
    const t = performance.now();
    if (loader === 'naive') {
      // Each run measures from the start (load, then the re-run on the loaded tables).
      const r = await naiveUpsert(ctx);
      const s = (performance.now() - t) / 1000;
      const again = performance.now();
      await naiveUpsert(ctx);
      return { ...base, seconds: s, load_seconds: s, build_seconds: 0, resources: r.resources, capabilities: r.capabilities, rerun_seconds: (performance.now() - again) / 1000 };
    }
    // The copy with the schema's indexes kept up (GIN merged beside, as A), the recommended ones after.
    const { result, merger } = await withGinMerger(ctx, load, { background: lanes < 2 });
    const loaded = (performance.now() - t) / 1000;
    const builds = await ensureIndexes(ctx, loadedTableIndexes().filter((x) => x.kind !== 'schema'), opts.build);
    const s = (performance.now() - t) / 1000;
    return { ...base, seconds: s, load_seconds: loaded, build_seconds: s - loaded, resources: result.resources, capabilities: result.capabilities, merger, builds };
  }
  if (indexing === 'A0') {
    // Every defined index exists before the rows arrive (instant on empty tables).
    await ensureIndexes(ctx, loadedTableIndexes(), opts.build);
    const r = await load();
    const s = elapsed();
    return { ...base, seconds: s, load_seconds: s, build_seconds: 0, resources: r.resources, capabilities: r.capabilities };
  }
  await dropSecondaryIndexes(ctx);
  const r = await load();
  const loaded = elapsed();
  const builds = await buildSecondaryIndexes(ctx, opts.build);
  const s = elapsed();
  return { ...base, seconds: s, load_seconds: loaded, build_seconds: s - loaded, resources: r.resources, capabilities: r.capabilities, builds };
}

/** The loaded tables, their images and the columns written. */
const TARGETS = [
  ['resources', 'mcp_servers', 'resource_image', ['id', 'name', 'protocol', 'endpoint', 'sensitivity_level', 'metadata', 'created_at', 'updated_at']],
  ['capabilities', 'mcp_tools', 'capability_image', ['id', 'resource_id', 'name', 'description', 'input_schema', 'output_schema', 'sensitivity_level', 'metadata']],
] as const;

/**
 * The naive copy the public implementation ships, of this project's mapping: one upsert per
 * table, every column overwritten on conflict, whether it changed or not.
 */
async function naiveUpsert(ctx: Context): Promise<{ resources: number; capabilities: number }> {
  const counts = { resources: 0, capabilities: 0 };
  for (const [table, , image, columns] of TARGETS) {
    const list = columns.join(', ');
    const set = columns.filter((c) => c !== 'id').map((c) => `${c} = excluded.${c}`).join(', ');
    counts[table] = (await ctx.sql.unsafe(`insert into public.${table} (${list}) select ${list} from sark_migration.${image} on conflict (id) do update set ${set}`)).count;
  }
  return counts;
}

/**
 * The floor: one INSERT … SELECT per table, from the same projection the copy writes; with lanes,
 * the same statement over consecutive key ranges of equal row counts, one session each.
 */
async function insertAll(ctx: Context, lanes: number): Promise<{ resources: number; capabilities: number }> {
  // The context's session settings, so only the statement differs from the copy's.
  const pool = lanes > 1 ? withPoolOf(ctx, lanes) : ctx;
  try {
    const counts = { resources: 0, capabilities: 0 };
    for (const [table, source, image, names] of TARGETS) {
      const columns = names.join(', ');
      if (lanes === 1) {
        counts[table] = (await pool.sql.unsafe(`insert into public.${table} (${columns}) select ${columns} from sark_migration.${image}`)).count;
        continue;
      }
      // The copy's own key ranges (the ones copy_lanes plans), without its ledger.
      const [{ ends }] = (await pool.sql`select sark_migration.lane_ends(${`public.${source}`}::regclass, ${lanes}::int)::text[] as ends`) as unknown as [{ ends: string[] }];
      const bounds = [null, ...ends, null];
      const done = await Promise.all(
        bounds.slice(1).map((end, k) =>
          pool.sql.unsafe(
            `insert into public.${table} (${columns}) select ${columns} from sark_migration.${image} i
              where ($1::uuid is null or i.source_id > $1::uuid) and ($2::uuid is null or i.source_id <= $2::uuid)`,
            [bounds[k] ?? null, end],
          ),
        ),
      );
      counts[table] = done.reduce((n, r) => n + r.count, 0);
    }
    return counts;
  } finally {
    if (pool !== ctx) await pool.close();
  }
}
