/**
 * `uninstall [--keep-ledgers]`: removes everything sark-migrate put in the database (the
 * sark_migration schema, the seed and bench helpers, node-pg-migrate's ledger pgmigrations), so
 * that SARK's own Alembic downgrade() can run; alembic_version stays. Refused while the sync is on.
 */
import { z } from 'zod';
import { defineCommand } from '../command.ts';
import { withContext } from '../context.ts';
import { withRunLock } from '../db/lock.ts';
import { uninstallTool, type Uninstalled } from '../schema/uninstall.ts';

const Options = z.object({ keepLedgers: z.boolean().default(false) });

export const uninstallCommand = defineCommand({
  command: 'uninstall',
  describe: "Remove everything sark-migrate installed in the database (its schema, ledgers, pgmigrations) so SARK's own Alembic can downgrade",
  builder: (y) => y.option('keep-ledgers', { type: 'boolean', default: false, describe: 'keep the ledger tables of sark_migration and pgmigrations; remove only views and functions' }),
  options: Options,
  run: async (o) =>
    withContext(o, async (ctx) => {
      const result = await withRunLock(ctx.sql, () => uninstallTool(ctx, { keepLedgers: o.keepLedgers, dropSchemaLedger: true }));
      return { result, human: () => describe(result) };
    }),
});

function describe(r: Uninstalled): string {
  return [
    r.removed.length ? `removed ${r.removed.length} relation(s) of sark-migrate, with their functions` : 'nothing of sark-migrate was installed',
    ...(r.kept.length ? [`kept (ledgers): ${r.kept.join(', ')}`] : []),
  ].join('\n');
}
