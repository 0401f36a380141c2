/**
 * The data steps the pgTAP harness runs between schema states. They call the same library
 * functions the CLI commands do: `data --execute` (which enables the forward sync first), then for
 * the way back `sync --disable` and `data --rollback`.
 */
import type { Context } from '../../src/context.ts';
import { executeData } from '../../src/commands/data.ts';
import { rollbackData } from '../../src/data/rollback.ts';
import { withRunLock } from '../../src/db/lock.ts';
import { syncDisable } from '../../src/sync/sync.ts';

export const stages = {
  async migrate(ctx: Context): Promise<void> {
    await executeData(ctx, { batchSize: 250 });
  },
  async rollback(ctx: Context): Promise<void> {
    await syncDisable(ctx);
    await withRunLock(ctx.sql, () => rollbackData(ctx));
  },
};
