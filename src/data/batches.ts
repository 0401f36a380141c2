/**
 * How big a copy batch is, and what happens when one fails. A batch is one transaction holding
 * row locks: on v1 (FOR SHARE, while the forward sync is on, so no application write can fall
 * between the sync and the copy) and on the v2 rows it writes. An application write to one of
 * those rows waits until the batch commits, so the time a batch takes is the longest the
 * migration makes the application wait. The copy therefore sizes its batches by time, not rows:
 *
 *   - each lane starts small and, after every batch, aims its next one at the target time
 *     (--batch-time, default 50 ms) from the rate it measured, changing at most 2x per step;
 *   - every batch runs under a hard cap (statement_timeout = 10x the target, at least 250 ms):
 *     a batch that outruns it (a checkpoint, a slow disk) is cancelled, which releases its locks
 *     at once, and retried at a quarter of the size;
 *   - a batch that finds an application transaction holding one of its v1 rows (NOWAIT: 55P03)
 *     or waits on a v2 lock past lock_timeout releases everything and is retried after a short
 *     backoff; it never waits while holding locks, so it cannot deadlock with the application.
 *
 * --offline (the application is stopped) drops all of this: each lane is one statement.
 */
import { durationMs } from '../config/duration.ts';
import { isPgError, refused } from '../errors.ts';
import { log } from '../output.ts';

export const DEFAULT_BATCH_TIME_MS = 50;
/** Rows in the first batch of a lane, before anything is measured. */
const FIRST_BATCH_ROWS = 200;
/** Upper bound whatever the rate (the batch's ids travel as one array). */
export const MAX_BATCH_ROWS = 20_000;

export interface BatchPolicy {
  /** what each batch aims to take */
  targetMs: number;
  /** at most this many rows per batch (--batch-size) */
  maxRows: number;
}

/** --batch-time, in ms. */
export const BatchTime = durationMs({ min: 5, max: 60_000 }).default(DEFAULT_BATCH_TIME_MS);

/** The hard cap a batch runs under: its statement_timeout. */
export const batchCapMs = (targetMs: number) => Math.max(250, 10 * targetMs);

export class BatchSizer {
  private size: number;
  constructor(private readonly policy: BatchPolicy) {
    this.size = Math.max(1, Math.min(FIRST_BATCH_ROWS, policy.maxRows));
  }

  get rows(): number {
    return this.size;
  }

  /** A batch of `rows` rows took `ms`: aim the next at the target time. */
  observe(rows: number, ms: number): void {
    if (rows < this.size / 2 || ms <= 0) return; // the lane's short last batch says little
    const ideal = (rows / ms) * this.policy.targetMs;
    this.size = Math.round(Math.min(this.policy.maxRows, MAX_BATCH_ROWS, 2 * this.size, Math.max(this.size / 2, ideal, 1)));
  }

  /** The batch outran its cap and was cancelled. */
  shrink(): void {
    this.size = Math.max(1, Math.floor(this.size / 4));
  }
}

/**
 * A batch whose answer came back without its result row. The batch function reads its lane's
 * progress from the table, so running it again is safe whether the lost batch committed or not.
 * (Seen once, at 82 % of a 10,000,000-tool copy, right after the lane's statement timeout.)
 */
export class IncompleteBatchAnswer extends Error {}

/** A lock another transaction holds (NOWAIT, lock_timeout) or a deadlock: retry after a backoff. */
const isLockConflict = (e: unknown) => isPgError(e, '55P03') || isPgError(e, '40P01');
/** statement_timeout fired (57014 is also a cancel request: only the timeout is ours to retry). */
const isTimeout = (e: unknown) => isPgError(e, '57014') && /statement timeout/i.test((e as Error).message);

const LOCK_ATTEMPTS = 60;
const INCOMPLETE_ATTEMPTS = 5;

/**
 * Runs one batch of `sizer.rows` rows with `attempt`, retrying lock conflicts with backoff and
 * timeouts at a smaller size, and feeds the measured time back to the sizer.
 */
export async function runBatch<T>(what: string, sizer: BatchSizer, attempt: (rows: number) => Promise<T>, rowsOf: (r: T) => number): Promise<T> {
  for (let conflicts = 0, singleRowTimeouts = 0, incomplete = 0; ; ) {
    const rows = sizer.rows;
    const started = performance.now();
    try {
      const result = await attempt(rows);
      sizer.observe(rowsOf(result), performance.now() - started);
      return result;
    } catch (e) {
      if (isTimeout(e) && rows > 1) {
        sizer.shrink();
        log.debug(`${what}: a batch of ${rows} rows outran its time cap; retrying with ${sizer.rows}`);
        continue;
      }
      if (isTimeout(e) && ++singleRowTimeouts < 5) continue;
      if (isTimeout(e)) {
        throw refused(
          `${what}: a batch of one row outran its time cap five times in a row, so the copy stopped rather than hold the application's rows longer (it resumes where it stopped).`,
          'Look for what slows the server (sark-migrate preflight lists long transactions; pg_stat_activity shows waits), or allow longer batches with --batch-time.',
        );
      }
      if (e instanceof IncompleteBatchAnswer) {
        if (++incomplete >= INCOMPLETE_ATTEMPTS) {
          throw refused(
            `${what}: ${INCOMPLETE_ATTEMPTS} batches in a row came back without their result row (${e.message}), so the copy stopped; every batch before them is committed.`,
            'Re-run `sark-migrate data --execute`: it resumes where each lane stopped. If it happens again, run with SARK_DEBUG=1 and look at the server log for that session.',
          );
        }
        log.warn(`${what}: ${e.message}; running the batch again (it resumes from the lane's recorded progress)`);
        continue;
      }
      if (!isLockConflict(e) || ++conflicts >= LOCK_ATTEMPTS) throw e;
      const ceiling = Math.min(1000, 20 * 2 ** Math.min(conflicts - 1, 6));
      const wait = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
      log.debug(`${what}: ${(e as Error).message} (attempt ${conflicts}/${LOCK_ATTEMPTS}); retrying in ${wait} ms`);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
