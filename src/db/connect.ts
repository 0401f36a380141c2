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
import { CONNECTION_CODES, isPgError, prerequisiteMissing, SarkError, toSarkError } from '../errors.ts';
import { probe, type ProbeAnswer } from './probe.ts';
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

/**
 * Fails fast with a clear error when the server cannot be reached; returns its version. As libpq's
 * connect_timeout, the bound covers the whole start-up (TCP, TLS, login, first answer): a peer
 * that never completes it is given up on, not waited for.
 */
export async function checkReachable(sql: Sql, c: ConnectionSettings): Promise<{ serverVersion: string; serverVersionNum: number }> {
  const timeoutMs = c.connectTimeoutSeconds * 1000;
  let timer: NodeJS.Timeout | undefined;
  let early: NodeJS.Timeout | undefined;
  const settled = new AbortController();
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConnectDeadline()), timeoutMs);
  });
  // A PostgreSQL server answers the handshake in milliseconds. Still waiting after a second: ask
  // the peer what it is; something else (an HTTP service, ...) is reported as soon as it answers
  // instead of after connect_timeout (the driver never gives up on a peer that answers garbage).
  // The probe waits for its answer until the deadline: a busy service can take more than a second
  // (seen in CI on a loaded machine, which then failed at the 12 s deadline).
  const askAfterMs = Math.min(1000, timeoutMs / 2);
  const notPostgres = new Promise<never>((_, reject) => {
    early = setTimeout(() => {
      void probe(c, timeoutMs - askAfterMs, settled.signal).then((answer) => {
        if (answer.kind === 'other') reject(new NotPostgres(answer));
      });
    }, askAfterMs);
  });
  try {
    const [row] = await Promise.race([
      sql<{ server_version: string; num: number }[]>`
        select current_setting('server_version') as server_version,
               current_setting('server_version_num')::int as num`,
      deadline,
      notPostgres,
    ]);
    return { serverVersion: row!.server_version, serverVersionNum: row!.num };
  } catch (e) {
    if (e instanceof NotPostgres) throw explain(c, e.answer, e);
    if (e instanceof ConnectDeadline || (isPgError(e) && CONNECTION_CODES.has(e.code!))) throw await diagnose(c, e, timeoutMs);
    throw toSarkError(e, redact(c));
  } finally {
    clearTimeout(timer);
    clearTimeout(early);
    settled.abort();
  }
}

class ConnectDeadline extends Error {}

class NotPostgres extends Error {
  constructor(readonly answer: ProbeAnswer) {
    super('not PostgreSQL');
  }
}

/** The failure as the peer explains it (src/db/probe.ts), in one sentence with its fix. */
async function diagnose(c: ConnectionSettings, original: unknown, timeoutMs: number): Promise<SarkError> {
  // Short: it only asks whether anything answers at all; a PostgreSQL server answers at once.
  return explain(c, await probe(c, Math.min(timeoutMs, 1000)), original);
}

/** What the peer's answer to the handshake means, in one sentence with its fix. */
function explain(c: ConnectionSettings, answer: ProbeAnswer, original: unknown): SarkError {
  const where = redact(c);
  const seconds = c.connectTimeoutSeconds;
  switch (answer.kind) {
    case 'other':
      return prerequisiteMissing(
        `Something other than PostgreSQL answers at ${where}: it replied "${answer.sent}" to the PostgreSQL handshake.`,
        'Check the host and port in DATABASE_URL, --database-url or PGHOST/PGPORT: they name another service (PostgreSQL listens on 5432 unless configured otherwise).',
      );
    case 'silent':
      return prerequisiteMissing(
        `Nothing answered the PostgreSQL handshake at ${where} within ${seconds} s: the port is open, but what listens there is not PostgreSQL, or is stuck.`,
        'Check the host and port in DATABASE_URL, --database-url or PGHOST/PGPORT; connect_timeout (in the URL, or PGCONNECT_TIMEOUT) sets how long to wait.',
      );
    case 'closed':
      return prerequisiteMissing(
        `The peer at ${where} hung up on the PostgreSQL handshake: it is not a PostgreSQL server, or a proxy in front of it refused this client.`,
        'Check the host and port in DATABASE_URL, --database-url or PGHOST/PGPORT, and any proxy or pooler in between.',
      );
    case 'postgres':
      if (!answer.ssl && ['require', 'verify-ca', 'verify-full'].includes(c.sslmode)) {
        return prerequisiteMissing(
          `The server at ${where} does not support SSL, but sslmode=${c.sslmode} requires it.`,
          'Enable TLS on the server (ssl = on, with a certificate, in postgresql.conf), or, on a network you trust, connect with sslmode=prefer or sslmode=disable.',
        );
      }
      if (original instanceof ConnectDeadline) {
        return prerequisiteMissing(
          `PostgreSQL at ${where} did not complete the login within ${seconds} s.`,
          'The server may be overloaded or waiting on an authentication service; raise connect_timeout (in the URL, or PGCONNECT_TIMEOUT) or check the server log.',
        );
      }
      return toSarkError(original, where);
    case 'unreachable':
      return toSarkError(original instanceof ConnectDeadline ? { code: answer.code, message: answer.code } : original, where);
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
