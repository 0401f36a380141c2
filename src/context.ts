/**
 * What every command that talks to a database is handed: resolved connection settings, a postgres.js
 * pool configured with the operator's timeouts, and the redacted address for messages.
 */
import { z } from 'zod';
import { redact, resolveConnection, type ConnectionSettings } from './config/connection.ts';
import { checkReachable, openSql, type Sql } from './db/connect.ts';

/** Options every command accepts (validated once, here). */
export const GlobalOptions = z.object({
  databaseUrl: z.string().optional(),
  json: z.boolean().default(false),
  /** How long any single statement may wait for a lock before giving up and retrying. */
  lockTimeout: z.string().regex(/^\d+(ms|s|min)?$/, 'use a PostgreSQL duration such as 2s or 500ms').default('2s'),
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

export async function openContext(options: GlobalOptions, conn?: ConnectionSettings): Promise<Context> {
  const settings = conn ?? resolveConnection(options.databaseUrl);
  const sql = openSql(settings, sessionSettings(options));
  let server;
  try {
    server = await checkReachable(sql, settings);
  } catch (e) {
    await sql.end({ timeout: 1 });
    throw e;
  }
  return {
    conn: settings,
    sql,
    where: redact(settings),
    server,
    options,
    close: () => sql.end({ timeout: 5 }),
  };
}

/**
 * A context whose pool holds `connections` sessions, for work that runs that many statements at
 * once (the copy's lanes); same server, same session settings. Close it when done.
 */
export function withPoolOf(ctx: Context, connections: number): Context {
  const sql = openSql(ctx.conn, sessionSettings(ctx.options), connections);
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
