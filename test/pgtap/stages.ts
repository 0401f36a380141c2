/**
 * The data steps the pgTAP harness runs between schema states. They call the same library
 * functions the CLI commands do.
 */
import type { Context } from '../../src/context.ts';

export const stages = {
  async migrate(_ctx: Context): Promise<void> {
    // The data phase lands with the data-migration work; until then the migrated-state suites
    // run against the seeded v1 data and the (empty) v2 tables.
  },
  async rollback(_ctx: Context): Promise<void> {},
};
