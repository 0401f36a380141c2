/**
 * `optimize --optimize`: applies what never blocks writes, on a live database.
 *
 *   1. measure first (analysis + a short benchmark), so every action cites what it is based on;
 *   2. every index of sql/optimize/indexes that is missing or INVALID: CREATE INDEX CONCURRENTLY
 *      (an INVALID one is dropped concurrently first), one statement at a time on a dedicated
 *      connection with maintenance_work_mem and parallel workers set for that session;
 *   3. REFRESH MATERIALIZED VIEW CONCURRENTLY mv_daily_cost_summary (readers keep reading);
 *   4. ANALYZE of the v2 tables and the view: SHARE UPDATE EXCLUSIVE, which writes do not wait for;
 *   5. measure again.
 * Locks taken: SHARE UPDATE EXCLUSIVE on the tables (CREATE/DROP INDEX CONCURRENTLY, ANALYZE) and
 * EXCLUSIVE on the view during its concurrent refresh; none conflicts with INSERT/UPDATE/DELETE.
 * The caller holds the run lock (one sark-migrate run at a time).
 */
import type { Context } from '../context.ts';
import { withLockRetry } from '../db/retry.ts';
import { log, step } from '../output.ts';
import { runAnalyze, section, type AnalyzeResult } from './analyze.ts';
import { runBenchmark, type BenchmarkResult } from './benchmark.ts';
import { indexDefinitions } from './files.ts';
import { ensureIndex, openMaintenance, DEFAULT_BUILD, type BuildResult, type BuildSettings } from './indexes.ts';
import { ANALYZED_TABLES, recommend, type Recommendation } from './recommend.ts';

export interface AppliedAction {
  action: 'build_index' | 'rebuild_invalid_index' | 'refresh_materialized_view' | 'analyze';
  target: string;
  seconds: number;
  detail: string;
  /** the measurement this action is based on */
  cites: string;
}

export interface OptimizeResult {
  before: { analysis: AnalyzeResult; benchmark: BenchmarkResult; recommendations: Recommendation[] };
  actions: AppliedAction[];
  builds: BuildResult[];
  after: BenchmarkResult;
  /** recommendations left to the DBA (removals, REINDEX of bloated indexes, patterns to look at) */
  not_applied: Recommendation[];
}

export interface OptimizeOptions {
  runs?: number;
  build?: BuildSettings;
}

export async function optimizeDatabase(ctx: Context, opts: OptimizeOptions = {}): Promise<OptimizeResult> {
  const runs = opts.runs ?? 10;
  const analysis = await step('analysing indexes and statistics', () => runAnalyze(ctx));
  const before = await step('benchmarking the query patterns (before)', () => runBenchmark(ctx, { runs, budgetMs: 5000 }));
  const recs = recommend(analysis, before);
  const citeFor = (target: string, fallback: string) => recs.find((r) => r.target === target)?.reason ?? fallback;
  const actions: AppliedAction[] = [];
  const builds: BuildResult[] = [];
  const maint = openMaintenance(ctx, opts.build ?? DEFAULT_BUILD);
  try {
    for (const def of indexDefinitions()) {
      const result = await ensureIndex(maint, def);
      builds.push(result);
      if (result.action === 'present') continue;
      actions.push({
        action: result.action === 'rebuilt' ? 'rebuild_invalid_index' : 'build_index',
        target: def.name,
        seconds: result.seconds,
        detail: `CREATE INDEX CONCURRENTLY (${def.file}), ${(result.bytes / 1048576).toFixed(1)} MB, ${result.attempts} attempt(s)`,
        cites: citeFor(def.name, `${def.name} was missing.`),
      });
    }

    const mv = section<{ view_name: string; populated: boolean; can_refresh_concurrently: boolean }>(analysis, '008_materialized_views').find(
      (v) => v.view_name === 'mv_daily_cost_summary',
    );
    if (mv) {
      const concurrently = mv.can_refresh_concurrently;
      if (!concurrently) log.warn('mv_daily_cost_summary cannot be refreshed concurrently (not populated or no unique index): its readers wait during this refresh');
      const t = performance.now();
      await withLockRetry('refresh mv_daily_cost_summary', () => maint.unsafe(`refresh materialized view${concurrently ? ' concurrently' : ''} mv_daily_cost_summary`));
      actions.push({
        action: 'refresh_materialized_view',
        target: 'mv_daily_cost_summary',
        seconds: (performance.now() - t) / 1000,
        detail: `REFRESH MATERIALIZED VIEW${concurrently ? ' CONCURRENTLY' : ''}`,
        cites: citeFor('mv_daily_cost_summary', 'Daily refresh (runbook "Materialized View Refresh"); the view was not behind the ledger.'),
      });
    }

    const existing = new Set(section<{ table_name: string }>(analysis, '006_stale_statistics').map((s) => s.table_name));
    for (const table of [...ANALYZED_TABLES, ...(mv ? ['mv_daily_cost_summary'] : [])]) {
      if (!existing.has(table)) continue;
      const t = performance.now();
      await withLockRetry(`analyze ${table}`, () => maint.unsafe(`analyze ${table}`), undefined, { sql: maint, tables: [table] });
      actions.push({
        action: 'analyze',
        target: table,
        seconds: (performance.now() - t) / 1000,
        detail: 'ANALYZE (SHARE UPDATE EXCLUSIVE: writes go on)',
        cites: citeFor(table, 'Refreshed after the index builds so the planner sees the new indexes and current row counts.'),
      });
    }
  } finally {
    await maint.end({ timeout: 5 });
  }
  const after = await step('benchmarking the query patterns (after)', () => runBenchmark(ctx, { runs, budgetMs: 5000 }));
  return {
    before: { analysis, benchmark: before, recommendations: recs },
    actions,
    builds,
    after,
    not_applied: recs.filter((r) => !r.applies),
  };
}
