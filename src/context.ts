/**
 * What every command that talks to a database is handed: resolved connection settings, a postgres.js
 * pool configured with the operator's timeouts, and the redacted address for messages.
 */
import { z } from 'zod';
import { redact, resolveConnection, type ConnectionSettings } from './config/connection.ts';
import { checkReachable, openSql, type SessionSettings, type Sql } from './db/connect.ts';

/** Options every command accepts (validated once, here). */
export const GlobalOptions = z.object({
  databaseUrl: z.string().optional(),
  json: z.boolean().default(false),
  /** How long any single statement may wait for a lock before giving up and retrying. */
  lockTimeout: z.string().regex(/^\d+(ms|s|min)?$/, 'use a PostgreSQL duration such as 2s or 500ms').default('500ms'),
  /** Upper bound for long-running work ('0' = none), as PostgreSQL's statement_timeout. */
  statementTimeout: z.string().regex(/^\d+(ms|s|min|h)?$/, 'use a PostgreSQL duration such as 30min or 0').default('0'),
  allowDrift: z.boolean().default(false),
});
export type GlobalOptions = z.infer<typeof GlobalOptions>;

export interface Context {
  conn: ConnectionSettings;
  sql: Sql;
  /** postgresql://user:***@host:port/db */
  where: string;
  server: { serverVersion: string; serverVersionNum: number };
  options: GlobalOptions;
  close(): Promise<void>;
}

/** The operator's timeouts, applied to every session the tool opens for a command. */
const sessionSettings = (options: GlobalOptions) => ({ statement_timeout: options.statementTimeout, lock_timeout: options.lockTimeout });

/**
 * What makes the server notice that the tool is gone. A client killed mid-statement closes its
 * socket, but PostgreSQL only looks at the socket between statements: a long statement would run
 * on, holding its locks. From PostgreSQL 14 the backend checks the socket every few seconds while
 * it works (client_connection_check_interval) and stops. PostgreSQL 13 has no such check: there
 * the bound is each statement's own length (the copy's batches run under a cap of well under a
 * second, see src/data/batches.ts). Only sent to servers that know the setting (an unknown one in
 * the startup packet is fatal).
 */
export const livenessSettings = (serverVersionNum: number): SessionSettings =>
  serverVersionNum >= 140000 ? { client_connection_check_interval: '2s' } : {};

export async function openContext(options: GlobalOptions, conn?: ConnectionSettings): Promise<Context> {
  const settings = conn ?? resolveConnection(options.databaseUrl);
  let sql = openSql(settings, sessionSettings(options));
  let server;
  try {
    server = await checkReachable(sql, settings);
  } catch (e) {
    await sql.end({ timeout: 1 });
    throw e;
  }
  const liveness = livenessSettings(server.serverVersionNum);
  if (Object.keys(liveness).length > 0) {
    // The pool's first session did not carry them: start again with every session carrying them.
    await sql.end({ timeout: 5 });
    sql = openSql(settings, { ...sessionSettings(options), ...liveness });
  }
  const pool = sql;
  return {
    conn: settings,
    sql: pool,
    where: redact(settings),
    server,
    options,
    close: () => pool.end({ timeout: 5 }),
  };
}

/**
 * A pool of its own on the context's server, e.g. for work that runs that many statements at once
 * (the copy's lanes) or a maintenance session: the operator's timeouts and the liveness check,
 * with `overrides` on top. Close it when done.
 */
export function openSession(ctx: Context, overrides: SessionSettings = {}, connections = 1): Sql {
  return openSql(ctx.conn, { ...sessionSettings(ctx.options), ...livenessSettings(ctx.server.serverVersionNum), ...overrides }, connections);
}

/** A context whose pool holds `connections` sessions (one per lane of the copy), settings as openSession. */
export function withPoolOf(ctx: Context, connections: number, overrides: SessionSettings = {}): Context {
  const sql = openSession(ctx, overrides, connections);
  return { ...ctx, sql, close: () => sql.end({ timeout: 5 }) };
}

/** Runs fn with a context that is always closed afterwards. */
export async function withContext<T>(options: GlobalOptions, fn: (ctx: Context) => Promise<T>, conn?: ConnectionSettings): Promise<T> {
  const ctx = await openContext(options, conn);
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}
