/**
 * v2 tables SARK's application created before any migration (create_all at start-up): `schema up`
 * takes them over when every one is empty and of 006/007's shape (sql/tool/004), and refuses with
 * the exact differences otherwise; `preflight` says which of the two it will be.
 */
import type { Context } from '../context.ts';
import type { Sql } from '../db/connect.ts';
import { withLockRetry } from '../db/retry.ts';
import { applySqlFolder } from '../db/sqlFiles.ts';
import { refused } from '../errors.ts';
import { log } from '../output.ts';
import { V2_TABLES } from './state.ts';

export interface PrecreatedTable {
  table_name: string;
  has_rows: boolean;
  problems: string[];
}

/** Whether migration 006 is still to run while some v2 table exists already. */
export async function precreatedPending(sql: Sql, applied: string[], alembicVersion: string | null): Promise<boolean> {
  if (applied.includes('006_protocol_adapters') || alembicVersion === '007_federation' || alembicVersion === '006_protocol_adapters') return false;
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from unnest(${V2_TABLES as unknown as string[]}::text[]) t where to_regclass('public.' || t) is not null`;
  return row!.n > 0;
}

/** The pre-existing v2 tables and what stands in the way of taking them over (read-only; needs the tool definitions). */
export async function precreatedTables(sql: Sql): Promise<PrecreatedTable[]> {
  return [...(await sql<PrecreatedTable[]>`select * from sark_migration.precreated_v2_tables()`)];
}

/** Before 006: records and drops the pre-created tables, or refuses with every problem. Returns their names. */
export async function takeOverPrecreated(ctx: Context): Promise<string[]> {
  await applySqlFolder(ctx.sql, 'tool');
  const tables = await precreatedTables(ctx.sql);
  const problems = tables.flatMap((t) => t.problems);
  if (problems.length) {
    throw refused(
      `v2 tables exist before migration 006 (made by SARK's application, create_all) and cannot be taken over: ${problems.join('; ')}.`,
      'Empty them (they hold no migrated data yet) or make them match migrations/006 and 007, then run `sark-migrate schema up` again; `sark-migrate preflight` lists the same.',
      { tables },
    );
  }
  const taken = await withLockRetry(
    'take over the pre-created v2 tables',
    async () => (await ctx.sql<{ t: string }[]>`select t from sark_migration.take_over_precreated_v2_tables() as t`).map((r) => r.t),
    undefined,
    { sql: ctx.sql, tables: V2_TABLES.map((t) => `public.${t}`) },
  );
  log.info(`taking over the v2 tables SARK's application created (empty, 006/007's columns): ${taken.join(', ')}; 006/007 create them with their constraints and indexes`);
  return taken;
}

/** After 006/007: the recorded owners and privileges back on the re-created tables. */
export async function restoreTakenOver(ctx: Context): Promise<void> {
  const [exists] = await ctx.sql<{ ok: boolean }[]>`select to_regprocedure('sark_migration.restore_taken_over_v2_tables()') is not null as ok`;
  if (!exists!.ok) return;
  for (const r of await ctx.sql<{ table_name: string; note: string | null }[]>`select * from sark_migration.restore_taken_over_v2_tables()`) {
    if (r.note) log.warn(`${r.table_name}: ${r.note}`);
    else log.ok(`${r.table_name}: owner and privileges as SARK's application had them`);
  }
}
