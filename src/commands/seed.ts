/**
 * `seed --servers N [--tools-per-server M] [--dirty]`: realistic synthetic v1 data, generated
 * set-based by sql/seed (runnable from psql too: `SELECT * FROM sark_seed.seed_v1(1000, 10)`).
 */
import { z } from 'zod';
import { defineCommand } from '../command.ts';
import { withContext, type Context } from '../context.ts';
import { withRunLock } from '../db/lock.ts';
import { applySqlFolder } from '../db/sqlFiles.ts';
import { prerequisiteMissing } from '../errors.ts';
import { formatDuration, step } from '../output.ts';
import { readSchemaState } from '../schema/state.ts';

export const SeedOptions = z.object({
  servers: z.number().int().min(0).max(10_000_000).default(1000),
  toolsPerServer: z.number().int().min(0).max(1000).default(10),
  dirty: z.boolean().default(false),
});
export type SeedOptions = z.infer<typeof SeedOptions>;

export interface SeedResult {
  rows: Record<string, number>;
  dirty: Record<string, number>;
  seconds: number;
}

export async function seed(ctx: Context, o: SeedOptions): Promise<SeedResult> {
  const state = await readSchemaState(ctx.sql);
  if (!state.v1Tables) {
    throw prerequisiteMissing('There are no v1 tables to seed.', 'Build the v1 schema first: `sark-migrate schema up --to 005`.');
  }
  const started = performance.now();
  await applySqlFolder(ctx.sql, 'seed', false);
  const rows: Record<string, number> = {};
  await step(`seeding ${o.servers.toLocaleString('en-US')} servers x ${o.toolsPerServer} tools`, async () => {
    for (const r of await ctx.sql<{ table_name: string; rows: number }[]>`select * from sark_seed.seed_v1(${o.servers}::int, ${o.toolsPerServer}::int)`) {
      rows[r.table_name] = Number(r.rows);
    }
  });
  const dirty: Record<string, number> = {};
  if (o.dirty) {
    await step('adding dirty rows', async () => {
      for (const r of await ctx.sql<{ dirty_case: string; rows: number }[]>`select * from sark_seed.seed_dirty()`) dirty[r.dirty_case] = Number(r.rows);
    });
  }
  return { rows, dirty, seconds: (performance.now() - started) / 1000 };
}

export const seedCommand = defineCommand({
  command: 'seed',
  describe: 'Generate realistic synthetic v1 data, set-based (add --dirty for the awkward cases)',
  builder: (y) =>
    y
      .option('servers', { type: 'number', default: 1000, describe: 'mcp_servers rows to add' })
      .option('tools-per-server', { type: 'number', default: 10, describe: 'mcp_tools rows per server' })
      .option('dirty', { type: 'boolean', default: false, describe: 'also add the awkward rows real databases have' }),
  options: SeedOptions,
  run: async (o) =>
    withContext(o, async (ctx) => {
      const result = await withRunLock(ctx.sql, () => seed(ctx, o));
      return {
        result,
        human: () =>
          [
            `seeded in ${formatDuration(result.seconds * 1000)}:`,
            ...Object.entries(result.rows).map(([t, n]) => `  ${t.padEnd(22)} ${n.toLocaleString('en-US')}`),
            ...Object.entries(result.dirty).map(([t, n]) => `  dirty: ${t.padEnd(15)} ${n.toLocaleString('en-US')}`),
          ].join('\n'),
      };
    }),
});
