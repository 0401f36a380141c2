/**
 * `bench`: the whole migration pipeline, timed, on a throwaway PostgreSQL, side by side with the
 * bare INSERT … SELECT floor of the same copy, so a change anywhere shows up as a number:
 *
 *   v1 schema, seed                                       (setup, not part of the pipeline)
 *   schema up 006-007, definitions                        pipeline
 *   loads: the bare INSERT floor under index strategies B, A0, A, the same in --jobs lanes, then
 *   the real copy under A (as `data --execute` runs it), all on the same data
 *   the copy again: the no-op re-run, its time and the rows it wrote (none)
 *   ANALYZE, recommended index builds, validate --full    pipeline
 *   cost_tracking + budgets, mv_daily_cost_summary        (setup for the cost patterns)
 *   optimize --benchmark                                  the query patterns at this scale
 *
 * Pipeline time = schema up + definitions + copy (A) + ANALYZE + index builds + validate --full.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import type { GlobalOptions } from '../context.ts';
import { openContext, type Context } from '../context.ts';
import { createDatabase, dropDatabase, startThrowawayServer, type Durability } from '../db/throwaway.ts';
import { SQL_DIR, applySqlFile } from '../db/sqlFiles.ts';
import { log, step } from '../output.ts';
import { runBenchmark, type BenchmarkResult } from '../optimize/benchmark.ts';
import { indexDefinitions } from '../optimize/files.ts';
import { ensureIndexes, type BuildResult, type BuildSettings } from '../optimize/indexes.ts';
import { schemaUp } from '../schema/migrate.ts';
import { one } from '../db/connect.ts';
import { withLockRetry } from '../db/retry.ts';
import { loadWithIndexesInPlace } from '../optimize/load.ts';
import { seed } from '../commands/seed.ts';
import { localPostmaster, measureCpu } from './cpu.ts';
import { DEFAULT_BATCH_TIME_MS } from '../data/batches.ts';
import type { CopyOptions } from '../data/copy.ts';
import { prepareCopy, runCopy, runValidateFull, type ValidateOutcome } from './hooks.ts';
import { describeLoad, resetV2, runLoad, type LoadName, type LoadRun } from './strategies.ts';

export interface BenchOptions {
  /** the throwaway cluster: durable (PostgreSQL's defaults, as users run) unless asked for speed */
  durability: Durability;
  servers: number;
  toolsPerServer: number;
  costRows: number;
  /** in order; the last one leaves the database as the pipeline continues from it */
  loads: LoadName[];
  batchSize?: number;
  /** what each copy batch aims to take (data --execute --batch-time), ms */
  batchTimeMs?: number;
  /** lanes of the copy loader (data --execute --jobs) */
  jobs: number;
  /** statements/s of the application writing v1 during the live load */
  writerRate: number;
  runs: number;
  build: BuildSettings;
}

export interface Phase {
  name: string;
  seconds: number;
  pipeline: boolean;
  note?: string;
}

export interface BenchResult {
  started_at: string;
  finished_at: string;
  scale: { servers: number; tools_per_server: number; tools: number; cost_rows: number };
  /** how the copy loads ran: lanes per table, and what each batch aimed to take */
  copy_settings: { jobs: number; batch_time_ms: number; batch_size: number | null };
  server: Record<string, string>;
  /** read from the server's settings, whoever started it: every figure below holds for this */
  durability: { durable: boolean; label: string };
  machine: { cpus: number; memory_gb: number; load_average_at_start: number[] };
  /** the tool's own process (not the server's): its peak resident set size over the whole run */
  tool_peak_rss_mb: number;
  phases: Phase[];
  loads: LoadRun[];
  ratios: Record<string, number>;
  first_load_strategy: { chosen: string; why: string };
  pipeline: {
    seconds: number;
    copy_seconds: number;
    /** vs the bare INSERT … SELECT, one statement per table (insert:A) */
    copy_vs_floor: number | null;
    /** vs the same bare INSERT in as many lanes as the copy (lanes:A) */
    copy_vs_lanes_floor: number | null;
    /** vs the naive single-statement upsert (naive:S), the public implementation's approach */
    copy_vs_naive: number | null;
    /** the whole pipeline (schema up, copy, indexes, validate --full) vs the naive upsert alone */
    pipeline_vs_naive: number | null;
    under_60s: boolean;
  };
  /** the copy while an application writes v1 (live:A) next to the same copy alone (copy:A) */
  live: { copy_seconds: number; quiet_seconds: number; vs_quiet: number | null; writer: LoadRun['writer'] } | null;
  recommended_index_builds: BuildResult[];
  validate: ValidateOutcome;
  benchmark: BenchmarkResult;
  noop_rerun: NoopRerun;
}

export interface NoopRerun {
  seconds: number;
  /** rows inserted, updated or deleted, as the copy counted them */
  written: number;
  /** v2 tuples written by the re-run (xmin after it began) plus the change in row count */
  touched: number;
}

export async function runBench(global: GlobalOptions, o: BenchOptions): Promise<BenchResult> {
  const started = new Date();
  const server = await step(`starting a throwaway PostgreSQL (${o.durability})`, () => startThrowawayServer({ databaseUrl: global.databaseUrl, durability: o.durability }));
  const name = `sark_bench_${process.pid}`;
  try {
    const conn = await createDatabase(server, name);
    const ctx = await openContext(global, conn);
    try {
      return await pipeline(ctx, o, started);
    } finally {
      await ctx.close();
    }
  } finally {
    if (server.kind === 'external') await dropDatabase(server, name).catch(() => {});
    // The watchdog child is unref'd: with nothing else pending, Node would exit (code 13) while
    // stop() waits for it. A timer keeps the loop alive until the server is gone.
    const keepAlive = setInterval(() => {}, 1000);
    try {
      await step('removing the throwaway PostgreSQL', () => server.stop());
    } finally {
      clearInterval(keepAlive);
    }
  }
}

async function pipeline(ctx: Context, o: BenchOptions, started: Date): Promise<BenchResult> {
  const loadAtStart = loadavg().map((x) => Math.round(x * 100) / 100);
  const phases: Phase[] = [];
  const timed = async <T>(label: string, pipelinePhase: boolean, fn: () => Promise<T>, note?: string): Promise<T> => {
    const t = performance.now();
    const r = await step(label, fn);
    phases.push({ name: label, seconds: (performance.now() - t) / 1000, pipeline: pipelinePhase, ...(note ? { note } : {}) });
    return r;
  };
  const tools = o.servers * o.toolsPerServer;
  log.info(`bench database: ${ctx.where} (PostgreSQL ${ctx.server.serverVersion})`);
  await timed('v1 schema (migrations 001-005)', false, () => schemaUp(ctx, { to: '005' }));
  await timed(`seed v1: ${o.servers} servers, ${tools} tools`, false, () => seed(ctx, { servers: o.servers, toolsPerServer: o.toolsPerServer, dirty: false }));
  // Freshly seeded rows carry no hint bits and no visibility map: the first strategy to read them
  // would pay for setting them. A production v1 table is long vacuumed; so is this one.
  await timed('VACUUM ANALYZE v1 tables', false, () => maintain(ctx, 'vacuum (analyze) public.mcp_servers, public.mcp_tools'));
  await timed('schema up (migrations 006-007)', true, () => schemaUp(ctx, {}));
  await timed('definitions (mapping, copy functions)', true, () => prepareCopy(ctx));

  const postmaster = await localPostmaster(ctx.sql).catch(() => undefined);
  const runs: LoadRun[] = [];
  for (const name of o.loads) {
    await resetV2(ctx);
    const { result: run, cpu } = await step(`load ${name} (${describeLoad(name, o.jobs, o.writerRate)})`, () =>
      measureCpu(postmaster, () => runLoad(ctx, name, { batchSize: o.batchSize, batchTimeMs: o.batchTimeMs, jobs: o.jobs, build: o.build, writerRate: o.writerRate })),
    );
    if (cpu) run.cpu = cpu;
    runs.push(run);
    log.ok(`load ${name}: ${run.seconds.toFixed(1)} s (rows in ${run.load_seconds.toFixed(1)} s, index work after ${run.build_seconds.toFixed(1)} s), ${run.capabilities} capabilities`);
  }
  const final = runs.at(-1)!;
  phases.push({ name: `copy (load ${final.name}, see below)`, seconds: final.seconds, pipeline: true });
  // The step's own time includes counting the v2 rows and their xmin around the re-run (20 s at
  // 10,000,000 tools); the phase records the re-run alone.
  const rerun = await timed('copy again: the no-op re-run of data --execute, then counting the rows it touched', false, () => noopRerun(ctx, { batchSize: o.batchSize, batchTimeMs: o.batchTimeMs, jobs: o.jobs }));
  log.ok(`no-op re-run: ${(rerun.seconds * 1000).toFixed(0)} ms, ${rerun.touched} rows touched`);
  Object.assign(phases.at(-1)!, { seconds: rerun.seconds, note: `${rerun.written} rows written as the copy counts, ${rerun.touched} as the tuples' xmin shows` });

  await timed('ANALYZE resources, capabilities', true, () => maintain(ctx, 'analyze public.resources, public.capabilities'));
  // Every defined index: the secondary ones are in place after A (present: nothing to do), the
  // recommended ones are built, concurrently, as `optimize --optimize` builds them.
  const builds = await timed('index builds (recommended, CONCURRENTLY)', true, () => ensureIndexes(ctx, indexDefinitions(), o.build));
  const validate = await timed('validate --full', true, () => runValidateFull(ctx));
  phases.at(-1)!.note = validate.available ? `${validate.status}: ${validate.failures} of ${validate.total_checks} checks failed${validate.warnings ? `, ${validate.warnings} warnings` : ''}` : `could not run: ${validate.note}`;

  await timed(`seed cost_tracking: ${o.costRows} rows over 30 days, budgets`, false, async () => {
    for (const f of ['001_seed_cost_tracking.sql', '002_seed_principal_budgets.sql']) await applySqlFile(ctx.sql, join(SQL_DIR, 'bench', f), false);
    await ctx.sql`select sark_bench.seed_cost_tracking(${o.costRows}::bigint)`;
    await ctx.sql`select sark_bench.seed_principal_budgets()`;
  });
  await timed('REFRESH MATERIALIZED VIEW CONCURRENTLY mv_daily_cost_summary, ANALYZE', false, async () => {
    await ctx.sql`refresh materialized view concurrently mv_daily_cost_summary`;
    await maintain(ctx, 'analyze public.cost_tracking, public.principal_budgets, mv_daily_cost_summary');
    await maintain(ctx, 'vacuum (analyze) public.resources, public.capabilities');
  });
  const benchmark = await timed('optimize --benchmark', false, () => runBenchmark(ctx, { runs: o.runs }));

  const by = (n: LoadName) => runs.find((r) => r.name === n);
  const ratio = (a?: LoadRun, b?: LoadRun) => (a && b && b.seconds > 0 ? Math.round((a.seconds / b.seconds) * 100) / 100 : undefined);
  const ratios: Record<string, number> = {};
  const pairs: [string, LoadRun | undefined, LoadRun | undefined][] = [
    ['copy:A_vs_naive:S', by('copy:A'), by('naive:S')],
    ['copy:A_vs_floor', by('copy:A'), by('insert:A')],
    ['copy:A_vs_lanes:A', by('copy:A'), by('lanes:A')],
    ['live:A_vs_copy:A', by('live:A'), by('copy:A')],
    ['lanes:A_vs_insert:A', by('lanes:A'), by('insert:A')],
    ['copy:B_vs_insert:B', by('copy:B'), by('insert:B')],
    ['insert:B_vs_insert:A', by('insert:B'), by('insert:A')],
    ['insert:A0_vs_insert:A', by('insert:A0'), by('insert:A')],
    ['copy:B_vs_copy:A', by('copy:B'), by('copy:A')],
  ];
  for (const [k, a, b] of pairs) {
    const v = ratio(a, b);
    if (v !== undefined) ratios[k] = v;
  }
  // The index strategy is decided on the loader measured under more than one strategy.
  const loader = runs.filter((r) => r.name.startsWith('insert:')).length > 1 ? 'insert:' : 'copy:';
  const candidates = runs.filter((r) => r.name.startsWith(loader));
  const fastest = candidates.reduce((a, b) => (b.seconds < a.seconds ? b : a), candidates[0] ?? final);
  const floorRun = by('insert:A');
  const pipelineSeconds = phases.filter((p) => p.pipeline).reduce((s, p) => s + p.seconds, 0);
  const naive = by('naive:S');
  const settings = await serverSettings(ctx);
  return {
    started_at: started.toISOString(),
    finished_at: new Date().toISOString(),
    scale: { servers: o.servers, tools_per_server: o.toolsPerServer, tools, cost_rows: o.costRows },
    copy_settings: { jobs: o.jobs, batch_time_ms: o.batchTimeMs ?? DEFAULT_BATCH_TIME_MS, batch_size: o.batchSize ?? null },
    server: settings,
    durability: durabilityOf(settings),
    machine: { cpus: cpus().length, memory_gb: Math.round(totalmem() / 2 ** 30), load_average_at_start: loadAtStart },
    tool_peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    phases,
    loads: runs,
    ratios,
    first_load_strategy: {
      chosen: fastest.name.split(':')[1]!,
      why: `${candidates.map((r) => `${r.name} ${r.seconds.toFixed(1)} s`).join(', ')} on the same data until loaded and fully indexed: ${fastest.name.split(':')[1]} (${fastest.description.split(', ').slice(1).join(', ')}) is the fastest`,
    },
    pipeline: {
      seconds: pipelineSeconds,
      copy_seconds: final.seconds,
      copy_vs_floor: final.name === 'copy:A' ? (ratio(final, floorRun) ?? null) : null,
      copy_vs_lanes_floor: final.name === 'copy:A' ? (ratio(final, by('lanes:A')) ?? null) : null,
      copy_vs_naive: ratio(final, naive) ?? null,
      pipeline_vs_naive: naive ? Math.round((pipelineSeconds / naive.seconds) * 100) / 100 : null,
      under_60s: pipelineSeconds < 60,
    },
    live: by('live:A')
      ? { copy_seconds: by('live:A')!.seconds, quiet_seconds: by('copy:A')?.seconds ?? 0, vs_quiet: ratio(by('live:A'), by('copy:A')) ?? null, writer: by('live:A')!.writer }
      : null,
    recommended_index_builds: builds,
    validate,
    benchmark,
    noop_rerun: rerun,
  };
}

/**
 * A second `data --execute` right after the first, on the same path (loadWithIndexesInPlace).
 * Rows it wrote are counted from the tuples themselves (xmin newer than a transaction begun just
 * before), since pg_stat counters reach shared memory only seconds after a session goes idle.
 */
async function noopRerun(ctx: Context, copy: CopyOptions): Promise<NoopRerun> {
  const v2Rows = async () => Number(
    one(await ctx.sql<{ n: string }[]>`select ((select count(*) from public.resources) + (select count(*) from public.capabilities))::text as n`).n,
  );
  const rowsBefore = await v2Rows();
  const { xid } = one(await ctx.sql<{ xid: string }[]>`select (txid_current() % 4294967296)::text as xid`);
  const t = performance.now();
  const { result } = await loadWithIndexesInPlace(ctx, () => runCopy(ctx, copy), { lanes: copy.jobs });
  const seconds = (performance.now() - t) / 1000;
  const { n } = one(await ctx.sql<{ n: string }[]>`
    with b as (select age(${xid}::xid) as age)
    select ((select count(*) from public.resources r, b where age(r.xmin) < b.age)
          + (select count(*) from public.capabilities c, b where age(c.xmin) < b.age))::text as n`);
  return { seconds, written: result.resources + result.capabilities, touched: Number(n) + Math.abs((await v2Rows()) - rowsBefore) };
}

/**
 * VACUUM / ANALYZE on tables a million-row load has just set autovacuum on: they wait for the same
 * lock, so, as the copy's own DDL does, give up after lock_timeout, make autovacuum yield, retry.
 */
async function maintain(ctx: Context, statement: string): Promise<void> {
  const tables = [...statement.matchAll(/public\.\w+/g)].map((m) => m[0]);
  await withLockRetry(statement, () => ctx.sql.unsafe(statement), undefined, { sql: ctx.sql, tables });
}

/** Durable as users run PostgreSQL: every commit flushed, torn pages repairable. */
export function durabilityOf(settings: Record<string, string>): { durable: boolean; label: string } {
  const durable = settings.fsync === 'on' && settings.full_page_writes === 'on' && settings.synchronous_commit !== 'off';
  const these = `fsync ${settings.fsync}, synchronous_commit ${settings.synchronous_commit}, full_page_writes ${settings.full_page_writes}`;
  return durable
    ? { durable, label: `durable (${these})` }
    : { durable, label: `NOT DURABLE (${these}): faster than any production database; compare only with other non-durable runs` };
}

async function serverSettings(ctx: Context): Promise<Record<string, string>> {
  const rows = await ctx.sql<{ name: string; setting: string }[]>`
    select name, current_setting(name) as setting from unnest(array['server_version', 'shared_buffers', 'work_mem',
      'maintenance_work_mem', 'max_parallel_maintenance_workers', 'max_parallel_workers_per_gather', 'fsync',
      'synchronous_commit', 'full_page_writes', 'max_wal_size', 'checkpoint_timeout', 'jit']) as name`;
  return Object.fromEntries(rows.map((r) => [r.name, r.setting]));
}
