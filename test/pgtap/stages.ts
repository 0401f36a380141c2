/**
 * The data steps the pgTAP harness runs between schema states. They call the same library
 * functions the CLI commands do: `data --execute` (which enables the forward sync first), then for
 * the way back `data --rollback` (which turns the forward sync off first).
 */
import type { Context } from '../../src/context.ts';
import { executeData } from '../../src/commands/data.ts';
import { rollback } from '../../src/data/rollback.ts';

export const stages = {
  async migrate(ctx: Context): Promise<void> {
    await executeData(ctx, { batchSize: 250 });
  },
  async rollback(ctx: Context): Promise<void> {
    await rollback(ctx);
  },
};
