/**
 * Per-test-file databases on the run's throwaway server, cloned from a template.
 */
import { randomBytes } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { inject } from 'vitest';
import { libpqEnv, toUrl, type ConnectionSettings } from '../../src/config/connection.ts';
import { GlobalOptions, openContext, type Context } from '../../src/context.ts';
import { openSql, type Sql } from '../../src/db/connect.ts';
import { PROJECT_ROOT } from '../../src/db/sqlFiles.ts';
import { quoteIdent } from '../../src/db/throwaway.ts';
import { output } from '../../src/output.ts';
import { clientBinary } from './pgTools.ts';

output.quiet = true;

export interface TestDatabase {
  conn: ConnectionSettings;
  url: string;
  sql: Sql;
  /** A tool context on this database, as a command would get it. */
  context(options?: Partial<GlobalOptions>): Promise<Context>;
  drop(): Promise<void>;
}

export async function freshDatabase(template: 'empty' | 'v1' = 'v1'): Promise<TestDatabase> {
  const admin = inject('pgAdmin');
  const name = `t_${randomBytes(5).toString('hex')}`;
  const adminSql = openSql(admin, {}, 1);
  try {
    await adminSql.unsafe(`create database ${quoteIdent(name)} template ${quoteIdent(`${inject('templatePrefix')}_${template}`)}`);
  } finally {
    await adminSql.end({ timeout: 5 });
  }
  const conn = { ...admin, database: name };
  const sql = openSql(conn, {}, 4);
  const contexts: Context[] = [];
  return {
    conn,
    url: toUrl(conn),
    sql,
    async context(options = {}) {
      const ctx = await openContext(GlobalOptions.parse(options), conn);
      contexts.push(ctx);
      return ctx;
    },
    async drop() {
      await Promise.all(contexts.map((c) => c.close()));
      await sql.end({ timeout: 5 });
      const a = openSql(admin, {}, 1);
      try {
        await a.unsafe(`drop database if exists ${quoteIdent(name)} with (force)`);
      } finally {
        await a.end({ timeout: 5 });
      }
    },
  };
}

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
  json<T = any>(): T;
}

/** Runs the real CLI in a child process, as an operator or a script would. */
export function runCli(args: string[], env: Record<string, string | undefined> = {}): CliResult {
  const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'sark-migrate.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', CI: '1', ...env },
    cwd: PROJECT_ROOT,
    timeout: 120_000,
  });
  return {
    status: r.status ?? -1,
    stdout: r.stdout,
    stderr: r.stderr,
    json: () => JSON.parse(r.stdout),
  };
}

/** The same, without blocking this process (for tests that serve something to the CLI). */
export function runCliAsync(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult & { seconds: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin', 'sark-migrate.js'), ...args], {
      env: { ...process.env, NO_COLOR: '1', CI: '1', ...env },
      cwd: PROJECT_ROOT,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, stdout, stderr, json: () => JSON.parse(stdout), seconds: (performance.now() - started) / 1000 });
    });
  });
}

/** Runs a SQL file with psql as a DBA would (ON_ERROR_STOP, no psqlrc). */
export function psqlFile(conn: ConnectionSettings, file: string, vars: Record<string, string> = {}) {
  const r = spawnSync(clientBinary('psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', ...Object.entries(vars).flatMap(([k, v]) => ['-v', `${k}=${v}`]), '-f', file], {
    encoding: 'utf8',
    env: { ...process.env, ...libpqEnv(conn) },
  });
  if (r.status !== 0) throw new Error(`psql -f ${file} failed: ${r.stderr}`);
  return r.stdout;
}
