/**
 * `restore --from FILE --confirm`: the runbook's "data corruption detected" procedure. The archive
 * is checked first (its sidecar, size and SHA-256, then pg_restore --list); without --confirm the
 * command stops there and says exactly what would be replaced. With it, under the run lock:
 *
 *   pg_restore --clean --if-exists --single-transaction --exit-on-error [--no-owner]
 *
 * --single-transaction: a restore that fails part-way changes nothing (the drops are rolled back
 * with the rest), so the database is either as it was or exactly the archive. Owners are restored
 * as recorded when this role may set them (the application keeps owning its tables); only when a
 * recorded owner does not exist or is out of reach (another cluster) is --no-owner used, and the
 * result says so. lock_timeout applies (lockWatch.ts): a session still using the tables makes the
 * restore fail fast instead of queueing behind it. Afterwards the row counts and content fingerprints of the
 * SARK tables are compared with those recorded at backup time.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Context } from '../context.ts';
import type { Sql } from '../db/connect.ts';
import { withRunLock } from '../db/lock.ts';
import { refused, usageError } from '../errors.ts';
import { step } from '../output.ts';
import { fingerprints, type Fingerprint, parseToc, readSidecar, setCanonicalOutput, sha256File, sidecarPath, tocTables, type BackupSidecar } from './archive.ts';
import { lingeringLockHolders, watchLockWaits } from './lockWatch.ts';
import { childEnv, findPgTool, firstError, runTool } from './pgtools.ts';

export interface RestorePlan {
  archive: string;
  backup: Pick<BackupSidecar, 'created_at' | 'size_bytes' | 'sha256' | 'schema_version' | 'v1_counts'> & { database: string };
  target: string;
  /** Every table the archive drops and recreates. */
  replaces: string[];
  toc_entries: number;
  /** The SARK tables: rows now and at backup time. */
  tables: { table: string; rows_now: number | null; rows_in_backup: number; same_as_backup: boolean }[];
  /** Tables in the database that are not in the archive: restore leaves them as they are. */
  left_untouched: string[];
  other_sessions: number;
}

export interface RestoreResult extends RestorePlan {
  restored: true;
  ownership: 'as recorded' | 'restoring role';
  duration_seconds: number;
  verification: { table: string; expected_rows: number; actual_rows: number | null; rows_match: boolean; content_match: boolean }[];
  verified: boolean;
}

export async function restore(ctx: Context, o: { from: string; confirm: boolean }): Promise<RestoreResult> {
  const archive = resolve(o.from);
  if (!existsSync(archive) || !statSync(archive).isFile()) throw usageError(`--from ${o.from}: no such file.`, 'Name an archive written by `sark-migrate backup --out FILE`.');
  const sidecar = await readVerifiedSidecar(archive);
  const serverMajor = Math.floor(ctx.server.serverVersionNum / 10000);
  const pgRestore = findPgTool('pg_restore', serverMajor, sidecar.pg_dump.major);
  const env = childEnv(ctx.conn);

  const list = await runTool(pgRestore, ['--list', archive], env);
  const toc = parseToc(list.stdout);
  if (list.status !== 0 || toc.length === 0) throw refused(`pg_restore cannot read ${archive}: ${firstError(list.stderr)}.`, 'Use another backup; this archive is damaged.');
  const replaces = tocTables(toc);
  const plan = await planRestore(ctx, archive, sidecar, replaces, toc.length);

  if (!o.confirm) {
    const tables = plan.tables
      .map((t) => `${t.table} (${t.rows_now === null ? 'absent now' : `now ${t.rows_now} rows`}, ${t.rows_in_backup} in the backup${t.rows_now === null ? '' : t.same_as_backup ? ', same content' : ', content differs'})`)
      .join(', ');
    const others = replaces.filter((t) => !plan.tables.some((s) => s.table === t));
    throw refused(
      `restore would replace ${replaces.length} table(s) of ${plan.target} with the backup of ${sidecar.database.where} taken ${sidecar.created_at}: ${tables}` +
        `${others.length ? `, and ${others.join(', ')}` : ''}. Every change made since the backup is lost` +
        `${plan.left_untouched.length ? `; tables not in the backup are left as they are: ${plan.left_untouched.join(', ')}` : ''}` +
        `${plan.other_sessions ? `; ${plan.other_sessions} other session(s) are connected` : ''}.`,
      `Stop all writes first (runbook: kubectl scale deployment sark --replicas=0), then run: sark-migrate restore --from '${archive}' --confirm`,
      { plan },
    );
  }

  const owners = [...new Set(toc.map((e) => e.owner).filter(Boolean))];
  const keepOwners = await canSetOwners(ctx.sql, owners);
  const started = performance.now();
  const timeout = ctx.options.lockTimeout;
  return withRunLock(ctx.sql, async () => {
    const holders = await lingeringLockHolders(ctx.sql, replaces, timeout);
    if (holders.length) {
      const who = holders.map((h) => `pid ${h.pid} (${h.usename ?? '?'}, ${h.application_name || 'no application_name'}, ${h.state}) holds ${h.mode} on ${h.relation}`).join('; ');
      throw refused(
        `Sessions still use tables the restore replaces, and would make it wait: ${who}.`,
        `Stop all writes first (runbook: kubectl scale deployment sark --replicas=0) or end them (SELECT pg_terminate_backend(<pid>)), then run: sark-migrate restore --from '${archive}' --confirm`,
        { holders },
      );
    }
    const args = ['--clean', '--if-exists', '--single-transaction', '--exit-on-error', '--no-password', ...(keepOwners ? [] : ['--no-owner']), `--dbname=${dbnameConninfo(ctx.conn.database)}`, archive];
    const since = (await ctx.sql<{ now: Date }[]>`select clock_timestamp() as now`)[0]!.now;
    const done = { value: false };
    const watch = /^0+(ms|s|min)?$/.test(timeout) ? Promise.resolve(null) : watchLockWaits(ctx.sql, { applicationName: ctx.conn.applicationName, since, timeout }, done);
    const run = await step(`pg_restore --clean --single-transaction into ${ctx.where}`, () =>
      runTool(pgRestore, args, childEnv(ctx.conn, { statement_timeout: ctx.options.statementTimeout })).finally(() => {
        done.value = true;
      }),
    );
    const waited = await watch;
    if (waited) {
      const who = waited.blocked_by.map((b) => `pid ${b.pid} (${b.usename ?? '?'}, ${b.application_name || 'no application_name'}, ${b.state})`).join(', ') || 'another session';
      throw refused(
        `pg_restore waited longer than lock_timeout (${timeout}) for a lock held by ${who} and was cancelled; nothing was changed (it runs in one transaction).`,
        `Stop all writes first (runbook: kubectl scale deployment sark --replicas=0) or end those sessions, then run: sark-migrate restore --from '${archive}' --confirm`,
        { waited },
      );
    }
    if (run.status !== 0) throw restoreFailed(firstError(run.stderr), archive);
    const verification = await verify(ctx.sql, sidecar);
    return {
      ...plan,
      restored: true as const,
      ownership: keepOwners ? ('as recorded' as const) : ('restoring role' as const),
      duration_seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
      verification,
      verified: verification.every((v) => v.rows_match && v.content_match),
    };
  });
}

async function readVerifiedSidecar(archive: string): Promise<BackupSidecar> {
  const manual = `pg_restore --clean --if-exists --single-transaction -d <database> '${archive}'`;
  let sidecar: BackupSidecar;
  try {
    sidecar = readSidecar(archive);
  } catch (e) {
    throw refused(
      `${sidecarPath(archive)} is missing or is not a sark-migrate backup record, so the restore could not be verified (${(e as Error).message.split('\n')[0]}).`,
      `Restore a backup made by \`sark-migrate backup\` (it writes the sidecar), or restore this archive by hand: ${manual}`,
    );
  }
  if (statSync(archive).size !== sidecar.size_bytes) {
    throw refused(`${archive} is ${statSync(archive).size} bytes, but ${sidecar.size_bytes} were recorded when it was made: it is not the archive that was verified.`, 'Use another backup, or fetch this one again from where it is stored.');
  }
  if ((await sha256File(archive)) !== sidecar.sha256) {
    throw refused(`${archive} has changed since it was verified (its SHA-256 differs from the one in ${sidecarPath(archive)}).`, 'Use another backup, or fetch this one again from where it is stored.');
  }
  return sidecar;
}

async function planRestore(ctx: Context, archive: string, sidecar: BackupSidecar, replaces: string[], tocEntries: number): Promise<RestorePlan> {
  const now = await currentFingerprints(ctx.sql, sidecar);
  const tables: RestorePlan['tables'] = Object.entries(sidecar.fingerprints).map(([table, print]) => ({
    table,
    rows_now: now[table]?.rows ?? null,
    rows_in_backup: print.rows,
    same_as_backup: now[table]?.rows === print.rows && now[table]?.content_hash === print.content_hash,
  }));
  const present = await ctx.sql<{ t: string }[]>`
    select n.nspname || '.' || c.relname as t
      from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'
     order by 1`;
  const [sessions] = await ctx.sql<{ n: number }[]>`
    select count(*)::int as n from pg_catalog.pg_stat_activity
     where datname = current_database() and backend_type = 'client backend' and application_name is distinct from ${ctx.conn.applicationName}`;
  return {
    archive,
    backup: { created_at: sidecar.created_at, size_bytes: sidecar.size_bytes, sha256: sidecar.sha256, schema_version: sidecar.schema_version, v1_counts: sidecar.v1_counts, database: sidecar.database.where },
    target: ctx.where,
    replaces,
    toc_entries: tocEntries,
    tables,
    left_untouched: present.map((r) => r.t).filter((t) => !replaces.includes(t)),
    other_sessions: sessions!.n,
  };
}

/** Whether every recorded owner exists and this role may give objects to it (ALTER ... OWNER TO). */
async function canSetOwners(sql: Sql, owners: string[]): Promise<boolean> {
  if (owners.length === 0) return true;
  const [row] = await sql<{ ok: boolean }[]>`
    select bool_and(r.oid is not null and pg_has_role(r.oid, 'MEMBER')) as ok
      from unnest(${owners}::text[]) as o(name) left join pg_catalog.pg_roles r on r.rolname = o.name`;
  return row!.ok === true;
}

/** Counts and fingerprints of the tables the backup recorded, as they are now (one snapshot). */
function currentFingerprints(sql: Sql, sidecar: BackupSidecar): Promise<Record<string, Fingerprint>> {
  return sql.begin('isolation level repeatable read read only', async (t) => {
    const tx = t as unknown as Sql;
    await setCanonicalOutput(tx);
    return fingerprints(tx, Object.keys(sidecar.fingerprints));
  });
}

async function verify(sql: Sql, sidecar: BackupSidecar): Promise<RestoreResult['verification']> {
  const now = await currentFingerprints(sql, sidecar);
  return Object.entries(sidecar.fingerprints).map(([table, expected]) => ({
    table,
    expected_rows: expected.rows,
    actual_rows: now[table]?.rows ?? null,
    rows_match: now[table]?.rows === expected.rows,
    content_match: now[table]?.content_hash === expected.content_hash,
  }));
}

/** A conninfo naming only the database (the rest comes from the libpq variables), quoted as libpq wants. */
function dbnameConninfo(database: string): string {
  return `dbname='${database.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function restoreFailed(error: string, archive: string) {
  const depends = /depend/i.test(error);
  return refused(
    `pg_restore failed, so nothing was changed (it runs in one transaction): ${error}.`,
    depends
      ? 'Objects created after the backup depend on tables it replaces (e.g. the sark_migration views or v2 foreign keys): remove them first (`sark-migrate data --rollback`, `schema down --to 005`), then restore again.'
      : `Fix the cause and run the restore again: sark-migrate restore --from '${archive}' --confirm`,
  );
}
