/**
 * The two drivers, configured from one ConnectionSettings: postgres.js for the tool's own work and
 * pg (node-postgres) for node-pg-migrate. Both get the same host, credentials, TLS mode and
 * application_name, and both report connection failures as one operator-readable error.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import postgres from 'postgres';
import type { ConnectionSettings } from '../config/connection.ts';
import { redact } from '../config/connection.ts';
import { toSarkError } from '../errors.ts';
import { log } from '../output.ts';

export type Sql = postgres.Sql<Record<string, never>>;

export interface SessionSettings {
  /** Applied to every session the tool opens, e.g. { statement_timeout: '0', lock_timeout: '2s' }. */
  [guc: string]: string;
}

export function openSql(c: ConnectionSettings, session: SessionSettings = {}, max = 4): Sql {
  return postgres({
    host: c.host,
    port: c.port,
    user: c.user,
    pass: c.password,
    database: c.database,
    ssl: postgresJsSsl(c),
    max,
    idle_timeout: 20,
    connect_timeout: c.connectTimeoutSeconds,
    prepare: true,
    connection: { application_name: c.applicationName, ...session },
    onnotice: (n) => log.debug(`server notice: ${n.message}`),
    types: {
      // bigint counts come back as numbers: every count this tool handles fits in 2^53.
      bigint: { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) },
    },
  }) as unknown as Sql;
}

/** Opens a pg client (node-pg-migrate's driver) with the same settings, connected. */
export async function openPgClient(c: ConnectionSettings, session: SessionSettings = {}): Promise<pg.Client> {
  const connect = async (ssl: boolean | object) => {
    const client = new pg.Client({
      host: c.host,
      port: c.port,
      user: c.user,
      password: c.password,
      database: c.database,
      ssl,
      application_name: c.applicationName,
      connectionTimeoutMillis: c.connectTimeoutSeconds * 1000,
      options: sessionOptions(session),
    });
    await client.connect();
    return client;
  };
  try {
    // pg knows no "prefer"/"allow": do what libpq does, TLS first, plain if the server offers none.
    if ((c.sslmode === 'prefer' || c.sslmode === 'allow') && !c.host.startsWith('/')) {
      try {
        return await connect({ rejectUnauthorized: false });
      } catch (e) {
        if (!/does not support SSL/i.test(String((e as Error).message))) throw e;
        return await connect(false);
      }
    }
    return await connect(pgSsl(c));
  } catch (e) {
    throw toSarkError(e, redact(c));
  }
}

/** Fails fast with a clear error when the server cannot be reached; returns its version. */
export async function checkReachable(sql: Sql, c: ConnectionSettings): Promise<{ serverVersion: string; serverVersionNum: number }> {
  try {
    const [row] = await sql<{ server_version: string; num: number }[]>`
      select current_setting('server_version') as server_version,
             current_setting('server_version_num')::int as num`;
    return { serverVersion: row!.server_version, serverVersionNum: row!.num };
  } catch (e) {
    throw toSarkError(e, redact(c));
  }
}

function postgresJsSsl(c: ConnectionSettings): boolean | 'require' | 'allow' | 'prefer' | 'verify-full' | object {
  switch (c.sslmode) {
    case 'disable':
      return false;
    case 'allow':
    case 'prefer':
    case 'require':
      return c.sslmode;
    case 'verify-ca':
    case 'verify-full':
      return { rejectUnauthorized: true, ...(c.sslrootcert ? { ca: readCa(c.sslrootcert) } : {}) };
  }
}

function pgSsl(c: ConnectionSettings): boolean | object {
  switch (c.sslmode) {
    case 'disable':
    case 'allow':
    case 'prefer':
      return false;
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
    case 'verify-full':
      return { rejectUnauthorized: true, ...(c.sslrootcert ? { ca: readCa(c.sslrootcert) } : {}) };
  }
}

function readCa(path: string): string {
  return readFileSync(path, 'utf8');
}

function sessionOptions(session: SessionSettings): string | undefined {
  const parts = Object.entries(session).map(([k, v]) => `-c ${k}=${v.replace(/([\\ ])/g, '\\$1')}`);
  return parts.length ? parts.join(' ') : undefined;
}

/** The single row a query must return. */
export function one<T>(rows: readonly T[]): T {
  if (rows.length === 0) throw new Error('expected one row, got none');
  return rows[0]!;
}
