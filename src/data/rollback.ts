/**
 * `data --rollback [--dry-run]`: removes exactly the v2 rows this migration wrote and restores the
 * rows it overwrote (sark_migration.rollback); v2-native rows and the v1 tables are never touched.
 * With the forward sync on it is turned off first (src/sync/sync.ts, syncBeforeRollback); at
 * cutover the rollback is refused. The dry-run says exactly that, and exits as the real run would.
 */
import type { Context } from '../context.ts';
import { installDefinitions, withDefinitionsReadOnly } from '../db/definitions.ts';
import { withRunLock } from '../db/lock.ts';
import { withLockRetry } from '../db/retry.ts';
import { disableForwardForRollback, syncBeforeRollback } from '../sync/sync.ts';

export interface RollbackRow {
  target_table: string;
  deleted: number;
  restored: number;
  not_restorable: number;
  kept_referenced: number;
  untouched_native: number;
}

export interface RollbackResult {
  dry_run: boolean;
  /** off: it was not on; disabled: this run turned it off first; would_disable: the real run will */
  forward_sync: 'off' | 'disabled' | 'would_disable';
  rollback: RollbackRow[];
}

export async function planRollback(ctx: Context): Promise<RollbackResult> {
  const sync = await syncBeforeRollback(ctx);
  return { dry_run: true, forward_sync: sync === 'disable_forward' ? 'would_disable' : 'off', rollback: await rollbackPlan(ctx) };
}

export async function rollback(ctx: Context): Promise<RollbackResult> {
  return withRunLock(ctx.sql, async () => {
    const sync = await syncBeforeRollback(ctx);
    if (sync === 'disable_forward') await disableForwardForRollback(ctx);
    await installDefinitions(ctx.sql);
    return { dry_run: false, forward_sync: sync === 'disable_forward' ? 'disabled' : 'off', rollback: await rollbackData(ctx) };
  });
}

async function rollbackPlan(ctx: Context): Promise<RollbackRow[]> {
  return withDefinitionsReadOnly(ctx, (tx) =>
    tx<RollbackRow[]>`
      select target_table, would_delete as deleted, would_restore as restored, not_restorable,
             kept_referenced, untouched_native
        from sark_migration.rollback_plan`,
  );
}

/**
 * One transaction that locks resources and capabilities first (lock_tables, NOWAIT under
 * lock_timeout). Right after a copy, autovacuum works on both tables for minutes and holds a lock
 * that conflicts: the rollback then failed at once ("could not obtain lock on relation
 * capabilities"). Retried as DDL is, with autovacuum made to yield, as PostgreSQL itself would.
 */
async function rollbackData(ctx: Context): Promise<RollbackRow[]> {
  return withLockRetry('rollback', () => ctx.sql<RollbackRow[]>`select * from sark_migration.rollback()`, undefined, {
    sql: ctx.sql,
    tables: ['public.resources', 'public.capabilities'],
  });
}
