/**
 * The SQL files are the product; this module finds them, applies them and remembers exactly what
 * was applied. A file's SHA-256 is recorded when it is applied; an applied file whose content has
 * changed since is drift, refused unless the operator passes --allow-drift.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { refused } from '../errors.ts';
import { log } from '../output.ts';
import type { Sql } from './connect.ts';

/**
 * The package's own directory (where package.json, sql/ and migrations/ are): found by walking up
 * from this module, which sits at src/db/ in a checkout and inside dist/ in an installed package.
 */
export const PROJECT_ROOT = packageRoot(dirname(fileURLToPath(import.meta.url)));

function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'sql')) && existsSync(join(dir, 'migrations'))) return dir;
    if (dirname(dir) === dir) throw new Error(`sark-migrate's sql/ and migrations/ folders are not beside ${from}: the package is incomplete; reinstall it.`);
  }
}
export const MIGRATIONS_DIR = join(PROJECT_ROOT, 'migrations');
export const SQL_DIR = join(PROJECT_ROOT, 'sql');

/** Files of a folder under sql/ in the order they run (their NNN_ prefix). */
export function sqlFilesIn(folder: string): string[] {
  const dir = join(SQL_DIR, folder);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^\d+_.*\.sql$/.test(f))
    .sort()
    .map((f) => join(dir, f));
}

/** Project-relative path, the key under which a file is recorded. */
export const projectPath = (absolute: string) => relative(PROJECT_ROOT, absolute);

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Applies one SQL file as psql -1 would: postgres.js sends a parameterless multi-statement text
 * in one simple-query message, which PostgreSQL runs as one implicit transaction. The file is then
 * recorded with its hash (unless `record` is false: read-only previews record nothing).
 */
export async function applySqlFile(sql: Sql, file: string, record = true): Promise<void> {
  const text = readFileSync(file, 'utf8');
  log.debug(`applying ${projectPath(file)}`);
  await runScript(sql, text);
  if (record) await recordApplied(sql, projectPath(file), sha256(text));
}

/**
 * Runs a multi-statement SQL text on one dedicated connection (a file may carry its own
 * BEGIN/COMMIT, which postgres.js only allows on a reserved connection), with session `settings`
 * (parameters the file reads, e.g. sark_migration.force) set for this run only.
 */
export async function runScript(sql: Sql, text: string, settings: Record<string, string> = {}): Promise<void> {
  // Inside sql.begin() the handle is already one connection (and has no reserve()): settings are local.
  if (typeof (sql as { reserve?: unknown }).reserve !== 'function') {
    for (const [name, value] of Object.entries(settings)) await sql`select set_config(${name}, ${value}, true)`;
    await sql.unsafe(text);
    return;
  }
  const conn = await sql.reserve();
  try {
    for (const [name, value] of Object.entries(settings)) await conn`select set_config(${name}, ${value}, false)`;
    await conn.unsafe(text);
  } catch (e) {
    // A statement that failed inside the file's own BEGIN leaves the session in an aborted
    // transaction: end it, so the pooled connection (and a retry) starts clean.
    await conn.unsafe('rollback').catch(() => {});
    throw e;
  } finally {
    for (const name of Object.keys(settings)) await conn`select set_config(${name}, '', false)`.catch(() => {});
    conn.release();
  }
}

export async function applySqlFolder(sql: Sql, folder: string, record = true): Promise<void> {
  for (const file of sqlFilesIn(folder)) await applySqlFile(sql, file, record);
}

export async function ensureLedger(sql: Sql): Promise<void> {
  await applySqlFile(sql, join(SQL_DIR, 'tool', '001_create_ledger.sql'));
}

export async function recordApplied(sql: Sql, path: string, hash: string): Promise<void> {
  await sql`
    insert into sark_migration.applied_files (path, sha256) values (${path}, ${hash})
    on conflict (path) do update set sha256 = excluded.sha256, applied_at = now(), applied_by = current_user
    where applied_files.sha256 is distinct from excluded.sha256`;
}

export interface Drift {
  path: string;
  recorded: string;
  current: string | null; // null: the file no longer exists
}

/** Applied files whose content differs from what was applied. Read-only. */
export async function findDrift(sql: Sql): Promise<Drift[]> {
  const [exists] = await sql<{ ok: boolean }[]>`select to_regclass('sark_migration.applied_files') is not null as ok`;
  if (!exists!.ok) return [];
  const rows = await sql<{ path: string; sha256: string }[]>`select path, sha256 from sark_migration.applied_files order by path`;
  const drift: Drift[] = [];
  for (const row of rows) {
    const abs = join(PROJECT_ROOT, row.path);
    const current = existsSync(abs) ? sha256(readFileSync(abs, 'utf8')) : null;
    if (current !== row.sha256) drift.push({ path: row.path, recorded: row.sha256, current });
  }
  return drift;
}

/** Refuses to go on when applied files changed, unless the operator explicitly allows it. */
export async function guardDrift(sql: Sql, allowDrift: boolean): Promise<void> {
  const drift = (await findDrift(sql)).filter((d) => d.current !== null);
  if (drift.length === 0) return;
  const list = drift.map((d) => d.path).join(', ');
  if (allowDrift) {
    log.warn(`applied SQL files changed since they were applied (allowed by --allow-drift): ${list}`);
    return;
  }
  throw refused(
    `SQL files applied to this database have been edited since: ${list}.`,
    'Review the change (git log -p on those files); if it is intended, re-run with --allow-drift to apply and record the new version.',
    { drift },
  );
}
