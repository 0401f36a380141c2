/**
 * `decommission --confirm [--grace-days N] [--backup FILE] [--backup-max-age-hours H] [--write-window T]
 * [--allow-v1-writes]`: Phase 6, drops the v1 tables and the sync machinery — only from cutover, only
 * after the grace period, only while nothing else depends on the v1 tables and no application
 * writes them any more, and only with a fresh verified backup. Without
 * --confirm it refuses (exit 1), saying exactly what would be dropped.
 */
import { z } from 'zod';
import { defineCommand } from '../command.ts';
import { withContext } from '../context.ts';
import { durationMs } from '../config/duration.ts';
import { decommission, type DecommissionResult } from '../sync/decommission.ts';

const Options = z.object({
  confirm: z.boolean().default(false),
  graceDays: z.number().int().min(0).max(3650).default(30),
  backup: z.string().min(1).optional(),
  backupMaxAgeHours: z.number().positive().max(24 * 365).default(24),
  writeWindow: durationMs({ min: 0, max: 600_000 }).default(3000),
  allowV1Writes: z.boolean().default(false),
});

export const decommissionCommand = defineCommand({
  command: 'decommission',
  describe: 'Drop the v1 tables and the sync after the grace period (from cutover; needs --confirm and a fresh verified --backup)',
  builder: (y) =>
    y
      .option('confirm', { type: 'boolean', default: false, describe: 'really drop them (without it: say what would be dropped, exit 1)' })
      .option('grace-days', { type: 'number', default: 30, describe: 'days that must have passed since the cutover began' })
      .option('backup', { type: 'string', describe: 'the backup archive (or a directory of them) made by `sark-migrate backup`' })
      .option('backup-max-age-hours', { type: 'number', default: 24, describe: 'how old the newest verified backup may be' })
      .option('write-window', { type: 'string', default: '3s', describe: 'watch this long for application writes to v1 first; any write refuses the drop' })
      .option('allow-v1-writes', { type: 'boolean', default: false, describe: 'drop v1 even while an application still writes it (those writes then fail)' }),
  options: Options,
  run: async (o) =>
    withContext(o, async (ctx) => {
      const result = await decommission(ctx, { ...o, writeWindowMs: o.writeWindow });
      return { result, human: () => describe(result) };
    }),
});

function describe(r: DecommissionResult): string {
  if (!r.dropped) return 'nothing to do: the v1 tables are already gone (phase decommissioned)';
  return [
    'decommissioned:',
    ...r.would_drop.tables.map((t) => `  dropped ${t.table} (${t.rows} rows)`),
    `  dropped ${r.would_drop.triggers.length} sync trigger(s), ${r.would_drop.views.length} view(s) of sark_migration, ${r.would_drop.functions.length} sync function(s)`,
    `  backup: ${r.backup?.archive} (taken ${r.backup?.created_at})`,
    `phase: ${r.phase}`,
  ].join('\n');
}
