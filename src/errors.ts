/**
 * Exit codes are part of the contract (docs/CONTRACT.md): scripts branch on them.
 */
export const ExitCode = {
  ok: 0,
  failed: 1, // ran, but a check failed or something was refused for safety
  usage: 2, // bad flag, bad value, bad configuration
  unreachable: 3, // cannot reach the database, or a prerequisite is missing
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * An error meant for the operator: one sentence saying what is wrong, one saying how to fix it.
 */
export class SarkError extends Error {
  constructor(
    message: string,
    readonly fix: string,
    readonly exitCode: ExitCode,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'SarkError';
  }
}

export const usageError = (message: string, fix: string) => new SarkError(message, fix, ExitCode.usage);
export const refused = (message: string, fix: string, details?: Record<string, unknown>) =>
  new SarkError(message, fix, ExitCode.failed, details);
export const prerequisiteMissing = (message: string, fix: string) =>
  new SarkError(message, fix, ExitCode.unreachable);

/** PostgreSQL error fields as postgres.js and pg expose them. */
export interface PgErrorLike {
  code?: string;
  message: string;
  detail?: string;
  hint?: string;
  /** PL/pgSQL call stack (postgres.js: where) */
  where?: string;
  /** the statement sent (postgres.js attaches it to the error, not enumerable) */
  query?: string;
}

/**
 * What the server was running when it failed, on one line: the statement sent, then its PL/pgSQL
 * context (the outermost call, and the innermost statement when they differ).
 */
export function failedStatement(e: PgErrorLike): string | undefined {
  const line = (t: string) => {
    const x = t.replace(/\s+/g, ' ').trim();
    return x.length > 160 ? `${x.slice(0, 157)}...` : x;
  };
  const stack = e.where?.split('\n').filter(Boolean) ?? [];
  const parts = [e.query, stack.at(-1), stack.length > 1 ? stack[0] : undefined].filter((x): x is string => !!x).map(line);
  return parts.length > 0 ? parts.join(' → ') : undefined;
}

export function isPgError(e: unknown, code?: string): e is PgErrorLike {
  if (typeof e !== 'object' || e === null || !('code' in e)) return false;
  const c = (e as { code?: unknown }).code;
  return typeof c === 'string' && (code === undefined || c === code);
}

export const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'CONNECT_TIMEOUT', 'EAI_AGAIN', 'ENOENT']);

/**
 * Turns whatever was thrown into a SarkError so the top level prints one clear sentence and the
 * right exit code. `where` is the redacted connection string.
 */
export function toSarkError(thrown: unknown, where: string): SarkError {
  const e = rootCause(thrown);
  if (e instanceof SarkError) return e;
  if (isPgError(e)) {
    const code = e.code!;
    if (CONNECTION_CODES.has(code)) {
      return prerequisiteMissing(
        `Cannot reach the database at ${where} (${code}).`,
        'Check that PostgreSQL is running and that DATABASE_URL, --database-url or PGHOST/PGPORT point at it.',
      );
    }
    if (code === '28P01' || code === '28000') {
      return prerequisiteMissing(
        `The database at ${where} refused the login: ${e.message}.`,
        'Check the user and password (DATABASE_URL, PGUSER/PGPASSWORD or ~/.pgpass) and pg_hba.conf.',
      );
    }
    if (code === '3D000') {
      return prerequisiteMissing(`${capitalize(e.message)} (${where}).`, 'Create the database or fix the database name in the connection settings.');
    }
    if (code === '42501') {
      return prerequisiteMissing(
        `The role lacks a privilege this step needs: ${e.message}.`,
        'Run as the schema owner or grant the privilege; `sark-migrate preflight` lists what each phase needs.',
      );
    }
    if (code === '55P03') {
      const during = failedStatement(e);
      return new SarkError(
        `Gave up waiting for a lock: ${e.message}${during ? ` (in: ${during})` : ''}.`,
        'A long transaction holds the table; find it in pg_stat_activity (`sark-migrate preflight` lists them), end it, and re-run.',
        ExitCode.failed,
      );
    }
    const extra = [e.detail, e.hint].filter(Boolean).join(' ');
    return new SarkError(
      `PostgreSQL error ${code}: ${e.message}${extra ? ` (${extra})` : ''}.`,
      'The state is left re-runnable: fix the cause and run the same command again.',
      ExitCode.failed,
    );
  }
  const message = e instanceof Error ? e.message : String(e);
  return new SarkError(`Unexpected failure: ${message}.`, 'Re-run with SARK_DEBUG=1 for a stack trace and report it.', ExitCode.failed);
}

/** node-pg-migrate wraps errors; the PostgreSQL error is the innermost cause. */
export function rootCause(e: unknown): unknown {
  let current = e;
  while (current && typeof current === 'object' && !isPgError(current) && 'cause' in current && (current as { cause: unknown }).cause) {
    current = (current as { cause: unknown }).cause;
  }
  return current;
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
