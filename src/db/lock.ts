/**
 * One run at a time per database: a session-level advisory lock held on a dedicated connection for
 * the whole run. A second run waits briefly, then says who holds the lock. Read-only commands never
 * take it.
 */
import { refused } from '../errors.ts';
import type { Sql } from './connect.ts';

// pg_advisory_lock(int4, int4): 'SARK' and 2 (the v2 migration). Visible in pg_locks as classid/objid.
const LOCK_CLASS = 0x5341524b;
const LOCK_OBJECT = 2;

export async function withRunLock<T>(sql: Sql, fn: () => Promise<T>, waitMs = 5000): Promise<T> {
  const conn = await sql.reserve();
  try {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const [row] = await conn<{ locked: boolean }[]>`select pg_try_advisory_lock(${LOCK_CLASS}, ${LOCK_OBJECT}) as locked`;
      if (row!.locked) break;
      if (Date.now() > deadline) throw await heldBy(conn as unknown as Sql);
      await new Promise((r) => setTimeout(r, 250));
    }
    try {
      return await fn();
    } finally {
      await conn`select pg_advisory_unlock(${LOCK_CLASS}, ${LOCK_OBJECT})`.catch(() => {});
    }
  } finally {
    conn.release();
  }
}

async function heldBy(sql: Sql) {
  const [holder] = await sql<{ pid: number; application_name: string; usename: string; client_addr: string | null; backend_start: Date }[]>`
    select a.pid, a.application_name, a.usename, host(a.client_addr) as client_addr, a.backend_start
      from pg_locks l join pg_stat_activity a on a.pid = l.pid
     where l.locktype = 'advisory' and l.classid = ${LOCK_CLASS}::int::oid and l.objid = ${LOCK_OBJECT}::oid
       and l.objsubid = 2 and l.granted
       -- advisory locks are per database, pg_locks shows every database's
       and l.database = (select d.oid from pg_database d where d.datname = current_database())`;
  const who = holder
    ? `pid ${holder.pid} (${holder.application_name || 'no application_name'}, user ${holder.usename}${holder.client_addr ? ` from ${holder.client_addr}` : ''}, connected since ${holder.backend_start.toISOString()})`
    : 'another session';
  return refused(
    `Another sark-migrate run holds the migration lock on this database: ${who}.`,
    'Wait for it to finish, or if it is stuck, end it with SELECT pg_terminate_backend(<pid>) and re-run.',
    { holder },
  );
}
