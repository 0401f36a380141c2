/**
 * `schema up [--to ID] [--baseline ID]`, `schema down --to ID`, `schema status`: Phase 1 of the
 * runbook, the versioned DDL in migrations/.
 */
import { z } from 'zod';
import { defineCommand } from '../command.ts';
import { withContext } from '../context.ts';
import { guardDrift, findDrift } from '../db/sqlFiles.ts';
import { withRunLock } from '../db/lock.ts';
import { usageError } from '../errors.ts';
import { schemaDown, schemaUp, type SchemaChange } from '../schema/migrate.ts';
import { migrationIds, readSchemaState } from '../schema/state.ts';

const Options = z.object({
  action: z.enum(['up', 'down', 'status']),
  to: z.string().optional(),
  baseline: z.string().optional(),
  force: z.boolean().default(false),
  keepLedgers: z.boolean().default(false),
});

export const schemaCommand = defineCommand({
  command: 'schema <action>',
  describe: 'Phase 1: versioned DDL (up | down --to ID | status); adopts an Alembic-managed database',
  builder: (y) =>
    y
      .positional('action', { choices: ['up', 'down', 'status'] as const, describe: 'what to do' })
      .option('to', { type: 'string', describe: 'target migration, e.g. 005 or 007_federation' })
      .option('baseline', { type: 'string', describe: 'adopt a database with v1 tables but no ledger as being at this migration (e.g. 005)' })
      .option('force', { type: 'boolean', default: false, describe: 'schema down: drop v2 tables even though they hold rows' })
      .option('keep-ledgers', { type: 'boolean', default: false, describe: 'schema down below 006: keep the ledger tables of sark_migration (its views and functions go)' }),
  options: Options,
  run: async (o) =>
    withContext(o, async (ctx) => {
      if (o.action === 'status') {
        const state = await readSchemaState(ctx.sql);
        const ids = migrationIds();
        const result = {
          schema_version: state.schemaVersion,
          alembic_version: state.alembicVersion,
          ledger: state.hasLedger ? 'node-pg-migrate' : state.alembicVersion ? 'alembic only (adopted on the next schema up)' : 'none',
          applied: state.applied,
          pending: ids.filter((id) => !state.applied.includes(id)),
          drift: await findDrift(ctx.sql),
        };
        return {
          result,
          human: () =>
            [
              `schema version: ${result.schema_version ?? 'none'} (alembic_version: ${result.alembic_version ?? 'none'}, ledger: ${result.ledger})`,
              ...ids.map((id) => `  ${state.applied.includes(id) ? '[x]' : '[ ]'} ${id}`),
              ...result.drift.map((d) => `  drift: ${d.path} changed since it was applied`),
            ].join('\n'),
          exitCode: result.drift.length ? 1 : 0,
          reason: `applied SQL files changed since they were applied: ${result.drift.map((d) => d.path).join(', ')}.`,
        };
      }
      if (o.action === 'down' && !o.to) throw usageError('`schema down` needs --to.', 'Name the migration to return to, e.g. `schema down --to 005`.');
      const change = await withRunLock(ctx.sql, async () => {
        await guardDrift(ctx.sql, o.allowDrift);
        return o.action === 'up' ? schemaUp(ctx, { to: o.to, baseline: o.baseline }) : schemaDown(ctx, { to: o.to!, force: o.force, keepLedgers: o.keepLedgers });
      });
      return { result: change, human: () => describeChange(change) };
    }),
});

function describeChange(c: SchemaChange): string {
  const lines = [];
  if (c.adopted.length) lines.push(`adopted (recorded, not run): ${c.adopted.join(', ')}`);
  if (c.taken_over?.length) lines.push(`taken over (SARK's application had created them, empty; 006/007 made them whole): ${c.taken_over.join(', ')}`);
  if (c.applied.length) lines.push(`applied: ${c.applied.join(', ')}`);
  if (c.reverted.length) lines.push(`reverted: ${c.reverted.join(', ')}`);
  if (!c.adopted.length && !c.applied.length && !c.reverted.length) lines.push('nothing to do: the schema is already there');
  lines.push(`schema version: ${c.from ?? 'none'} -> ${c.to ?? 'none'} (alembic_version ${c.alembic_version ?? 'none'})`);
  if (c.tool) {
    lines.push(c.tool.kept.length ? `sark-migrate's own objects removed, ledgers kept: ${c.tool.kept.join(', ')}` : "sark-migrate's own objects removed (schema sark_migration): none left");
  }
  return lines.join('\n');
}
