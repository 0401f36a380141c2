/**
 * `backup --out FILE`: pg_dump -Fc with the tool's connection settings, then proof that the archive
 * is usable: pg_restore lists its table of contents and reads every data block, and its size,
 * SHA-256, table list and the row counts/fingerprints of the SARK tables go into FILE.json.
 *
 * The counts are read in the same snapshot pg_dump dumps (exported with pg_export_snapshot and
 * handed to pg_dump --snapshot), so they describe exactly the rows in the archive even while the
 * application writes. pg_dump is an MVCC read: it blocks no writer, so no run lock is taken, and
 * nothing is written to the database. The archive only appears under FILE once it is verified.
 */
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { devNull } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import type { Context } from '../context.ts';
import type { Sql } from '../db/connect.ts';
import { refused } from '../errors.ts';
import { log, step } from '../output.ts';
import { readSchemaState, type SchemaState } from '../schema/state.ts';
import { fingerprints, parseToc, setCanonicalOutput, sha256File, sidecarPath, SIDECAR_FORMAT, tocTables, type BackupSidecar } from './archive.ts';
import { childEnv, findPgTool, firstError, runTool } from './pgtools.ts';

export interface BackupResult extends BackupSidecar {
  sidecar: string;
}

export async function backup(ctx: Context, out: string): Promise<BackupResult> {
  const archive = resolve(out);
  const sidecar = sidecarPath(archive);
  for (const f of [archive, sidecar]) {
    if (existsSync(f)) throw refused(`${f} already exists; a backup never overwrites another.`, 'Choose a new file name (e.g. with a timestamp), or move the old backup away first.');
  }
  mkdirSync(dirname(archive), { recursive: true });
  const serverMajor = Math.floor(ctx.server.serverVersionNum / 10000);
  const pgDump = findPgTool('pg_dump', serverMajor);
  const pgRestore = findPgTool('pg_restore', serverMajor, pgDump.major);
  const partial = `${archive}.partial`;
  const env = childEnv(ctx.conn);
  const createdAt = new Date();
  const started = performance.now();

  try {
    const taken = await ctx.sql.begin('isolation level repeatable read read only', async (t) => {
      const tx = t as unknown as Sql;
      await setCanonicalOutput(tx);
      const snapshot = await tx<{ id: string }[]>`select pg_export_snapshot() as id`.then(
        ([r]) => r!.id,
        (e) => {
          log.warn(`cannot export a snapshot (${(e as Error).message}); row counts are read separately from the dump`);
          return null;
        },
      );
      const state = await (tx as unknown as { savepoint: (f: (sp: Sql) => Promise<SchemaState>) => Promise<SchemaState> })
        .savepoint((sp) => readSchemaState(sp))
        .catch(() => null);
      const prints = await fingerprints(tx);
      const args = ['--format=custom', `--file=${partial}`, '--no-password', `--lock-wait-timeout=${ctx.options.lockTimeout}`, ...(snapshot ? [`--snapshot=${snapshot}`] : [])];
      const dump = await step(`pg_dump -Fc of ${ctx.where} (${pgDump.path})`, () => runTool(pgDump, args, env));
      if (dump.status !== 0) throw dumpFailed(firstError(dump.stderr));
      return { snapshot, state, prints };
    });

    const list = await step('pg_restore --list (reading the table of contents)', () => runTool(pgRestore, ['--list', partial], env));
    const toc = parseToc(list.stdout);
    if (list.status !== 0 || toc.length === 0) throw unreadable(partial, firstError(list.stderr));
    const tables = tocTables(toc);
    const missing = Object.keys(taken.prints).filter((t) => !toc.some((e) => e.desc === 'TABLE DATA' && `${e.schema}.${e.name}` === t));
    if (missing.length) throw unreadable(partial, `its table of contents has no data for ${missing.join(', ')}`);
    const read = await step('pg_restore (reading every data block)', () => runTool(pgRestore, [`--file=${devNull}`, partial], env));
    if (read.status !== 0) throw unreadable(partial, firstError(read.stderr));

    const sha256 = await sha256File(partial);
    const finishedAt = new Date();
    const record: BackupSidecar = {
      format: SIDECAR_FORMAT,
      archive: basename(archive),
      archive_path: archive,
      size_bytes: statSync(partial).size,
      sha256,
      created_at: createdAt.toISOString(),
      finished_at: finishedAt.toISOString(),
      duration_seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
      database: {
        where: ctx.where,
        host: ctx.conn.host,
        port: ctx.conn.port,
        database: ctx.conn.database,
        server_version: ctx.server.serverVersion,
        server_version_num: ctx.server.serverVersionNum,
      },
      pg_dump: { path: pgDump.path, version: pgDump.version, major: pgDump.major },
      snapshot: taken.snapshot ? 'shared' : 'separate',
      schema_version: taken.state?.schemaVersion ?? null,
      alembic_version: taken.state?.alembicVersion ?? null,
      toc_entries: toc.length,
      tables,
      v1_counts: { mcp_servers: taken.prints['public.mcp_servers']?.rows ?? null, mcp_tools: taken.prints['public.mcp_tools']?.rows ?? null },
      fingerprints: taken.prints,
      verified: { toc: true, full_read: true, at: finishedAt.toISOString(), pg_restore: pgRestore.version },
    };
    renameSync(partial, archive);
    writeFileSync(`${sidecar}.partial`, `${JSON.stringify(record, null, 2)}\n`);
    renameSync(`${sidecar}.partial`, sidecar);
    return { ...record, sidecar };
  } finally {
    rmSync(partial, { force: true });
  }
}

function dumpFailed(error: string) {
  const lock = /lock|canceling statement due to/i.test(error);
  return refused(
    `pg_dump failed: ${error}.`,
    lock
      ? 'A session holds or waits for an exclusive lock on a table; `sark-migrate preflight` lists long transactions. Re-run when it is gone, or raise --lock-timeout.'
      : 'Fix the cause (the role needs SELECT on every table: `sark-migrate preflight` checks it) and run the backup again; no archive was kept.',
  );
}

function unreadable(file: string, error: string) {
  return refused(`The archive pg_dump wrote is not readable by pg_restore: ${error}.`, `No archive was kept (${file} is removed). Check the disk and run the backup again.`);
}
