/**
 * The sync's SQL, as a DBA would run it: sql/sync/0NN_*.sql are definitions (functions, ledgers,
 * views; idempotent, applied and hash-recorded like the mapping), sql/sync/1NN_*.sql are the
 * actions that create or drop the triggers, each one transaction, each runnable with psql. This
 * module runs those same files, never a copy of them: every action under the operator's
 * lock_timeout, retried with backoff (db/retry.ts) when the lock is not granted in time.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Context } from '../context.ts';
import type { Sql } from '../db/connect.ts';
import { installDefinitions, installedUnchanged, staleDefinitionFiles } from '../db/definitions.ts';
import { withLockRetry } from '../db/retry.ts';
import { applySqlFile, projectPath, runScript, SQL_DIR, sqlFilesIn } from '../db/sqlFiles.ts';
import { refused } from '../errors.ts';
import { log } from '../output.ts';
import { forwardSyncOn } from './state.ts';

export const SYNC_FOLDER = 'sync';

export const SYNC_ACTIONS = {
  enableForward: '101_enable_forward_sync.sql',
  disableForward: '102_disable_forward_sync.sql',
  enableReverse: '103_enable_reverse_sync.sql',
  disableReverse: '104_disable_reverse_sync.sql',
  decommission: '109_decommission_v1.sql',
} as const;
export type SyncAction = keyof typeof SYNC_ACTIONS;

/** sql/sync/0NN_*.sql: the definitions, in the order they are applied. */
export function syncDefinitionFiles(): string[] {
  return sqlFilesIn(SYNC_FOLDER).filter((f) => Number(basename(f).slice(0, 3)) < 100);
}

export const actionFile = (action: SyncAction) => join(SQL_DIR, SYNC_FOLDER, SYNC_ACTIONS[action]);

/**
 * Applies the sync definitions (after the mapping, which they use) that are new or changed since
 * they were recorded; returns false, having applied nothing, when the v1 or v2 tables are missing.
 * Unchanged files are left alone: with the sync on, the application writes the ledgers they
 * create, and even a no-op `CREATE INDEX IF NOT EXISTS` or `COMMENT ON TABLE` on them takes a lock
 * those writes hold or wait for (bench's live load lost that race: "canceling statement due to lock
 * timeout" in 001_create_sync_ledgers.sql). What is applied runs under lock_timeout, retried.
 */
export async function installSyncDefinitions(sql: Sql): Promise<boolean> {
  const [row] = await sql<{ ok: boolean }[]>`
    select to_regclass('public.mcp_servers') is not null and to_regclass('public.mcp_tools') is not null
       and to_regclass('public.resources') is not null and to_regclass('public.capabilities') is not null
       and to_regclass('sark_migration.resource_image') is not null as ok`;
  if (!row!.ok) return false;
  const files = syncDefinitionFiles();
  const current = await installedUnchanged(sql, files);
  for (const file of files.filter((f) => !current.has(projectPath(f)))) {
    await withLockRetry(`apply ${projectPath(file)}`, () => applySqlFile(sql, file, true), undefined, { sql, tables: SYNC_LEDGERS });
  }
  return true;
}

/** The ledgers the sync's triggers write, which its definition files create (and comment on). */
const SYNC_LEDGERS = ['sark_migration.sync_log', 'sark_migration.sync_failures', 'sark_migration.reverse_unrepresentable', 'sark_migration.reverse_inferred'];

/** The tables the sync's action files lock (briefly, for their DDL). */
const SYNCED_TABLES = ['public.mcp_servers', 'public.mcp_tools', 'public.resources', 'public.capabilities'];

/**
 * Runs one action file on a dedicated connection, with session settings (`sark_migration.*`
 * parameters the file reads) set for the run only. The file's own transaction (BEGIN ... COMMIT)
 * is all or nothing; a lock timeout or deadlock is retried from the start with backoff.
 */
export async function runSyncAction(ctx: Context, action: SyncAction, settings: Record<string, string> = {}): Promise<void> {
  const text = readFileSync(actionFile(action), 'utf8');
  await withLockRetry(`sync: ${SYNC_ACTIONS[action]}`, async () => {
    log.debug(`running sql/${SYNC_FOLDER}/${SYNC_ACTIONS[action]}`);
    await runScript(ctx.sql, text, settings);
  }, undefined, { sql: ctx.sql, tables: SYNCED_TABLES });
}

/**
 * installDefinitions, for a command that writes while the forward sync may be on. The sync's
 * triggers read the mapping's views inside every application write, and replacing a view holds an
 * ACCESS EXCLUSIVE lock until the file's transaction ends: every v1 write would wait for it (and
 * can deadlock with it). So while the sync is on, installed definitions are left as they are, and
 * new or edited ones are refused with the way round.
 */
export async function installDefinitionsBesideSync(ctx: Context): Promise<void> {
  if (!(await forwardSyncOn(ctx.sql))) return installDefinitions(ctx.sql);
  const stale = await staleDefinitionFiles(ctx.sql);
  if (stale.length === 0) {
    log.debug('the sync is on and the definitions are installed and unchanged: not re-installed');
    return;
  }
  throw refused(
    `The sync is on, and these definition files are new or changed since they were installed: ${stale.join(', ')}. ` +
      'Installing them replaces views the sync\'s triggers read in every application write, which would make those writes wait.',
    'Run `sark-migrate sync --disable`, then `sark-migrate data --execute` again: it installs them, turns the sync back on and copies whatever changed in between.',
    { stale },
  );
}
