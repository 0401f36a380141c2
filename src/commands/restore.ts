/**
 * `restore --from FILE --confirm`: the runbook's "data corruption detected" procedure. Without
 * --confirm it checks the archive and says exactly what would be replaced (exit 1); with it, it
 * restores in one transaction under the run lock and verifies the SARK tables against the counts
 * and fingerprints recorded at backup time (exit 1 if they differ).
 */
import { z } from 'zod';
import { restore } from '../backup/restore.ts';
import { defineCommand } from '../command.ts';
import { withContext } from '../context.ts';
import { ExitCode } from '../errors.ts';

const Options = z.object({ from: z.string().min(1), confirm: z.boolean().default(false) });

export const restoreCommand = defineCommand({
  command: 'restore',
  describe: 'Replace the database\'s contents with a backup (runbook: data corruption detected); needs --confirm',
  builder: (y) =>
    y
      .option('from', { type: 'string', demandOption: true, describe: 'archive written by `backup --out` (its FILE.json must be next to it)' })
      .option('confirm', { type: 'boolean', default: false, describe: 'really replace the tables in the archive; without it, only says what would happen' }),
  options: Options,
  run: async (o) =>
    withContext(o, async (ctx) => {
      const result = await restore(ctx, { from: o.from, confirm: o.confirm });
      return {
        result,
        exitCode: result.verified ? ExitCode.ok : ExitCode.failed,
        reason: `the restored tables do not match the backup: ${result.verification.filter((v) => !(v.rows_match && v.content_match)).map((v) => v.table).join(', ')}.`,
        human: () =>
          [
            `restored ${result.archive} (backup of ${result.backup.created_at}) into ${result.target}: ${result.replaces.length} tables, owners ${result.ownership}`,
            ...result.verification.map(
              (v) => `  ${v.rows_match && v.content_match ? 'ok      ' : 'MISMATCH'} ${v.table.padEnd(22)} ${v.actual_rows ?? 'absent'} rows (backup: ${v.expected_rows})${v.content_match ? '' : ', content differs'}`,
            ),
            ...(result.left_untouched.length ? [`  left as they were (not in the backup): ${result.left_untouched.join(', ')}`] : []),
            result.verified
              ? 'verified: the tables hold exactly what the backup recorded. Next: ANALYZE (vacuumdb --analyze-in-stages), then resume the application.'
              : 'NOT verified: the restored tables differ from what the backup recorded; do not resume writes before investigating.',
          ].join('\n'),
      };
    }),
});
