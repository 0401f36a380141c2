/**
 * The tool's SQL definitions: the sark_migration schema, the v1 → v2 mapping and its inverse, the
 * dirty-data findings, the validation views. They are idempotent (CREATE OR REPLACE / IF NOT
 * EXISTS) and live in these folders, applied in this order:
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { log } from '../output.ts';
import type { Context } from '../context.ts';
import { upSection } from '../schema/state.ts';
import { one, type Sql } from './connect.ts';
import { applySqlFile, applySqlFolder, PROJECT_ROOT, projectPath, sha256, sqlFilesIn } from './sqlFiles.ts';

export const DEFINITION_FOLDERS = ['tool', 'mapping', 'validate'] as const;

/** Applies every definition file and records its hash. For commands that write. */
export async function installDefinitions(sql: Sql): Promise<void> {
  for (const folder of DEFINITION_FOLDERS) await applySqlFolder(sql, folder, true);
}

class Rollback extends Error {}

export async function staleDefinitionFiles(sql: Sql): Promise<string[]> {
  const current = await installedUnchanged(sql);
  return DEFINITION_FOLDERS.flatMap((folder) => sqlFilesIn(folder)).map(projectPath).filter((path) => !current.has(path));
}

/** Files (definitions by default) recorded as applied with the content they have now; the others are stale. */
export async function installedUnchanged(sql: Sql, files: string[] = DEFINITION_FOLDERS.flatMap((folder) => sqlFilesIn(folder))): Promise<Set<string>> {
  const [ledger] = await sql<{ ok: boolean }[]>`select to_regclass('sark_migration.applied_files') is not null as ok`;
  if (!ledger!.ok) return new Set();
  const recorded = new Map((await sql<{ path: string; sha256: string }[]>`select path, sha256 from sark_migration.applied_files`).map((r) => [r.path, r.sha256]));
  return new Set(files.map(projectPath).filter((path) => recorded.get(path) === sha256(readFileSync(join(PROJECT_ROOT, path), 'utf8'))));
}

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
      // Files installed with exactly this content are left alone: replacing their views would take
      // ACCESS EXCLUSIVE locks that the sync triggers (reading them in every v1 write) would wait on.
      const current = await installedUnchanged(sql);
      for (const file of DEFINITION_FOLDERS.flatMap((folder) => sqlFilesIn(folder))) {
        if (current.has(projectPath(file))) continue;
        log.debug(`(read-only) ${projectPath(file)}`);
        await applySqlFile(sql, file, false);
      }
      result = await fn(sql);
      throw new Rollback();
    });
  } catch (e) {
    if (!(e instanceof Rollback)) throw e;
  }
  return result as T;
}
