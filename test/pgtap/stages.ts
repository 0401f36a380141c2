/**
 * The data steps the pgTAP harness runs between schema states. They call the same library
 * functions the CLI commands do: `data --execute` (which enables the forward sync first), then for
 * the way back `data --rollback` (which turns the forward sync off first).
 */
import type { Context } from '../../src/context.ts';
import { executeData } from '../../src/commands/data.ts';
import { rollback } from '../../src/data/rollback.ts';
import { optimizeDatabase } from '../../src/optimize/apply.ts';

export const stages = {
  async migrate(ctx: Context): Promise<void> {
    await executeData(ctx, { batchSize: 250 });
  },
  /** `optimize --optimize`: the recommended indexes, statistics, the materialized view. */
  async optimize(ctx: Context): Promise<void> {
    await optimizeDatabase(ctx);
  },
  async rollback(ctx: Context): Promise<void> {
    await rollback(ctx);
  },
};
