/**
 * Index builds that never block writes, and never leave an INVALID index behind as if it were there.
 *
 * CREATE INDEX CONCURRENTLY refuses to run in a transaction block, so every statement runs alone,
 * in autocommit, on a dedicated connection whose session carries the build settings
 * (maintenance_work_mem, max_parallel_maintenance_workers) and the operator's lock_timeout.
 * A concurrent build that fails (lock timeout, deadlock, cancel, a unique violation) leaves the
 * index in the catalog marked INVALID: it answers no query but every write still maintains it.
 * As pgroll does, such an index is dropped concurrently and built again; one still INVALID after a
 * build that reported success is dropped and reported as an error, never as present.
 */
import { openSession, type Context } from '../context.ts';
import type { Sql } from '../db/connect.ts';
import { withLockRetry } from '../db/retry.ts';
import { refused } from '../errors.ts';
import { formatDuration, log } from '../output.ts';
import type { IndexDefinition } from './files.ts';

export interface BuildSettings {
  /** Session maintenance_work_mem for the builds, e.g. '512MB'. */
  maintenanceWorkMem: string;
  /** Session max_parallel_maintenance_workers (B-tree builds only, in PostgreSQL 15). */
  parallelWorkers: number;
}

export const DEFAULT_BUILD: BuildSettings = { maintenanceWorkMem: '512MB', parallelWorkers: 2 };

export interface IndexState {
  name: string;
  /** regclass text, schema-qualified when not on the search_path */
  regclass: string | null;
  exists: boolean;
  valid: boolean;
  ready: boolean;
  bytes: number;
  /** pid of a session building it right now (pg_stat_progress_create_index) */
  buildingPid: number | null;
  definition: string | null;
}

export interface BuildResult {
  index: string;
  table: string;
  /** present: valid already, nothing done; built: created; rebuilt: an INVALID one was dropped first */
  action: 'present' | 'built' | 'rebuilt';
  seconds: number;
  bytes: number;
  attempts: number;
}

/** A connection of its own for maintenance statements, in autocommit, with the build settings. */
export function openMaintenance(ctx: Context, settings: BuildSettings = DEFAULT_BUILD): Sql {
  return openSession(ctx, {
    maintenance_work_mem: settings.maintenanceWorkMem,
    max_parallel_maintenance_workers: String(settings.parallelWorkers),
  });
}

export async function indexState(sql: Sql, name: string): Promise<IndexState> {
  const [row] = await sql<{ regclass: string; valid: boolean; ready: boolean; bytes: number; pid: number | null; definition: string }[]>`
    select i.indexrelid::regclass::text as regclass, i.indisvalid and i.indislive as valid, i.indisready as ready,
           pg_relation_size(i.indexrelid) as bytes, p.pid, pg_get_indexdef(i.indexrelid) as definition
      from pg_index i
      left join pg_stat_progress_create_index p on p.index_relid = i.indexrelid
     where i.indexrelid = to_regclass(${name})`;
  return row
    ? { name, regclass: row.regclass, exists: true, valid: row.valid, ready: row.ready, bytes: Number(row.bytes), buildingPid: row.pid, definition: row.definition }
    : { name, regclass: null, exists: false, valid: false, ready: false, bytes: 0, buildingPid: null, definition: null };
}

export async function indexStates(sql: Sql, defs: IndexDefinition[]): Promise<Map<string, IndexState>> {
  const states = new Map<string, IndexState>();
  for (const d of defs) states.set(d.name, await indexState(sql, d.name));
  return states;
}

/** DROP INDEX CONCURRENTLY (never blocks writes); nothing when it does not exist. */
export async function dropIndexConcurrently(maint: Sql, name: string): Promise<void> {
  const state = await indexState(maint, name);
  if (!state.exists) return;
  if (state.buildingPid !== null) {
    throw refused(
      `Index ${name} is being built right now by the session with pid ${state.buildingPid}.`,
      'Let that build finish (pg_stat_progress_create_index shows its progress) or cancel it with SELECT pg_cancel_backend(<pid>), then re-run.',
      { index: name, pid: state.buildingPid },
    );
  }
  // regclass text is already quoted and qualified as needed.
  await withLockRetry(`drop index ${name}`, () => maint.unsafe(`drop index concurrently if exists ${state.regclass!}`));
}

/**
 * Makes one index of the definitions present and valid: nothing when it is; dropped concurrently
 * first when INVALID; then its file's CREATE INDEX CONCURRENTLY, retried with backoff on a lock
 * timeout or deadlock, each failed attempt's INVALID leftover dropped before the next.
 */
export async function ensureIndex(maint: Sql, def: IndexDefinition): Promise<BuildResult> {
  const started = performance.now();
  const before = await indexState(maint, def.name);
  if (before.exists && before.valid && before.ready) {
    return { index: def.name, table: def.table, action: 'present', seconds: 0, bytes: before.bytes, attempts: 0 };
  }
  const wasInvalid = before.exists;
  if (wasInvalid) {
    log.warn(`index ${def.name} exists but is INVALID (a failed concurrent build): dropping it concurrently to build it again`);
    await dropIndexConcurrently(maint, def.name);
  }
  let attempts = 0;
  await withLockRetry(`create index ${def.name}`, async () => {
    attempts++;
    try {
      await maint.unsafe(def.statement, [], { prepare: false });
    } catch (e) {
      // The failed build may have left its INVALID index: remove it so the retry (or the next run) starts clean.
      await dropIfInvalid(maint, def.name).catch((d) => log.warn(`could not drop the INVALID leftover of ${def.name}: ${String(d)}`));
      throw e;
    }
  }, undefined, { sql: maint, tables: [def.table] });
  const after = await indexState(maint, def.name);
  if (!after.exists || !after.valid) {
    await dropIfInvalid(maint, def.name).catch(() => {});
    throw refused(
      `Index ${def.name} is not valid after CREATE INDEX CONCURRENTLY reported success; it was dropped.`,
      `Look for concurrent DDL on ${def.table} and re-run \`sark-migrate optimize --optimize\`.`,
      { index: def.name },
    );
  }
  const seconds = (performance.now() - started) / 1000;
  log.ok(`${wasInvalid ? 'rebuilt' : 'built'} ${def.name} concurrently (${formatDuration(seconds * 1000)}, ${(after.bytes / 1048576).toFixed(1)} MB)`);
  return { index: def.name, table: def.table, action: wasInvalid ? 'rebuilt' : 'built', seconds, bytes: after.bytes, attempts };
}

async function dropIfInvalid(maint: Sql, name: string): Promise<void> {
  const s = await indexState(maint, name);
  if (s.exists && !s.valid && s.buildingPid === null) await dropIndexConcurrently(maint, name);
}

/** ensureIndex for each definition, one statement at a time, on one maintenance connection. */
export async function ensureIndexes(
  ctx: Context,
  defs: IndexDefinition[],
  settings: BuildSettings = DEFAULT_BUILD,
  /** When given, an index that cannot be built is reported here and the others are still built. */
  onFailure?: (def: IndexDefinition, error: Error) => void,
): Promise<BuildResult[]> {
  const maint = openMaintenance(ctx, settings);
  try {
    const results: BuildResult[] = [];
    for (const def of defs) {
      try {
        results.push(await ensureIndex(maint, def));
      } catch (e) {
        if (!onFailure) throw e;
        onFailure(def, e as Error);
      }
    }
    return results;
  } finally {
    await maint.end({ timeout: 5 });
  }
}
