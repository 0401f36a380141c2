/**
 * Lock safety: DDL runs with a short lock_timeout so it never queues behind a long transaction
 * (and so never makes the application's queries queue behind it). When the timeout fires
 * (SQLSTATE 55P03) or a deadlock is detected (40P01), the step is retried with exponential backoff
 * and jitter. The retried function must compute its own plan each time: part of it may have
 * committed before the failure.
 */
import { isPgError, rootCause } from '../errors.ts';
import { log } from '../output.ts';
import type { Sql } from './connect.ts';

const RETRYABLE = new Set(['55P03', '40P01']);

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 12, baseMs: 250, maxMs: 8000 };

/** The tables a retried statement locks, so that autovacuum on them can make way (see below). */
export interface LockTargets {
  sql: Sql;
  tables: string[];
}

export async function withLockRetry<T>(what: string, fn: (attempt: number) => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY, targets?: LockTargets): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      const cause = rootCause(e);
      if (!isPgError(cause) || !RETRYABLE.has(cause.code!) || attempt >= policy.attempts) throw cause;
      if (targets && cause.code === '55P03') await yieldAutovacuum(what, targets);
      const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
      const wait = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
      log.warn(`${what}: ${cause.code === '55P03' ? 'lock not available' : 'deadlock'} (attempt ${attempt}/${policy.attempts}); retrying in ${wait} ms`);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/**
 * PostgreSQL cancels an autovacuum that blocks a lock request once the request has waited
 * deadlock_timeout (1 s by default). The tool's statements give up sooner (lock_timeout, 500 ms,
 * so the application never queues long behind them), so autovacuum would never make way for them:
 * after a big copy it can hold a table for minutes. So, as PostgreSQL itself would, the tool
 * cancels an autovacuum working on the tables it needs before retrying (never one that prevents
 * wraparound, which PostgreSQL does not cancel either; autovacuum comes back later). Without the
 * privilege to signal it (pg_signal_backend) the retry simply waits longer.
 */
async function yieldAutovacuum(what: string, t: LockTargets): Promise<void> {
  try {
    // Which workers first; only then the signal, one by one (a WHERE clause does not promise the
    // order in which it evaluates its conditions: a cancel in it could hit any session).
    const workers = await t.sql<{ pid: number; query: string }[]>`
      select a.pid, a.query from pg_stat_activity a
       where a.backend_type = 'autovacuum worker' and a.datname = current_database()
         and a.query !~ 'wraparound'
         and exists (select 1 from pg_locks l
                      where l.pid = a.pid and l.relation = any (array(select to_regclass(x) from unnest(${t.tables}::text[]) x)))`;
    const cancelled: { pid: number; query: string }[] = [];
    for (const w of workers) {
      const [r] = await t.sql<{ ok: boolean }[]>`select pg_cancel_backend(pid) as ok from pg_stat_activity where pid = ${w.pid} and backend_type = 'autovacuum worker'`;
      if (r?.ok) cancelled.push(w);
    }
    for (const c of cancelled) log.info(`${what}: ${c.query} (pid ${c.pid}) made way, as PostgreSQL does for a waiting lock request`);
  } catch (e) {
    log.debug(`${what}: could not cancel autovacuum: ${(e as Error).message}`);
  }
}
