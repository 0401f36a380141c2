/**
 * `backup --out FILE`: Pre-Migration Checklist step 1. pg_dump -Fc with the tool's connection
 * settings, proven readable by pg_restore, described in FILE.json. Writes nothing to the database
 * and takes no lock (pg_dump reads an MVCC snapshot; it blocks no writer).
 */
import { z } from 'zod';
import { backup } from '../backup/backup.ts';
import { defineCommand } from '../command.ts';
import { withContext } from '../context.ts';

const Options = z.object({ out: z.string().min(1) });

export const backupCommand = defineCommand({
  command: 'backup',
  describe: 'pg_dump -Fc to --out FILE, proven readable (pg_restore), with size, SHA-256, tables and row counts in FILE.json',
  builder: (y) => y.option('out', { type: 'string', demandOption: true, describe: 'archive to write (refuses to overwrite); the sidecar goes to FILE.json' }),
  options: Options,
  run: async (o) =>
    withContext(o, async (ctx) => {
      const result = await backup(ctx, o.out);
      return {
        result,
        human: () =>
          [
            `backup of ${result.database.where} written and verified:`,
            `  archive     ${result.archive_path} (${(result.size_bytes / 1024 / 1024).toFixed(1)} MB, ${result.toc_entries} TOC entries, ${result.tables.length} tables)`,
            `  sha256      ${result.sha256}`,
            `  sidecar     ${result.sidecar}`,
            `  snapshot    ${result.snapshot === 'shared' ? 'counts read in the snapshot pg_dump dumped' : 'counts read separately (no exported snapshot)'}`,
            ...Object.entries(result.fingerprints).map(([t, f]) => `  ${t.padEnd(22)} ${f.rows.toLocaleString('en-US')} rows`),
            `  verified    pg_restore --list and a full read (${result.verified.pg_restore})`,
            `restore with: sark-migrate restore --from '${result.archive_path}' --confirm`,
          ].join('\n'),
      };
    }),
});
