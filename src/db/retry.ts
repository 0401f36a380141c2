/**
 * Lock safety: DDL runs with a short lock_timeout so it never queues behind a long transaction
 * (and so never makes the application's queries queue behind it). When the timeout fires
 * (SQLSTATE 55P03) or a deadlock is detected (40P01), the step is retried with exponential backoff
 * and jitter. The retried function must compute its own plan each time: part of it may have
 * committed before the failure.
 */
import { isPgError } from '../errors.ts';
import { log } from '../output.ts';

const RETRYABLE = new Set(['55P03', '40P01']);

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 12, baseMs: 250, maxMs: 8000 };

export async function withLockRetry<T>(what: string, fn: (attempt: number) => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      const cause = rootCause(e);
      if (!isPgError(cause) || !RETRYABLE.has(cause.code!) || attempt >= policy.attempts) throw cause;
      const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
      const wait = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
      log.warn(`${what}: ${cause.code === '55P03' ? 'lock not available' : 'deadlock'} (attempt ${attempt}/${policy.attempts}); retrying in ${wait} ms`);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** node-pg-migrate wraps errors; the PostgreSQL error is the innermost cause. */
function rootCause(e: unknown): unknown {
  let current = e;
  while (current && typeof current === 'object' && !isPgError(current) && 'cause' in current && (current as { cause: unknown }).cause) {
    current = (current as { cause: unknown }).cause;
  }
  return current;
}
