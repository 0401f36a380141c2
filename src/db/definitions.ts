/**
 * The tool's SQL definitions: the sark_migration schema, the v1 → v2 mapping and its inverse, the
 * dirty-data findings, the validation views. They are idempotent (CREATE OR REPLACE / IF NOT
 * EXISTS) and live in these folders, applied in this order:
 */
import { log } from '../output.ts';
import type { Context } from '../context.ts';
import { upSection } from '../schema/state.ts';
import { one, type Sql } from './connect.ts';
import { applySqlFolder, sqlFilesIn } from './sqlFiles.ts';

export const DEFINITION_FOLDERS = ['tool', 'mapping', 'validate'] as const;

/** Applies every definition file and records its hash. For commands that write. */
export async function installDefinitions(sql: Sql): Promise<void> {
  for (const folder of DEFINITION_FOLDERS) await applySqlFolder(sql, folder, true);
}

class Rollback extends Error {}

/**
 * Read-only commands (validate, every --dry-run, preflight) create nothing: they install the
 * definitions inside one REPEATABLE READ transaction, run `fn` in it — so every check sees the
 * same snapshot — and roll everything back. The answers are those of the definitions shipped
 * with this version of the tool, whatever an earlier run left installed.
 */
export async function withDefinitionsReadOnly<T>(ctx: Context, fn: (tx: Sql) => Promise<T>, opts: { scaffoldV2?: boolean } = {}): Promise<T> {
  let result: T | undefined;
  try {
    await ctx.sql.begin('isolation level repeatable read', async (tx) => {
      const sql = tx as unknown as Sql;
      // Function bodies may name v2 tables a v1-only database does not have yet.
      await sql`set local check_function_bodies = off`;
      // Before Phase 1 (preflight), views over the v2 tables need them: create them empty, from
      // migration 006 itself, inside this transaction. New tables only; nothing existing is locked.
      if (opts.scaffoldV2 && one(await sql<{ missing: boolean }[]>`select to_regclass('public.resources') is null as missing`).missing) {
        await sql.unsafe(upSection('006_protocol_adapters'));
      }
      for (const folder of DEFINITION_FOLDERS) {
        for (const file of sqlFilesIn(folder)) log.debug(`(read-only) ${file}`);
        await applySqlFolder(sql, folder, false);
      }
      result = await fn(sql);
      throw new Rollback();
    });
  } catch (e) {
    if (!(e instanceof Rollback)) throw e;
  }
  return result as T;
}
