/**
 * lock_timeout for pg_restore. An archive's preamble sets `lock_timeout = 0`, so a restore would
 * otherwise wait forever behind a session that still uses a table (and make everyone queue behind
 * its own exclusive lock). Two guards instead: before starting, sessions holding a lock on a table
 * the restore replaces while idle in transaction or for longer than lock_timeout are named and the
 * restore refused; while it runs, a watchdog cancels pg_restore's statement once it has waited on
 * a lock for longer than lock_timeout. The restore runs in one transaction, so a cancel changes
 * nothing.
 */
import type { Sql } from '../db/connect.ts';

export interface LockHolder {
  pid: number;
  usename: string | null;
  application_name: string | null;
  state: string | null;
  relation: string;
  mode: string;
  query: string | null;
}

/** Other sessions that hold a lock on one of `tables` and will not let go within `timeout`. */
export async function lingeringLockHolders(sql: Sql, tables: string[], timeout: string): Promise<LockHolder[]> {
  return sql<LockHolder[]>`
    select distinct on (l.pid, n.nspname, c.relname)
           l.pid, a.usename::text, a.application_name, a.state, n.nspname || '.' || c.relname as relation, l.mode,
           left(regexp_replace(a.query, '\\s+', ' ', 'g'), 80) as query
      from pg_catalog.pg_locks l
      join pg_catalog.pg_class c on c.oid = l.relation
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      join pg_catalog.pg_stat_activity a on a.pid = l.pid
     where l.granted and l.pid <> pg_backend_pid()
       and l.database = (select oid from pg_catalog.pg_database where datname = current_database())
       and n.nspname || '.' || c.relname = any(${tables}::text[])
       and (a.state like 'idle in transaction%' or now() - a.xact_start > ${timeout}::interval)
     order by l.pid, n.nspname, c.relname`;
}

export interface LockWait {
  pid: number;
  query: string | null;
  blocked_by: { pid: number; usename: string | null; application_name: string | null; state: string | null; query: string | null }[];
}

/**
 * Watches for a backend of `applicationName`, connected since `since` (server time), that has
 * waited on a lock for longer than `timeout` in a DDL/COPY statement; cancels it and reports who
 * blocked it. Resolves when `done` is set, or after cancelling.
 */
export function watchLockWaits(sql: Sql, o: { applicationName: string; since: Date; timeout: string }, done: { value: boolean }): Promise<LockWait | null> {
  return (async () => {
    while (!done.value) {
      const [wait] = await sql<LockWait[]>`
        select a.pid, left(a.query, 80) as query,
               coalesce((select json_agg(json_build_object('pid', b.pid, 'usename', b.usename, 'application_name', b.application_name,
                                                           'state', b.state, 'query', left(b.query, 80)))
                           from pg_catalog.pg_stat_activity b where b.pid = any(pg_blocking_pids(a.pid))), '[]') as blocked_by
          from pg_catalog.pg_stat_activity a
         where a.datname = current_database() and a.pid <> pg_backend_pid()
           and a.application_name = ${o.applicationName} and a.backend_start >= ${o.since}
           and a.state = 'active' and a.wait_event_type = 'Lock'
           and now() - a.query_start > ${o.timeout}::interval
           and a.query ~* '^\\s*(drop|create|alter|copy|comment|grant|revoke|select pg_catalog)'
         limit 1`;
      if (wait) {
        await sql`select pg_cancel_backend(${wait.pid})`;
        return wait;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    return null;
  })();
}
