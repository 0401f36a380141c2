import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkBackup, latestVerifiedBackup, sha256File } from '../src/backup/archive.ts';
import { seed } from '../src/commands/seed.ts';
import type { Sql } from '../src/db/connect.ts';
import { freshDatabase, runCli, type TestDatabase } from './support/db.ts';
import { backupToolsTooOld, clientBinary } from './support/pgTools.ts';

let source: TestDatabase;
let dir: string;
let archive: string;
let backupJson: any;
let original: V1Contents;
const extra: TestDatabase[] = [];

/** A URL with a password in it (the test server trusts every local login, so it is ignored). */
const withPassword = (db: TestDatabase) => db.url.replace(`//${db.conn.user}@`, `//${db.conn.user}:pw-s3cret@`);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sark-backup-'));
  if (backupToolsTooOld()) return;
  source = await freshDatabase('v1');
  await seed(await source.context(), { servers: 50, toolsPerServer: 3, dirty: false });
  original = await v1Contents(source.sql);
  archive = join(dir, 'sark.dump');
  const r = runCli(['backup', '--json', '--out', archive, '--database-url', withPassword(source)]);
  expect(r.status, r.stderr).toBe(0);
  backupJson = r.json();
  expect(r.stdout + r.stderr).not.toContain('pw-s3cret');
});

afterAll(async () => {
  await Promise.all([source, ...extra].map((d) => d?.drop()));
  rmSync(dir, { recursive: true, force: true });
});

async function database(template: 'empty' | 'v1'): Promise<TestDatabase> {
  const db = await freshDatabase(template);
  extra.push(db);
  return db;
}

describe.skipIf(backupToolsTooOld())('backup --out FILE', () => {
  it('writes a pg_dump archive that pg_restore reads, and a sidecar with its size, SHA-256, tables and v1 counts', async () => {
    expect(existsSync(archive)).toBe(true);
    expect(existsSync(`${archive}.partial`)).toBe(false);
    const sidecar = JSON.parse(readFileSync(`${archive}.json`, 'utf8'));
    expect(sidecar).toEqual({ ...backupJson, sidecar: undefined });
    expect(sidecar.sha256).toBe(await sha256File(archive));
    expect(sidecar.size_bytes).toBe(readFileSync(archive).length);
    expect(sidecar.tables).toEqual(expect.arrayContaining(['public.mcp_servers', 'public.mcp_tools', 'public.users']));
    expect(sidecar.v1_counts).toEqual({ mcp_servers: 50, mcp_tools: 150 });
    expect(sidecar.snapshot).toBe('shared');
    expect(sidecar.verified).toMatchObject({ toc: true, full_read: true });
    expect(sidecar.schema_version).toBe('005_gateway_audit');
    expect(JSON.stringify(sidecar)).not.toContain('pw-s3cret');
    expect(sidecar.database.where).toContain(':***@');

    // Independently of the tool: it is a custom-format archive with the v1 rows in it.
    const list = spawnSync(clientBinary('pg_restore'), ['--list', archive], { encoding: 'utf8' });
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/Format: CUSTOM/);
    expect(list.stdout).toMatch(/TABLE DATA public mcp_servers/);

    const check = await checkBackup(archive);
    expect(check).toMatchObject({ verified: true, problems: [], v1_counts: { mcp_servers: 50, mcp_tools: 150 } });
    expect(check.age_seconds).toBeLessThan(600);
  });

  it('never overwrites an existing file', () => {
    const r = runCli(['backup', '--out', archive, '--database-url', source.url]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/already exists/);
  });

  it('refuses a pg_dump older than the server', () => {
    const fake = join(dir, 'oldbin');
    mkdirSync(fake, { recursive: true });
    for (const tool of ['pg_dump', 'pg_restore']) {
      writeFileSync(join(fake, tool), `#!/bin/sh\necho "${tool} (PostgreSQL) 12.22"\n`);
      chmodSync(join(fake, tool), 0o755);
    }
    const out = join(dir, 'old.dump');
    const r = runCli(['backup', '--json', '--out', out, '--database-url', source.url], { PG_CLIENT_BINDIR: fake });
    expect(r.status).toBe(3);
    expect(r.json().error.message).toMatch(/pg_dump 12 .* is older than required/);
    expect(existsSync(out)).toBe(false);
  });
});

describe.skipIf(backupToolsTooOld())('restore --from FILE', () => {
  it('without --confirm: refuses (exit 1), says what would be replaced and the command to run, changes nothing', async () => {
    const db = await database('v1');
    expect(runCli(['restore', '--from', archive, '--confirm', '--database-url', db.url]).status).toBe(0);
    await corrupt(db.sql);
    const corrupted = await v1Contents(db.sql);
    const r = runCli(['restore', '--json', '--from', archive, '--database-url', db.url]);
    expect(r.status).toBe(1);
    const error = r.json().error;
    expect(error.message).toMatch(/public\.mcp_servers \(now 50 rows, 50 in the backup, content differs\)/);
    expect(error.message).toMatch(/public\.mcp_tools \(now 145 rows, 150 in the backup, content differs\)/);
    expect(error.fix).toContain(`sark-migrate restore --from '${archive}' --confirm`);
    expect(await v1Contents(db.sql)).toEqual(corrupted);
  });

  it('into a FRESH database: identical row counts and contents of the v1 tables', async () => {
    const target = await database('empty');
    const r = runCli(['restore', '--json', '--from', archive, '--confirm', '--database-url', target.url]);
    expect(r.status, r.stderr).toBe(0);
    const json = r.json();
    expect(json.verified).toBe(true);
    expect(json.verification.map((v: any) => [v.table, v.actual_rows, v.content_match])).toEqual([
      ['public.mcp_servers', 50, true],
      ['public.mcp_tools', 150, true],
    ]);
    expect(await v1Contents(target.sql)).toEqual(original);
    expect(await tableCounts(target.sql)).toEqual(await tableCounts(source.sql));
  });

  it('--confirm over a corrupted database brings the v1 tables back exactly', async () => {
    const db = await database('v1');
    expect(runCli(['restore', '--from', archive, '--confirm', '--database-url', db.url]).status).toBe(0);
    await corrupt(db.sql);
    expect(await v1Contents(db.sql)).not.toEqual(original);
    const r = runCli(['restore', '--json', '--from', archive, '--confirm', '--database-url', db.url]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ restored: true, verified: true, ownership: 'as recorded' });
    expect(await v1Contents(db.sql)).toEqual(original);
  });

  it('fails atomically: when an object made after the backup depends on a table, nothing is changed', async () => {
    const db = await database('v1');
    expect(runCli(['restore', '--from', archive, '--confirm', '--database-url', db.url]).status).toBe(0);
    await db.sql.unsafe('create schema later; create view later.server_names as select id, name from public.mcp_servers');
    await corrupt(db.sql);
    const corrupted = await v1Contents(db.sql);
    const r = runCli(['restore', '--json', '--from', archive, '--confirm', '--database-url', db.url]);
    expect(r.status).toBe(1);
    expect(r.json().error.message).toMatch(/nothing was changed.*depend/);
    expect(await v1Contents(db.sql)).toEqual(corrupted);
  });

  it('does not queue behind a session that still uses the tables: refused before, or cancelled after lock_timeout, unchanged', async () => {
    const db = await database('v1');
    expect(runCli(['restore', '--from', archive, '--confirm', '--database-url', db.url]).status).toBe(0);
    await corrupt(db.sql);
    const corrupted = await v1Contents(db.sql);
    const app = await db.sql.reserve();
    try {
      // Idle in transaction with a lock on mcp_servers: named, and the restore refused up front.
      await app`begin`;
      await app`select count(*) from mcp_servers`;
      const appPid = (await app<{ pid: number }[]>`select pg_backend_pid() as pid`)[0]!.pid;
      const idle = runCli(['restore', '--json', '--from', archive, '--confirm', '--database-url', db.url]);
      expect(idle.status).toBe(1);
      expect(idle.json().error.message).toMatch(new RegExp(`pid ${appPid} .*idle in transaction.* on public\\.mcp_servers`));
      await app`rollback`;

      // A busy transaction that started moments ago passes the first guard; the restore then waits
      // for its lock, and is cancelled once it has waited lock_timeout.
      await app`begin`;
      await app`select count(*) from mcp_servers`;
      const busy = app`select pg_sleep(30)`.catch(() => undefined);
      while ((await db.sql<{ state: string }[]>`select state from pg_stat_activity where pid = ${appPid}`)[0]?.state !== 'active') {
        await new Promise((res) => setTimeout(res, 20));
      }
      const started = Date.now();
      const r = runCli(['restore', '--json', '--lock-timeout', '5s', '--from', archive, '--confirm', '--database-url', db.url]);
      expect(r.status).toBe(1);
      expect(r.json().error.message).toMatch(new RegExp(`waited longer than lock_timeout \\(5s\\) for a lock held by pid ${appPid}`));
      expect(Date.now() - started).toBeLessThan(20_000);
      await db.sql`select pg_cancel_backend(${appPid})`;
      await busy;
    } finally {
      await app`rollback`.catch(() => undefined);
      app.release();
    }
    expect(await v1Contents(db.sql)).toEqual(corrupted);
  });

  it('refuses an archive that changed after it was verified', async () => {
    const tampered = join(dir, 'tampered.dump');
    const bytes = readFileSync(archive);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    writeFileSync(tampered, bytes);
    copyFileSync(`${archive}.json`, `${tampered}.json`);
    expect((await checkBackup(tampered)).verified).toBe(false);
    const r = runCli(['restore', '--json', '--from', tampered, '--confirm', '--database-url', source.url]);
    expect(r.status).toBe(1);
    expect(r.json().error.message).toMatch(/SHA-256 differs/);
    expect(await v1Contents(source.sql)).toEqual(original);
  });
});

describe.skipIf(backupToolsTooOld())('latestVerifiedBackup (for decommission)', () => {
  it('finds the newest verified backup of a database, skipping damaged ones', async () => {
    const shelf = join(dir, 'shelf');
    const first = join(shelf, 'first.dump');
    const second = join(shelf, 'second.dump');
    expect(runCli(['backup', '--out', first, '--database-url', source.url]).status).toBe(0);
    expect(runCli(['backup', '--out', second, '--database-url', source.url]).status).toBe(0);
    expect((await latestVerifiedBackup(shelf, { database: source.conn.database }))?.archive).toBe(second);
    expect(await latestVerifiedBackup(shelf, { database: 'some_other_db' })).toBeUndefined();

    writeFileSync(second, 'not an archive any more');
    const check = await checkBackup(second);
    expect(check.verified).toBe(false);
    expect(check.problems.join(' ')).toMatch(/bytes, not the \d+ recorded/);
    const latest = await latestVerifiedBackup(shelf);
    expect(latest?.archive).toBe(first);
    expect(latest?.age_seconds).toBeGreaterThanOrEqual(0);
    expect(await latestVerifiedBackup(join(dir, 'nowhere'))).toBeUndefined();
  });
});

interface V1Contents {
  servers: { n: number; md5: string };
  tools: { n: number; md5: string };
}

/** Every row of the v1 tables, in primary-key order, as one digest per table (UTC rendering). */
async function v1Contents(sql: Sql): Promise<V1Contents> {
  return sql.begin(async (tx) => {
    await tx`set local timezone = 'UTC'`;
    const [row] = await tx<{ sn: number; smd5: string; tn: number; tmd5: string }[]>`
      select (select count(*) from mcp_servers)::int as sn,
             (select md5(coalesce(string_agg(s::text, E'\n' order by s.id), '')) from mcp_servers s) as smd5,
             (select count(*) from mcp_tools)::int as tn,
             (select md5(coalesce(string_agg(t::text, E'\n' order by t.id), '')) from mcp_tools t) as tmd5`;
    return { servers: { n: row!.sn, md5: row!.smd5 }, tools: { n: row!.tn, md5: row!.tmd5 } };
  });
}

/** Exact row counts of every table in public. */
async function tableCounts(sql: Sql): Promise<Record<string, number>> {
  const tables = await sql<{ t: string }[]>`select tablename as t from pg_tables where schemaname = 'public' order by 1`;
  const out: Record<string, number> = {};
  for (const { t } of tables) out[t] = Number((await sql.unsafe(`select count(*) as n from public."${t}"`))[0]!.n);
  return out;
}

/** The kind of damage the runbook's scenario 3 means: rows lost, rows changed. */
async function corrupt(sql: Sql): Promise<void> {
  await sql`delete from mcp_tools where id in (select id from mcp_tools order by id limit 5)`;
  await sql`update mcp_servers set name = name || ' (corrupted)', tags = '["x"]' where id in (select id from mcp_servers order by id limit 3)`;
  await sql`update mcp_tools set parameters_schema = '{}' where id in (select id from mcp_tools order by id desc limit 4)`;
}
