/**
 * The copy's half of "no write falls between sync and copy" (see sark_migration.lock_copy_batch):
 * while the forward sync is on, each copy batch is one transaction of two statements — lock the
 * batch's v1 rows FOR SHARE NOWAIT, then copy_batch() in a new snapshot — so a batch can never
 * write an older image over one a trigger wrote. Without the sync there is nothing to race with
 * and the copy runs as before (one autocommit statement per batch, no locks, no cost).
 */
import type { Context } from '../context.ts';
import { one, type Sql } from '../db/connect.ts';
import { withLockRetry, type RetryPolicy } from '../db/retry.ts';
import { FORWARD_SYNC_TRIGGER } from '../status/phase.ts';

/** A writer holds a row of the batch for a few milliseconds: retry soon, and for long enough. */
const BATCH_LOCK_RETRY: RetryPolicy = { attempts: 60, baseMs: 20, maxMs: 1000 };

export async function forwardSyncOn(sql: Sql): Promise<boolean> {
  const [row] = await sql<{ on: boolean }[]>`
    select exists (select 1 from pg_trigger where tgname like ${FORWARD_SYNC_TRIGGER + '%'} and not tgisinternal) as on`;
  return row!.on;
}

export async function copyBatchLockingSource<T extends object>(ctx: Context, target: string, run: number, batchSize: number | undefined, lane = 0): Promise<T> {
  return withLockRetry(
    `copy ${target}: locking the batch's v1 rows`,
    () =>
      ctx.sql.begin(async (t) => {
        const tx = t as unknown as Sql;
        await tx`select sark_migration.lock_copy_batch(${target}, ${run}, ${batchSize ?? null}::int, ${lane}::int)`;
        return one(await tx<T[]>`select * from sark_migration.copy_batch(${target}, ${run}, ${batchSize ?? null}::int, ${lane}::int)`) as T;
      }) as Promise<T>,
    BATCH_LOCK_RETRY,
  );
}
