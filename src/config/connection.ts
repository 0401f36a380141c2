/**
 * Connection settings, resolved once the way libpq (and so psql) resolves them, then handed to both
 * drivers: postgres.js for the tool's own queries and `pg` for node-pg-migrate. Nothing else in the
 * code base reads DATABASE_URL or PG* variables.
 *
 * Precedence: --database-url, then DATABASE_URL, then PG* variables, then libpq defaults; a password
 * missing from all of them is looked up in PGPASSFILE or ~/.pgpass.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { usageError } from '../errors.ts';

export const APPLICATION_NAME = 'sark-migrate';

const SslMode = z.enum(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']);
export type SslMode = z.infer<typeof SslMode>;

export const ConnectionSettings = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  user: z.string().min(1),
  password: z.string().optional(),
  database: z.string().min(1),
  sslmode: SslMode,
  sslrootcert: z.string().optional(),
  applicationName: z.string().min(1),
  connectTimeoutSeconds: z.number().int().positive(),
});
export type ConnectionSettings = z.infer<typeof ConnectionSettings>;

type Env = Record<string, string | undefined>;

export function resolveConnection(url: string | undefined, env: Env = process.env): ConnectionSettings {
  const source = url ?? nonEmpty(env.DATABASE_URL);
  const fromUrl = source ? parseUrl(source) : {};
  const pick = (key: keyof UrlParts, envName: string) => fromUrl[key] ?? nonEmpty(env[envName]);
  const user = pick('user', 'PGUSER') ?? safeUsername();
  const settings = {
    host: pick('host', 'PGHOST') ?? 'localhost',
    port: Number(pick('port', 'PGPORT') ?? 5432),
    user,
    password: pick('password', 'PGPASSWORD'),
    database: pick('database', 'PGDATABASE') ?? user,
    sslmode: pick('sslmode', 'PGSSLMODE') ?? 'prefer',
    sslrootcert: pick('sslrootcert', 'PGSSLROOTCERT'),
    applicationName: pick('applicationName', 'PGAPPNAME') ?? APPLICATION_NAME,
    connectTimeoutSeconds: Number(pick('connectTimeout', 'PGCONNECT_TIMEOUT') ?? 10),
  };
  const parsed = ConnectionSettings.safeParse(settings);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw usageError(
      `The connection setting "${issue.path.join('.')}" is invalid: ${issue.message}.`,
      'Fix DATABASE_URL / --database-url or the PG* variables (libpq syntax: postgresql://user@host:port/db?sslmode=require).',
    );
  }
  const resolved = parsed.data;
  if (resolved.password === undefined) {
    resolved.password = passwordFromPgpass(resolved, env);
  }
  return resolved;
}

/** The connection as it may be printed: never with a password. */
export function redact(c: ConnectionSettings): string {
  const auth = c.password !== undefined ? `${encodeURIComponent(c.user)}:***` : encodeURIComponent(c.user);
  const host = c.host.startsWith('/') ? `[${c.host}]` : c.host;
  return `postgresql://${auth}@${host}:${c.port}/${encodeURIComponent(c.database)}`;
}

/** A libpq URL for child processes (pg_dump, psql, pg_prove); the password travels in PGPASSWORD instead. */
export function libpqEnv(c: ConnectionSettings): Record<string, string> {
  const env: Record<string, string> = {
    PGHOST: c.host,
    PGPORT: String(c.port),
    PGUSER: c.user,
    PGDATABASE: c.database,
    PGSSLMODE: c.sslmode,
    PGAPPNAME: c.applicationName,
    PGCONNECT_TIMEOUT: String(c.connectTimeoutSeconds),
  };
  if (c.password !== undefined) env.PGPASSWORD = c.password;
  if (c.sslrootcert !== undefined) env.PGSSLROOTCERT = c.sslrootcert;
  return env;
}

/** The same settings pointed at another database of the same server. */
export function withDatabase(c: ConnectionSettings, database: string): ConnectionSettings {
  return { ...c, database };
}

/** A URL with the password in it, for in-process use only (never printed). */
export function toUrl(c: ConnectionSettings): string {
  const auth = encodeURIComponent(c.user) + (c.password !== undefined ? `:${encodeURIComponent(c.password)}` : '');
  const params = new URLSearchParams({ sslmode: c.sslmode, application_name: c.applicationName });
  if (c.host.startsWith('/')) params.set('host', c.host);
  const host = c.host.startsWith('/') ? 'localhost' : c.host;
  return `postgresql://${auth}@${host}:${c.port}/${encodeURIComponent(c.database)}?${params}`;
}

interface UrlParts {
  host?: string;
  port?: string;
  user?: string;
  password?: string;
  database?: string;
  sslmode?: string;
  sslrootcert?: string;
  applicationName?: string;
  connectTimeout?: string;
}

function parseUrl(raw: string): UrlParts {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw usageError('The database URL is not a valid libpq URL.', 'Use the form postgresql://user:password@host:port/database?sslmode=prefer.');
  }
  if (u.protocol !== 'postgresql:' && u.protocol !== 'postgres:') {
    throw usageError(`The database URL scheme "${u.protocol}" is not PostgreSQL.`, 'Start the URL with postgresql:// (or postgres://).');
  }
  const q = u.searchParams;
  return {
    host: nonEmpty(q.get('host') ?? decodeURIComponent(u.hostname).replace(/^\[(.*)\]$/, '$1')),
    port: nonEmpty(q.get('port') ?? u.port),
    user: nonEmpty(q.get('user') ?? decodeURIComponent(u.username)),
    password: q.get('password') ?? (u.password ? decodeURIComponent(u.password) : undefined),
    database: nonEmpty(q.get('dbname') ?? decodeURIComponent(u.pathname.replace(/^\//, ''))),
    sslmode: nonEmpty(q.get('sslmode')),
    sslrootcert: nonEmpty(q.get('sslrootcert')),
    applicationName: nonEmpty(q.get('application_name')),
    connectTimeout: nonEmpty(q.get('connect_timeout')),
  };
}

/**
 * ~/.pgpass lookup with libpq's rules: first matching line wins, `*` matches anything, `\` escapes
 * `:` and `\`, and the file is ignored when group/world can read it.
 */
function passwordFromPgpass(c: ConnectionSettings, env: Env): string | undefined {
  const file = nonEmpty(env.PGPASSFILE) ?? join(homedir(), '.pgpass');
  if (!existsSync(file)) return undefined;
  if ((statSync(file).mode & 0o077) !== 0) return undefined;
  const host = c.host.startsWith('/') ? 'localhost' : c.host;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const fields = splitPgpassLine(line);
    if (fields.length < 5) continue;
    const [h, p, d, u, pw] = fields as [string, string, string, string, string];
    const match = (pattern: string, value: string) => pattern === '*' || pattern === value;
    if (match(h, host) && match(p, String(c.port)) && match(d, c.database) && match(u, c.user)) return pw;
  }
  return undefined;
}

function splitPgpassLine(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '\\' && i + 1 < line.length) current += line[++i];
    else if (ch === ':' && fields.length < 4) {
      fields.push(current);
      current = '';
    } else current += ch;
  }
  fields.push(current);
  return fields;
}

function nonEmpty(v: string | null | undefined): string | undefined {
  return v === null || v === undefined || v === '' ? undefined : v;
}

function safeUsername(): string {
  try {
    return userInfo().username;
  } catch {
    return 'postgres';
  }
}
