/**
 * `data --dry-run | --execute [--batch-size N] | --rollback [--dry-run]`: Phase 2 of the runbook.
 * v1 tables are never written by this command.
 */
import { z } from 'zod';
import { defineCommand } from '../command.ts';
import { withContext, type Context } from '../context.ts';
import { withRunLock } from '../db/lock.ts';
import { guardDrift } from '../db/sqlFiles.ts';
import { ExitCode, prerequisiteMissing, usageError } from '../errors.ts';
import { formatDuration, log, timedDebug } from '../output.ts';
import { loadWithIndexesInPlace } from '../optimize/load.ts';
import { copyData, DEFAULT_JOBS, type CopyOptions, type CopyResult } from '../data/copy.ts';
import { BatchTime, DEFAULT_BATCH_TIME_MS } from '../data/batches.ts';
import { planData, type DataPlan } from '../data/plan.ts';
import { planRollback, rollback, type RollbackResult } from '../data/rollback.ts';
import { requirePrivileges } from '../preflight/privileges.ts';
import { readSchemaState } from '../schema/state.ts';
import { installDefinitionsBesideSync } from '../sync/sql.ts';
import { prepareSyncForCopy } from '../sync/sync.ts';

const Options = z.object({
  dryRun: z.boolean().default(false),
  execute: z.boolean().default(false),
  rollback: z.boolean().default(false),
  batchSize: z.number().int().min(1).max(10_000_000).optional(),
  batchTime: BatchTime,
  offline: z.boolean().default(false),
  jobs: z.number().int().min(1).max(64).default(DEFAULT_JOBS),
  sync: z.boolean().default(true),
});

/** The whole of `data --execute` as a library call (used by run, demo, bench). */
export async function executeData(ctx: Context, opts: CopyOptions & { sync?: boolean }): Promise<CopyResult> {
  await requireV2Schema(ctx);
  await requirePrivileges(ctx, ['data'], 'data --execute');
  return withRunLock(ctx.sql, async () => {
    await guardDrift(ctx.sql, ctx.options.allowDrift);
    // While the sync runs, its triggers read these views: they are not replaced under it.
    await timedDebug('definitions', () => installDefinitionsBesideSync(ctx));
    // The forward sync goes on BEFORE the copy (unless --no-sync), so no v1 write falls between.
    await timedDebug('forward sync on', () => prepareSyncForCopy(ctx, opts.sync ?? true));
    // The load strategy bench measured fastest (src/optimize/load.ts): indexes in place, the copy
    // in lanes side by side (or one lane with the GIN pending lists merged beside it).
    const { result, merger } = await loadWithIndexesInPlace(ctx, () => copyData(ctx, opts), { lanes: opts.jobs ?? DEFAULT_JOBS });
    if (merger.pages_merged > 0) log.debug(`GIN merger: ${merger.pages_merged} pending-list pages merged beside the copy`);
    return result;
  });
}

async function requireV2Schema(ctx: Context) {
  const state = await readSchemaState(ctx.sql);
  if (!state.v1Tables) throw prerequisiteMissing('The v1 tables mcp_servers/mcp_tools are missing.', 'Point DATABASE_URL at the SARK v1 database.');
  if (!state.v2Tables) throw prerequisiteMissing('The v2 schema is not there yet.', 'Run Phase 1 first: `sark-migrate schema up`.');
}

export const dataCommand = defineCommand({
  command: 'data',
  describe: 'Phase 2: copy v1 rows into v2 (--dry-run | --execute [--batch-size N] | --rollback [--dry-run])',
  builder: (y) =>
    y
      .option('dry-run', { type: 'boolean', default: false, describe: 'show the plan computed in SQL; change nothing' })
      .option('execute', { type: 'boolean', default: false, describe: 'copy (idempotent, resumable)' })
      .option('rollback', { type: 'boolean', default: false, describe: 'remove exactly what the migration wrote, restore what it overwrote' })
      .option('batch-size', { type: 'number', describe: 'at most N rows per batch (default: as many as fit in --batch-time)' })
      .option('batch-time', { type: 'string', default: `${DEFAULT_BATCH_TIME_MS}ms`, describe: 'what each batch (one transaction, holding its rows\' locks) aims to take; one that runs past 10x is cancelled and retried smaller' })
      .option('offline', { type: 'boolean', default: false, describe: 'the application is STOPPED: copy each lane in one statement, fastest; with the sync on, v1 writes wait for the whole copy' })
      .option('jobs', { alias: 'j', type: 'number', default: DEFAULT_JOBS, describe: 'lanes per table: key ranges copied side by side, one connection each (like pg_restore --jobs)' })
      .option('sync', { type: 'boolean', default: true, describe: 'enable the forward sync (v1 -> v2 triggers) before copying; --no-sync to opt out' }),
  options: Options,
  run: async (o) => {
    const modes = [o.execute, o.rollback, o.dryRun && !o.rollback].filter(Boolean).length;
    if (modes !== 1) throw usageError('Choose exactly one of --dry-run, --execute, --rollback (--rollback --dry-run previews a rollback).', 'For example: `sark-migrate data --dry-run`.');
    return withContext(o, async (ctx) => {
      if (o.rollback) {
        await requireV2Schema(ctx);
        const r = o.dryRun ? await planRollback(ctx) : await rollback(ctx);
        return { result: r, human: () => describeRollback(r) };
      }
      if (o.dryRun) {
        await requireV2Schema(ctx);
        const plan = await planData(ctx);
        return { result: plan, human: () => describePlan(plan) };
      }
      const result = await executeData(ctx, { batchSize: o.batchSize, batchTimeMs: o.batchTime, offline: o.offline, jobs: o.jobs, sync: o.sync });
      return {
        result,
        human: () => describeCopy(result),
        exitCode: result.quarantined > 0 ? ExitCode.failed : ExitCode.ok,
        reason: `${result.quarantined} v1 rows are quarantined and were not copied: SELECT * FROM sark_migration.quarantine says why.`,
      };
    });
  },
});

function describePlan(p: DataPlan): string {
  const lines = ['plan (nothing was changed):'];
  for (const r of p.plan) {
    lines.push(
      `  ${r.target_table.padEnd(13)} insert ${r.would_insert}, update ${r.would_update} (${r.overwrite_preexisting} not made by this migration), unchanged ${r.unchanged}, quarantined ${r.quarantined}, delete ${r.would_delete}`,
    );
  }
  if (p.findings.length) {
    lines.push('', 'findings:');
    for (const f of p.findings) lines.push(`  [${f.severity}] ${f.finding} (${f.source_table ?? 'schema'}, ${f.rows} rows, ${f.action}): ${f.message}`);
  }
  if (p.samples.length) {
    lines.push('', 'sample rows as they would look in v2:');
    for (const s of p.samples) lines.push(`  ${s.target_table} ${s.change} ${JSON.stringify(s.v2_row)}`);
  }
  return lines.join('\n');
}

function describeCopy(r: CopyResult): string {
  const how = r.mode === 'offline' ? 'offline, one statement per lane' : r.batch_time_ms ? `batches of ~${r.batch_time_ms} ms, none over ${r.batch_cap_ms} ms` : 'nothing to do';
  const lines = [`copied in ${formatDuration(r.seconds * 1000)} (${how}):`];
  for (const t of r.tables) {
    lines.push(
      `  ${t.table.padEnd(13)} inserted ${t.inserted}, updated ${t.updated}, unchanged ${t.unchanged}, quarantined ${t.quarantined}, deleted ${t.deleted} — ${formatDuration(t.seconds * 1000)}, ${t.rows_per_second.toLocaleString('en-US')} rows/s${t.resumed ? ' (resumed)' : ''}`,
    );
  }
  if (r.quarantined > 0) {
    lines.push(
      '',
      `${r.quarantined} v1 rows are quarantined and were not copied; see why with:`,
      "  psql -c \"SELECT source_table, source_id, reason, detail FROM sark_migration.quarantine ORDER BY 1, 3\"",
      'Fix those rows in the v1 tables, then run `sark-migrate data --execute` again: it copies only what is missing or changed.',
    );
  }
  return lines.join('\n');
}

function describeRollback(r: RollbackResult): string {
  const sync = { off: [], disabled: ['forward sync turned off first (v1 writes no longer reach v2)'], would_disable: ['would first turn the forward sync off (v1 writes then no longer reach v2)'] }[r.forward_sync];
  return [
    r.dry_run ? 'rollback plan (nothing was changed):' : 'rolled back:',
    ...sync.map((l) => `  ${l}`),
    ...r.rollback.map(
      (x) =>
        `  ${x.target_table.padEnd(13)} ${r.dry_run ? 'would delete' : 'deleted'} ${x.deleted}, ${r.dry_run ? 'would restore' : 'restored'} ${x.restored}, kept (still referenced) ${x.kept_referenced}, v2-native untouched ${x.untouched_native}`,
    ),
  ].join('\n');
}
