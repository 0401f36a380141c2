/**
 * The two phases `bench` borrows from other parts of the tool, behind one function each so the
 * bench never needs to know how they work:
 *
 *   copy     -> the forward sync on (src/sync/sync.ts), then copyData(ctx, { batchSize, jobs }) of
 *               src/data/copy.ts (the real Phase 2 copy)
 *   validate -> validate(ctx, 'full') of src/commands/validate.ts
 *
 * Until the mapping is installed by installDefinitions (sql/mapping), `prepareCopy` falls back to
 * the definition files of sql/data numbered below 010 (they only define; 010+ move data).
 */
import { validate } from '../commands/validate.ts';
import type { Context } from '../context.ts';
import { copyData, type CopyOptions } from '../data/copy.ts';
import { installDefinitions } from '../db/definitions.ts';
import { applySqlFile, sqlFilesIn } from '../db/sqlFiles.ts';
import { log } from '../output.ts';
import { tally } from '../report/build.ts';
import { runSyncAction } from '../sync/sql.ts';
import { prepareSyncForCopy } from '../sync/sync.ts';

export interface CopyOutcome {
  engine: string;
  /** rows written (inserted, updated or deleted) per table */
  resources: number;
  capabilities: number;
  /** whether the forward sync was on during the copy (each batch then locks its v1 rows) */
  synced: boolean;
}

/** Installs what the copy needs (the mapping views and copy functions). */
export async function prepareCopy(ctx: Context): Promise<void> {
  await installDefinitions(ctx.sql);
  const [row] = await ctx.sql<{ ok: boolean }[]>`select to_regprocedure('sark_migration.copy_batch(text,bigint,integer,integer)') is not null as ok`;
  if (!row!.ok) {
    log.debug('installDefinitions did not define sark_migration.copy_batch: applying sql/data/0NN (< 010) definitions');
    for (const file of sqlFilesIn('data').filter((f) => /\/0(0\d)_/.test(f))) await applySqlFile(ctx.sql, file, false);
  }
}

/**
 * The copy of Phase 2, exactly as `data --execute` runs it by default: the forward sync on first
 * (so each batch locks the v1 rows it copies), then the copy (without the run lock: bench owns the
 * database). sync false: as `data --execute --no-sync` (the sync off, no v1 row locked).
 */
export async function runCopy(ctx: Context, opts: CopyOptions & { sync?: boolean } = {}): Promise<CopyOutcome> {
  let { syncing } = await prepareSyncForCopy(ctx, opts.sync ?? true);
  // An earlier load of the same bench left the forward sync on: off for a copy without it.
  if (opts.sync === false && syncing) {
    await runSyncAction(ctx, 'disableForward');
    syncing = false;
  }
  const r = await copyData(ctx, opts);
  const written = (t: string) => {
    const x = r.tables.find((y) => y.table === t);
    return x ? x.inserted + x.updated + x.deleted : 0;
  };
  return { engine: 'copyData (src/data/copy.ts)', resources: written('resources'), capabilities: written('capabilities'), synced: syncing };
}

export interface ValidateOutcome {
  available: boolean;
  status?: string;
  failed_checks?: number;
  failures?: number;
  warnings?: number;
  total_checks?: number;
  note?: string;
}

/** `validate --full` as the command runs it (src/commands/validate.ts). */
export async function runValidateFull(ctx: Context): Promise<ValidateOutcome> {
  try {
    const report = await validate(ctx, 'full');
    const t = tally(report);
    return { available: true, status: report.status, failed_checks: report.failed_checks, failures: t.failures, warnings: t.warnings, total_checks: report.total_checks };
  } catch (e) {
    // A validation that cannot run is reported, not allowed to throw away an hour of measurements.
    log.warn(`validate --full could not run: ${(e as Error).message}`);
    return { available: false, status: 'error', note: (e as Error).message };
  }
}
