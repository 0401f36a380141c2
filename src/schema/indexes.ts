/**
 * Indexes a migration defines on a table that already holds data (migration 007 on audit_events)
 * are not built inside the migration's transaction, where they would hold the table's writes for
 * every scan: `schema up` builds them afterwards, concurrently, from their sql/optimize/indexes
 * files. Idempotent and self-healing: a re-run builds what a crash or a failed build left missing
 * or INVALID.
 */
import type { Context } from '../context.ts';
import { indexDefinitions } from '../optimize/files.ts';
import { ensureIndexes, type BuildResult } from '../optimize/indexes.ts';
import { log } from '../output.ts';

export async function buildMigrationIndexes(ctx: Context, applied: readonly string[]): Promise<BuildResult[]> {
  const migrations = new Set(applied.map((id) => id.slice(0, 3)));
  const defs = [];
  for (const d of indexDefinitions().filter((x) => x.migration !== null && migrations.has(x.migration))) {
    const other = await equivalentIndex(ctx, d.table, d.name, d.statement);
    // A database adopted from SARK's own Alembic 007 has these under other names: a second,
    // identical index would only slow every write.
    if (other) log.info(`${d.name}: ${other} has the same definition; not building a duplicate`);
    else defs.push(d);
  }
  return defs.length ? ensureIndexes(ctx, defs) : [];
}

/** Another plain btree index on exactly the one column a simple `ON table (column)` statement names. */
async function equivalentIndex(ctx: Context, table: string, name: string, statement: string): Promise<string | null> {
  const column = /\bON\s+\w+\s+\((\w+)\)\s*$/i.exec(statement)?.[1];
  if (!column) return null;
  const [row] = await ctx.sql<{ other: string | null }[]>`
    select (select i.indexrelid::regclass::text
              from pg_index i
              join pg_class c on c.oid = i.indexrelid
              join pg_am am on am.oid = c.relam
              join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
             where i.indrelid = to_regclass(${table}) and c.relname <> ${name}
               and am.amname = 'btree' and i.indnatts = 1 and a.attname = ${column}
               and i.indpred is null and i.indexprs is null and i.indisvalid
             limit 1) as other`;
  return row?.other ?? null;
}
