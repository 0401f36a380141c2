/**
 * `demo`: the first thing a newcomer runs. A throwaway PostgreSQL, a v1 database seeded with clean
 * and a few dirty rows, then every phase in runbook order — preflight, backup, schema up, data dry
 * run, the copy with the sync on, validation, optimization — ending in the validation summary, the
 * query benchmark table and where the JSON report was written. The server and its files are
 * removed at the end, also after a failure or Ctrl-C.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { defineCommand } from '../command.ts';
import { openContext, type Context, type GlobalOptions } from '../context.ts';
import { applySqlFile, SQL_DIR } from '../db/sqlFiles.ts';
import { createDatabase, startThrowawayServer } from '../db/throwaway.ts';
import { backup } from '../backup/backup.ts';
import { planData } from '../data/plan.ts';
import { ExitCode, SarkError } from '../errors.ts';
import { findPgTool } from '../backup/pgtools.ts';
import { formatDuration, log, step } from '../output.ts';
import { runBenchmark, type BenchmarkResult } from '../optimize/benchmark.ts';
import { renderBenchmark } from '../optimize/report.ts';
import { preflight } from '../preflight/preflight.ts';
import { failedNames, tally } from '../report/build.ts';
import type { ValidationReport } from '../report/schema.ts';
import { schemaUp } from '../schema/migrate.ts';
import { readStatus, type DatabaseStatus } from '../status/phase.ts';
import { executeData } from './data.ts';
import { seed } from './seed.ts';
import { summarize, validate } from './validate.ts';

const DemoOptions = z.object({
  servers: z.number().int().min(1).max(1_000_000).default(2000),
  toolsPerServer: z.number().int().min(0).max(100).default(5),
  reportDir: z.string().default(resolve('reports')),
});

export interface DemoResult {
  server: string;
  phases: { name: string; seconds: number }[];
  quarantined: number;
  report_path: string;
  report: ValidationReport;
  benchmark: BenchmarkResult;
  status: DatabaseStatus;
}

export async function demo(global: GlobalOptions, o: z.infer<typeof DemoOptions>): Promise<DemoResult> {
  const server = await step('starting a throwaway PostgreSQL', () => startThrowawayServer({ databaseUrl: global.databaseUrl }));
  const phases: DemoResult['phases'] = [];
  const timed = async <T>(name: string, fn: () => Promise<T>) => {
    const t = performance.now();
    const r = await step(name, fn);
    phases.push({ name, seconds: (performance.now() - t) / 1000 });
    return r;
  };
  mkdirSync(o.reportDir, { recursive: true });
  try {
    const conn = await createDatabase(server, `sark_demo_${process.pid}`);
    const ctx: Context = await openContext(global, conn);
    try {
      log.info(`demo database: ${ctx.where} (PostgreSQL ${ctx.server.serverVersion}, ${server.kind})`);
      await timed('building the SARK v1 schema (migrations 001-005)', () => schemaUp(ctx, { to: '005' }));
      await timed(`seeding v1: ${o.servers} servers, ${o.toolsPerServer} tools each, plus dirty rows`, () =>
        seed(ctx, { servers: o.servers, toolsPerServer: o.toolsPerServer, dirty: true }),
      );
      const checklist = await timed('pre-migration checklist (preflight)', () => preflight(ctx, { longTransactionThreshold: '1min', allowDrift: false }));
      log.info(`preflight: ${checklist.status}`);
      const archive = join(o.reportDir, `demo_backup_${process.pid}.dump`);
      // A machine with Node alone (the npm-packaged server) has no pg_dump: the demo goes on and
      // says so; `backup` itself, run for real, refuses without one.
      if (await hasBackupTools(ctx)) await timed('backup (pg_dump -Fc, verified)', () => backup(ctx, archive));
      else log.info('backup skipped: no pg_dump on this machine (install the PostgreSQL client tools to include it)');
      await timed('phase 1: schema up (migrations 006-007)', () => schemaUp(ctx, {}));
      const plan = await timed('phase 2: data --dry-run', () => planData(ctx));
      for (const p of plan.plan) log.info(`plan ${p.target_table}: insert ${p.would_insert}, quarantined ${p.quarantined}`);
      const copy = await timed('phase 2: data --execute (sync on, batches of ~50 ms)', () => executeData(ctx, {}));
      await seedCosts(ctx, o.servers * 5);
      const report = await timed('phase 3: validate --full', () => validate(ctx, 'full'));
      const reportPath = join(o.reportDir, 'demo_validation_report.json');
      writeFileSync(reportPath, `${JSON.stringify(report, null, 2)}\n`);
      const benchmark = await timed('phase 5: optimize --benchmark', () => runBenchmark(ctx, { runs: 20 }));
      const status = await readStatus(ctx.sql);
      process.stderr.write(`\n${summarize(report, ctx.where)}\n\n${renderBenchmark(benchmark)}\n\n`);
      return { server: server.kind, phases, quarantined: copy.quarantined, report_path: reportPath, report, benchmark, status };
    } finally {
      await ctx.close();
    }
  } finally {
    await step('removing the throwaway PostgreSQL', () => server.stop());
  }
}

/** Whether pg_dump and pg_restore for this server are installed. */
async function hasBackupTools(ctx: Context): Promise<boolean> {
  const [row] = await ctx.sql<{ major: number }[]>`select current_setting('server_version_num')::int / 10000 as major`;
  try {
    findPgTool('pg_dump', row!.major);
    findPgTool('pg_restore', row!.major);
    return true;
  } catch (e) {
    if (e instanceof SarkError && e.exitCode === ExitCode.unreachable) return false;
    throw e;
  }
}

/** Some cost rows, so the cost query pattern and the materialized view have data. */
async function seedCosts(ctx: Context, rows: number) {
  await applySqlFile(ctx.sql, join(SQL_DIR, 'bench', '001_seed_cost_tracking.sql'), false);
  await ctx.sql`select sark_bench.seed_cost_tracking(${rows}::bigint)`;
  await ctx.sql`refresh materialized view concurrently mv_daily_cost_summary`;
  await ctx.sql`analyze`;
}

export const demoCommand = defineCommand({
  command: 'demo',
  describe: 'The whole migration on a throwaway PostgreSQL with seeded v1 data, ending in the report',
  builder: (y) =>
    y
      .option('servers', { type: 'number', default: 2000, describe: 'v1 servers to seed' })
      .option('tools-per-server', { type: 'number', default: 5, describe: 'v1 tools per server' })
      .option('report-dir', { type: 'string', describe: 'where the report and the backup go (default ./reports)' }),
  options: DemoOptions,
  run: async (o) => {
    const result = await demo(o, o);
    return {
      result,
      human: () =>
        [
          'demo finished — every phase, in runbook order:',
          ...result.phases.map((p) => `  ${p.name.padEnd(64)} ${formatDuration(p.seconds * 1000)}`),
          '',
          `status: database_version ${result.status.database_version}, schema ${result.status.schema_version}, phase ${result.status.phase}`,
          `${result.quarantined} dirty v1 rows were quarantined with their reasons (as designed: seed --dirty makes them).`,
          `validation: ${result.report.status.toUpperCase()} (${tally(result.report).line})`,
          `report written to ${result.report_path}`,
        ].join('\n'),
      exitCode: result.report.status === 'passed' ? ExitCode.ok : ExitCode.failed,
      reason: `validation failed: ${failedNames(result.report)}.`,
    };
  },
});
