/**
 * `status`: where the database stands — the runbook's health-check answer. Read-only, takes no lock.
 */
import { z } from 'zod';
import { defineCommand } from '../command.ts';
import { withContext } from '../context.ts';
import { readStatus } from '../status/phase.ts';

export const statusCommand = defineCommand({
  command: 'status',
  describe: 'Where the database stands: {database_version, schema_version, phase, counts}',
  builder: (y) => y,
  options: z.object({}),
  run: async (o) =>
    withContext(o, async (ctx) => {
      const status = await readStatus(ctx.sql);
      return {
        result: status,
        human: () =>
          [
            `database:         ${ctx.where} (PostgreSQL ${ctx.server.serverVersion})`,
            `database_version: ${status.database_version}`,
            `schema_version:   ${status.schema_version ?? 'none'} (alembic_version ${status.alembic_version ?? 'none'})`,
            `phase:            ${status.phase}`,
            ...Object.entries(status.counts).map(([k, v]) => `  ${k.padEnd(18)} ${v === null ? '-' : v.toLocaleString('en-US')}`),
          ].join('\n'),
      };
    }),
});
