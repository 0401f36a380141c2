/**
 * `uninstall [--keep-ledgers]`, and the last step of `schema down --to 005`: removes what the tool
 * put in the database (sql/tool/uninstall.sql): the sark_migration schema with its views,
 * functions and ledgers, the seed and bench helpers, and (uninstall only) node-pg-migrate's ledger.
 * With --keep-ledgers the ledger tables stay and the result says which. Refused while a sync
 * trigger exists.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../context.ts';
import { runScript, SQL_DIR } from '../db/sqlFiles.ts';
import { refused } from '../errors.ts';

export interface Uninstalled {
  removed: string[];
  kept: string[];
}

export async function uninstallTool(ctx: Context, o: { keepLedgers: boolean; dropSchemaLedger: boolean }): Promise<Uninstalled> {
  const before = await ctx.sql<{ name: string; kind: string }[]>`
    select n.nspname || '.' || c.relname as name, c.relkind::text as kind
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where (n.nspname in ('sark_migration', 'sark_seed', 'sark_bench') and c.relkind in ('r', 'v', 'm'))
        or (n.nspname = 'public' and c.relname = 'pgmigrations')
     order by 1`;
  const settings = { 'sark_migration.keep_ledgers': o.keepLedgers ? 'on' : 'off', 'sark_migration.drop_pgmigrations': o.dropSchemaLedger ? 'on' : 'off' };
  await runScript(ctx.sql, `begin; ${readFileSync(join(SQL_DIR, 'tool', 'uninstall.sql'), 'utf8')} commit;`, settings).catch((e: Error & { hint?: string }) => {
    if (/sync triggers are installed/.test(e.message)) throw refused(`${e.message}.`, e.hint ?? 'Turn the sync off first.');
    throw e;
  });
  const after = new Set(
    (await ctx.sql<{ name: string }[]>`
      select n.nspname || '.' || c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where (n.nspname in ('sark_migration', 'sark_seed', 'sark_bench') and c.relkind in ('r', 'v', 'm'))
          or (n.nspname = 'public' and c.relname = 'pgmigrations')`).map((r) => r.name),
  );
  return { removed: before.filter((b) => !after.has(b.name)).map((b) => b.name), kept: [...after].sort() };
}
