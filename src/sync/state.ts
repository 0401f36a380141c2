/**
 * What the sync looks like right now, read from the catalog and the sync ledgers (sql/sync/001,
 * 004). Read-only and safe on any database: ledgers that do not exist yet read as empty.
 */
import type { Sql } from '../db/connect.ts';
import { FORWARD_SYNC_TRIGGER, readStatus, REVERSE_SYNC_TRIGGER, syncDirections, type DatabaseStatus, type Phase } from '../status/phase.ts';

export interface SyncTrigger {
  table_name: string;
  trigger_name: string;
  direction: 'forward' | 'reverse';
  enabled: boolean;
}

export interface SyncFailure {
  id: number;
  direction: 'forward' | 'reverse';
  source_table: string;
  rows: number;
  sample_ids: string[];
  sqlstate: string;
  message: string;
  at: Date;
}

export interface SyncState {
  phase: Phase;
  status: DatabaseStatus;
  triggers: SyncTrigger[];
  forward: boolean;
  reverse: boolean;
  copy_completed: boolean;
  /** the newest copy run of both tables started after the forward sync was enabled (so nothing fell between) */
  copy_after_sync: boolean;
  /** when the current cutover began (the latest 'cutover' in sync_log), if in cutover */
  cutover_started_at: Date | null;
  forward_enabled_at: Date | null;
  failures: { open: number; open_forward: number; open_reverse: number; resolved: number; latest: SyncFailure[] };
  unrepresentable: { total: number; by_reason: { target_table: string; reason: string; rows: number; sample_ids: string[] }[] };
  inferred: number;
  /** The forward and reverse sync apply every write in the writer's own transaction. */
  lag: 'none: every write is applied in the transaction that makes it';
}

const exists = async (sql: Sql, name: string) => (await sql<{ ok: boolean }[]>`select to_regclass(${name}) is not null as ok`)[0]!.ok;

export async function readSyncState(sql: Sql): Promise<SyncState> {
  const status = await readStatus(sql);
  const triggers = await sql<SyncTrigger[]>`
    select c.relname::text as table_name, t.tgname::text as trigger_name,
           case when t.tgname like ${FORWARD_SYNC_TRIGGER + '%'} then 'forward' else 'reverse' end as direction,
           t.tgenabled <> 'D' as enabled
      from pg_trigger t join pg_class c on c.oid = t.tgrelid
     where not t.tgisinternal and (t.tgname like ${FORWARD_SYNC_TRIGGER + '%'} or t.tgname like ${REVERSE_SYNC_TRIGGER + '%'})
     order by 3, 1, 2`;
  const state: SyncState = {
    phase: status.phase,
    status,
    triggers: [...triggers],
    forward: triggers.some((t) => t.direction === 'forward'),
    reverse: triggers.some((t) => t.direction === 'reverse'),
    copy_completed: false,
    copy_after_sync: false,
    cutover_started_at: null,
    forward_enabled_at: null,
    failures: { open: 0, open_forward: 0, open_reverse: 0, resolved: 0, latest: [] },
    unrepresentable: { total: 0, by_reason: [] },
    inferred: 0,
    lag: 'none: every write is applied in the transaction that makes it',
  };
  if (await exists(sql, 'sark_migration.copy_progress')) {
    state.copy_completed = (await sql<{ ok: boolean }[]>`select coalesce(sark_migration.copy_completed(), false) as ok`.catch(() => [{ ok: false }]))[0]!.ok;
  }
  if (await exists(sql, 'sark_migration.sync_log')) {
    const [log] = await sql<{ cutover: Date | null; forward: Date | null }[]>`
      select (select max(at) from sark_migration.sync_log where event = 'cutover') as cutover,
             (select max(at) from sark_migration.sync_log where event = 'forward_enabled') as forward`;
    state.cutover_started_at = state.reverse ? log!.cutover : null;
    state.forward_enabled_at = state.forward ? log!.forward : null;
    if (state.forward_enabled_at && (await exists(sql, 'sark_migration.copy_progress'))) {
      const [c] = await sql<{ ok: boolean }[]>`
        select count(*) = 2 and bool_and(newest.started_at >= ${state.forward_enabled_at}::timestamptz) as ok
          from (select distinct on (target_table) target_table, started_at
                  from sark_migration.copy_progress order by target_table, run_id desc) newest`;
      state.copy_after_sync = c!.ok;
    }
  }
  if (await exists(sql, 'sark_migration.sync_failures')) {
    const [counts] = await sql<{ open: number; open_forward: number; open_reverse: number; resolved: number }[]>`
      select count(*) filter (where resolved_at is null)::int as open,
             count(*) filter (where resolved_at is null and direction = 'forward')::int as open_forward,
             count(*) filter (where resolved_at is null and direction = 'reverse')::int as open_reverse,
             count(*) filter (where resolved_at is not null)::int as resolved
        from sark_migration.sync_failures`;
    state.failures = {
      ...counts!,
      latest: [
        ...(await sql<SyncFailure[]>`
          select id::int, direction, source_table, cardinality(ids) as rows, ids[1:5] as sample_ids, sqlstate, message, at
            from sark_migration.sync_failures where resolved_at is null order by id desc limit 10`),
      ],
    };
  }
  if (await exists(sql, 'sark_migration.reverse_unrepresentable')) {
    const rows = await sql<{ target_table: string; reason: string; rows: number; sample_ids: string[] }[]>`
      select target_table, reason, count(*)::int as rows, (array_agg(id order by id))[1:5] as sample_ids
        from sark_migration.reverse_unrepresentable group by 1, 2 order by 1, 2`;
    state.unrepresentable = { total: rows.reduce((n, r) => n + r.rows, 0), by_reason: [...rows] };
    state.inferred = (await sql<{ n: number }[]>`select count(*)::int as n from sark_migration.reverse_inferred`)[0]!.n;
  }
  return state;
}

/** Whether the forward sync's triggers exist (the copy then locks the v1 rows of each batch). */
export async function forwardSyncOn(sql: Sql): Promise<boolean> {
  return (await syncDirections(sql)).forward;
}
