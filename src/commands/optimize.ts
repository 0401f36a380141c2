/**
 * `optimize --analyze | --benchmark | --report | --optimize [--output FILE]`: Phase 5 of the runbook.
 *
 *   --analyze    index usage and size, bloat, unused/duplicate/INVALID indexes, stale statistics,
 *                with recommendations                                  read-only, no lock
 *   --benchmark  every query pattern of sql/optimize/queries, p50/p95/max and the plan
 *                                                                      read-only, no lock
 *   --report     both, as a readable text report (JSON with --json)     read-only, no lock
 *   --optimize   builds the missing or INVALID indexes concurrently, refreshes
 *                mv_daily_cost_summary concurrently, ANALYZE            takes the run lock; never blocks writes
 *
 * Exit 1 when a check fails: an INVALID index (analyze, report), a pattern over its runbook target
 * or a filter that falls back to a sequential scan (benchmark, report).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { defineCommand } from '../command.ts';
import { withContext } from '../context.ts';
import { withRunLock } from '../db/lock.ts';
import { ExitCode, prerequisiteMissing, usageError } from '../errors.ts';
import { log, output } from '../output.ts';
import { runAnalyze } from '../optimize/analyze.ts';
import { optimizeDatabase } from '../optimize/apply.ts';
import { runBenchmark, type BenchmarkResult } from '../optimize/benchmark.ts';
import { recommend } from '../optimize/recommend.ts';
import { renderAnalysis, renderBenchmark, renderOptimize, renderRecommendations, renderReport } from '../optimize/report.ts';
import { readSchemaState } from '../schema/state.ts';

const Options = z.object({
  analyze: z.boolean().default(false),
  benchmark: z.boolean().default(false),
  report: z.boolean().default(false),
  optimize: z.boolean().default(false),
  output: z.string().min(1).optional(),
  runs: z.number().int().min(1).max(10_000).optional(),
  maintenanceWorkMem: z.string().regex(/^\d+(kB|MB|GB)$/, 'use a size such as 512MB or 1GB').default('512MB'),
  parallelWorkers: z.number().int().min(0).max(64).default(2),
});

const failedBenchmark = (b: BenchmarkResult) => b.summary.flagged.length > 0 || b.summary.over_target.length > 0 || b.summary.errors.length > 0;

function writeOutput(file: string | undefined, text: string) {
  if (!file) return;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
  log.ok(`wrote ${file}`);
}

const INVALID_INDEXES = 'INVALID indexes (a failed concurrent build) are left: `optimize --optimize` rebuilds them.';
const MISSED_PLANS = 'a query pattern did not use the plan it is written for: see its plan in the result.';

export const optimizeCommand = defineCommand({
  command: 'optimize',
  describe: 'Phase 5: query-pattern benchmark with plans, index analysis and recommendations, concurrent index builds, statistics',
  builder: (y) =>
    y
      .option('analyze', { type: 'boolean', default: false, describe: 'index usage/size, bloat, unused, duplicate and INVALID indexes, stale statistics (read-only)' })
      .option('benchmark', { type: 'boolean', default: false, describe: 'run every query pattern many times: p50/p95/max and plan (read-only)' })
      .option('report', { type: 'boolean', default: false, describe: 'analysis + benchmark + recommendations as a text report (JSON with --json)' })
      .option('optimize', { type: 'boolean', default: false, describe: 'build missing/INVALID indexes concurrently, refresh mv_daily_cost_summary concurrently, ANALYZE' })
      .option('output', { type: 'string', describe: 'also write the result to FILE (the text report for --report, JSON otherwise or with --json)' })
      .option('runs', { type: 'number', describe: 'runs per pattern (default 50; 10 for --optimize)' })
      .option('maintenance-work-mem', { type: 'string', default: '512MB', describe: 'maintenance_work_mem of the index-build session' })
      .option('parallel-workers', { type: 'number', default: 2, describe: 'max_parallel_maintenance_workers of the index-build session' }),
  options: Options,
  run: async (o) => {
    const modes = [o.analyze, o.benchmark, o.report, o.optimize].filter(Boolean).length;
    if (modes !== 1) throw usageError('Choose exactly one of --analyze, --benchmark, --report, --optimize.', 'For example: `sark-migrate optimize --report --output perf_report.txt`.');
    return withContext(o, async (ctx) => {
      if (!(await readSchemaState(ctx.sql)).v2Tables) {
        throw prerequisiteMissing('The v2 schema is not there yet: there is nothing to optimize.', 'Run Phase 1 (`sark-migrate schema up`) and Phase 2 (`sark-migrate data --execute`) first.');
      }
      if (o.analyze) {
        const analysis = await runAnalyze(ctx);
        const result = { analysis, recommendations: recommend(analysis, null) };
        writeOutput(o.output, JSON.stringify(result, null, 2));
        const invalid = analysis.defined_indexes.some((d) => d.invalid) || (analysis.sections['007_invalid_indexes']?.rows.length ?? 0) > 0;
        return { result, human: () => `${renderAnalysis(analysis)}\n\n${renderRecommendations(result.recommendations)}`, exitCode: invalid ? ExitCode.failed : ExitCode.ok, reason: INVALID_INDEXES };
      }
      if (o.benchmark) {
        const result = await runBenchmark(ctx, { runs: o.runs ?? 50 });
        writeOutput(o.output, JSON.stringify(result, null, 2));
        return { result, human: () => renderBenchmark(result), exitCode: failedBenchmark(result) ? ExitCode.failed : ExitCode.ok, reason: MISSED_PLANS };
      }
      if (o.report) {
        const analysis = await runAnalyze(ctx);
        const benchmark = await runBenchmark(ctx, { runs: o.runs ?? 50 });
        const recommendations = recommend(analysis, benchmark);
        const text = renderReport(ctx.where, ctx.server.serverVersion, analysis, benchmark, recommendations);
        const result = { database: ctx.where, server_version: ctx.server.serverVersion, analysis, benchmark, recommendations };
        writeOutput(o.output, output.json ? JSON.stringify(result, null, 2) : text);
        const invalid = analysis.defined_indexes.some((d) => d.invalid);
        return { result, human: () => text, exitCode: invalid || failedBenchmark(benchmark) ? ExitCode.failed : ExitCode.ok, reason: invalid ? INVALID_INDEXES : MISSED_PLANS };
      }
      const result = await withRunLock(ctx.sql, () =>
        optimizeDatabase(ctx, { runs: o.runs ?? 10, build: { maintenanceWorkMem: o.maintenanceWorkMem, parallelWorkers: o.parallelWorkers } }),
      );
      writeOutput(o.output, JSON.stringify(result, null, 2));
      return { result, human: () => renderOptimize(result) };
    });
  },
});
