/**
 * `data --rollback [--dry-run]`: removes exactly the v2 rows this migration wrote and restores the
 * rows it overwrote (sark_migration.rollback); v2-native rows and the v1 tables are never touched.
 */
import type { Context } from '../context.ts';
import { withDefinitionsReadOnly } from '../db/definitions.ts';

export interface RollbackRow {
  target_table: string;
  deleted: number;
  restored: number;
  not_restorable: number;
  kept_referenced: number;
  untouched_native: number;
}

export async function rollbackPlan(ctx: Context): Promise<RollbackRow[]> {
  return withDefinitionsReadOnly(ctx, (tx) =>
    tx<RollbackRow[]>`
      select target_table, would_delete as deleted, would_restore as restored, not_restorable,
             kept_referenced, untouched_native
        from sark_migration.rollback_plan`,
  );
}

export async function rollbackData(ctx: Context): Promise<RollbackRow[]> {
  return ctx.sql<RollbackRow[]>`select * from sark_migration.rollback()`;
}
