/**
 * pg_dump and pg_restore: which binaries, and how they are run. A binary is chosen to match the
 * server's major version (pg_dump refuses a newer server, and an older pg_restore cannot read a
 * newer archive). PG_CLIENT_BINDIR, when set, is the operator's explicit choice and the only place
 * looked at; PG_BINDIR is tried first otherwise (it may hold only server binaries, as the
 * npm-packaged PostgreSQL builds do, so the usual places are searched after it).
 * Children get the tool's connection settings as libpq variables: the password travels in
 * PGPASSWORD, never on a command line.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { libpqEnv, type ConnectionSettings } from '../config/connection.ts';
import { findBindir } from '../db/throwaway.ts';
import { prerequisiteMissing } from '../errors.ts';

export interface PgTool {
  path: string;
  /** e.g. "pg_dump (PostgreSQL) 15.18" */
  version: string;
  major: number;
}

export function toolVersion(path: string): PgTool | undefined {
  const r = spawnSync(path, ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.\d+)?/.exec(r.stdout);
  return m ? { path, version: r.stdout.trim(), major: Number(m[1]) } : undefined;
}

function candidateDirs(serverMajor: number): string[] {
  if (process.env.PG_CLIENT_BINDIR) return [process.env.PG_CLIENT_BINDIR];
  const dirs = process.env.PG_BINDIR ? [process.env.PG_BINDIR] : [];
  dirs.push(join('/usr/lib/postgresql', String(serverMajor), 'bin'));
  const found = findBindir();
  if (found) dirs.push(found);
  const pgConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (pgConfig.status === 0) dirs.push(pgConfig.stdout.trim());
  if (existsSync('/usr/lib/postgresql')) {
    for (const v of readdirSync('/usr/lib/postgresql').filter((d) => /^\d+$/.test(d))) dirs.push(join('/usr/lib/postgresql', v, 'bin'));
  }
  dirs.push(...(process.env.PATH ?? '').split(delimiter).filter(Boolean));
  return [...new Set(dirs)];
}

/**
 * The binary `name` to use against a server of major `serverMajor`, needing at least `minMajor`:
 * the same major as the server if there is one, else the oldest that is new enough.
 */
export function findPgTool(name: 'pg_dump' | 'pg_restore', serverMajor: number, minMajor = serverMajor): PgTool {
  const tools = candidateDirs(serverMajor)
    .map((d) => join(d, name))
    .filter((p) => existsSync(p))
    .map(toolVersion)
    .filter((t): t is PgTool => t !== undefined);
  const usable = tools.filter((t) => t.major >= minMajor);
  const chosen = usable.find((t) => t.major === serverMajor) ?? usable.sort((a, b) => a.major - b.major)[0];
  if (chosen) return chosen;
  const where = process.env.PG_CLIENT_BINDIR
    ? `PG_CLIENT_BINDIR (${process.env.PG_CLIENT_BINDIR})`
    : `${process.env.PG_BINDIR ? `PG_BINDIR (${process.env.PG_BINDIR}), ` : ''}/usr/lib/postgresql/*/bin, pg_config --bindir and PATH`;
  if (tools.length === 0) {
    throw prerequisiteMissing(`No ${name} was found in ${where}.`, `Install the PostgreSQL ${serverMajor} client tools (apt-get install postgresql-client-${serverMajor}) or set PG_CLIENT_BINDIR to their directory.`);
  }
  const newest = tools.sort((a, b) => b.major - a.major)[0]!;
  throw prerequisiteMissing(
    `${name} ${newest.major} (${newest.path}) is older than required (${minMajor}${minMajor === serverMajor ? ', the server\'s major version' : ''}); it would refuse or produce an unusable archive.`,
    `Install the PostgreSQL ${minMajor} client tools (apt-get install postgresql-client-${minMajor}) or set PG_CLIENT_BINDIR to a bin directory of version ${minMajor} or newer.`,
  );
}

/** Variables that would point libpq somewhere other than the tool's connection settings. */
const TARGET_VARS = /^PG(HOST|HOSTADDR|PORT|USER|PASSWORD|DATABASE|SERVICE|SERVICEFILE|SSLMODE|SSLROOTCERT|APPNAME|CONNECT_TIMEOUT|OPTIONS)$/;

export function childEnv(conn: ConnectionSettings, session: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!TARGET_VARS.test(k)) env[k] = v;
  Object.assign(env, libpqEnv(conn));
  const options = Object.entries(session).map(([k, v]) => `-c ${k}=${v.replace(/([\\ ])/g, '\\$1')}`);
  if (options.length) env.PGOPTIONS = options.join(' ');
  return env;
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a client program to completion (asynchronously: the event loop, and so open sessions, stay alive). */
export function runTool(tool: PgTool, args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool.path, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.once('error', reject);
    child.once('close', (code, signal) =>
      resolve({ status: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
  });
}

/** The first error line of a client program's stderr, for a one-sentence message. */
export function firstError(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const error = lines.find((l) => /error:|ERROR:|FATAL:/.test(l)) ?? lines[0] ?? 'no output';
  return error.replace(/^(pg_dump|pg_restore): (error: )?/, '');
}
