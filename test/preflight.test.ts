import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { libpqEnv, toUrl } from '../src/config/connection.ts';
import { seed } from '../src/commands/seed.ts';
import type { Sql } from '../src/db/connect.ts';
import { PROJECT_ROOT } from '../src/db/sqlFiles.ts';
import { applyFixture, buildAlembicV1, buildWithoutLedger } from './support/alembic.ts';
import { catalogSnapshot } from './support/catalog.ts';
import { freshDatabase, runCli, type TestDatabase } from './support/db.ts';
import { clientBinary } from './support/pgTools.ts';

const PREFLIGHT_SQL = join(PROJECT_ROOT, 'sql', 'preflight');
const dbs: TestDatabase[] = [];
let dir: string;

async function database(template: 'empty' | 'v1' = 'v1'): Promise<TestDatabase> {
  const db = await freshDatabase(template);
  dbs.push(db);
  return db;
}

/** A v1 database with 50 servers x 3 tools, seeded the way the tool seeds. */
async function seededV1(): Promise<TestDatabase> {
  const db = await database('v1');
  await seed(await db.context(), { servers: 50, toolsPerServer: 3, dirty: false });
  return db;
}

const blockers = (json: any) => json.checks.filter((c: any) => c.severity === 'blocker');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sark-preflight-'));
});
afterEach(async () => {
  await Promise.all(dbs.splice(0).map((d) => d.drop()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('preflight on a healthy v1 database', () => {
  it('exits 0 and reports prerequisites, privileges, health and exact counts as JSON; --save-counts writes them', async () => {
    const db = await seededV1();
    const countsFile = join(dir, 'counts.json');
    const r = runCli(['preflight', '--json', '--save-counts', countsFile, '--database-url', db.url]);
    expect(r.status, r.stderr).toBe(0);
    const json = r.json();
    expect(json.status).not.toBe('blocked');
    expect(json.summary.blockers).toBe(0);
    expect(blockers(json)).toEqual([]);
    expect(json.database).toMatchObject({ database: db.conn.database, supported: true, in_recovery: false });
    expect(json.prerequisites.schema).toMatchObject({ v1Tables: true, v2Tables: false, schemaVersion: '005_gateway_audit' });
    expect(json.prerequisites.privileges.filter((p: any) => p.required && p.granted === false)).toEqual([]);
    expect(json.counts).toEqual({ v1_servers: 50, v1_tools: 150, v2_resources: null, v2_mcp_resources: null, v2_capabilities: null, v2_mcp_capabilities: null });
    expect(json.health.database_size_bytes).toBeGreaterThan(0);
    expect(json.health.top_tables.map((t: any) => t.table_name)).toContain('mcp_tools');
    expect(json.health.long_transactions).toEqual([]);
    expect(json.drift.v1_variant).toMatchObject({ tools_parameters_column: 'parameters_schema', json_columns: [], tools_server_fk: 'valid' });
    expect(['evaluated', 'skipped']).toContain(json.findings.status);
    expect(json.counts_file).toBe(countsFile);
    expect(JSON.parse(readFileSync(countsFile, 'utf8'))).toMatchObject({ counts: json.counts, schema_version: '005_gateway_audit' });

    const human = runCli(['preflight', '--database-url', db.url]);
    expect(human.status).toBe(0);
    expect(human.stdout).toMatch(/^READY/m);
    expect(human.stdout).toMatch(/v1_servers 50, v1_tools 150/);
  });

  it('writes nothing: no schema, catalog entry, row or tuple counter changes, and no sark_migration schema appears', async () => {
    const db = await database('empty');
    await buildAlembicV1(db.sql); // as SARK's Alembic leaves it: no sark_migration schema, no ledger
    const ctx = await db.context();
    await seed(ctx, { servers: 50, toolsPerServer: 3, dirty: false });
    await ctx.close();
    const before = await footprint(db.sql);
    expect(before.schemas).not.toContain('sark_migration');
    expect(before.stats.ins).toBeGreaterThanOrEqual(200); // the counters do see writes: the seed's

    const r = runCli(['preflight', '--json', '--database-url', db.url]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json().counts.v1_servers).toBe(50);

    const after = await footprint(db.sql);
    expect(after).toEqual(before);
  });

  it('ships plain read-only SELECT files a DBA can run with psql', () => {
    const files = readdirSync(PREFLIGHT_SQL).filter((f) => f.endsWith('.sql')).sort();
    expect(files.length).toBeGreaterThanOrEqual(9);
    for (const f of files) {
      expect(f).toMatch(/^\d{3}_[a-z0-9_]+\.sql$/);
      const text = readFileSync(join(PREFLIGHT_SQL, f), 'utf8');
      expect(text.startsWith(`-- ${f}`), f).toBe(true);
      expect(text, f).toMatch(/^-- Runs:.*writes nothing/m);
    }
  });

  it('each SQL file runs under psql in a read-only session', async () => {
    const db = await seededV1();
    for (const f of readdirSync(PREFLIGHT_SQL).filter((x) => x.endsWith('.sql'))) {
      const r = spawnSync(clientBinary('psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', join(PREFLIGHT_SQL, f)], {
        encoding: 'utf8',
        env: { ...process.env, ...libpqEnv(db.conn), PGOPTIONS: '-c default_transaction_read_only=on' },
      });
      expect(r.status, `${f}: ${r.stderr}`).toBe(0);
    }
  });
});

describe('preflight blockers (exit 1, each with its fix)', () => {
  it('a database without the v1 tables', async () => {
    const db = await database('empty');
    const r = runCli(['preflight', '--json', '--database-url', db.url]);
    expect(r.status).toBe(1);
    const json = r.json();
    expect(json.status).toBe('blocked');
    const v1 = blockers(json).find((c: any) => c.name === 'prerequisites.v1_tables');
    expect(v1.message).toMatch(/mcp_servers and mcp_tools do not exist/);
    expect(v1.fix).toMatch(/DATABASE_URL/);
    expect(runCli(['preflight', '--database-url', db.url]).stdout).toMatch(/BLOCKED: \d+ blocker/);
  });

  it('a role with LOGIN and no other rights: every missing privilege is named with its GRANT', async () => {
    const db = await seededV1();
    const role = `pf_norights_${randomBytes(4).toString('hex')}`;
    await db.sql.unsafe(`create role ${role} login`);
    try {
      const r = runCli(['preflight', '--json', '--database-url', toUrl({ ...db.conn, user: role, password: undefined })]);
      expect(r.status, r.stderr).toBe(1);
      const json = r.json();
      expect(json.database.current_user).toBe(role);
      const names = blockers(json).map((c: any) => c.name);
      expect(names).toEqual(expect.arrayContaining(['privileges.backup', 'privileges.schema', 'privileges.data', 'privileges.sync', 'privileges.validate']));
      const data = blockers(json).find((c: any) => c.name === 'privileges.data' && /SELECT on mcp_servers/.test(c.message));
      expect(data.fix).toBe(`GRANT SELECT ON public.mcp_servers, public.mcp_tools TO ${role};`);
      // Unreadable tables are reported as unknown, not as errors.
      expect(json.counts.v1_servers).toBeNull();
    } finally {
      await db.sql.unsafe(`drop role if exists ${role}`);
    }
  });

  it('applied SQL files edited since: a blocker, a warning with --allow-drift', async () => {
    const db = await database('v1');
    await db.sql`update sark_migration.applied_files set sha256 = repeat('0', 64) where path = 'migrations/001_initial.sql'`;
    const r = runCli(['preflight', '--json', '--database-url', db.url]);
    expect(r.status).toBe(1);
    const drift = blockers(r.json()).find((c: any) => c.name === 'drift.applied_files');
    expect(drift.message).toMatch(/migrations\/001_initial\.sql/);
    expect(drift.fix).toMatch(/--allow-drift/);
    const allowed = runCli(['preflight', '--json', '--allow-drift', '--database-url', db.url]);
    expect(allowed.status).toBe(0);
    expect(allowed.json().checks.find((c: any) => c.name === 'drift.applied_files').severity).toBe('warning');
  });

  it('exits 3 when the database cannot be reached', () => {
    const r = runCli(['preflight', '--json', '--database-url', 'postgresql://sark:pw-s3cret@127.0.0.1:1/sark']);
    expect(r.status).toBe(3);
    expect(r.stdout + r.stderr).not.toContain('pw-s3cret');
  });
});

describe('preflight warnings', () => {
  it('lists a long-running transaction and a session idle in transaction, with pid, duration and query', async () => {
    const db = await seededV1();
    const idle = await db.sql.reserve();
    const busy = await db.sql.reserve();
    try {
      await idle`begin`;
      await idle`select count(*) from mcp_servers`;
      const idlePid = (await idle<{ pid: number }[]>`select pg_backend_pid() as pid`)[0]!.pid;
      const busyPid = (await busy<{ pid: number }[]>`select pg_backend_pid() as pid`)[0]!.pid;
      const sleeping = busy`select pg_sleep(60)`.catch(() => undefined);
      await new Promise((res) => setTimeout(res, 1500));

      const r = runCli(['preflight', '--json', '--long-transaction-threshold', '1s', '--database-url', db.url]);
      expect(r.status, r.stderr).toBe(0); // warnings, not blockers
      const json = r.json();
      expect(json.status).toBe('warnings');
      const long = json.health.long_transactions;
      expect(long.find((t: any) => t.pid === idlePid)).toMatchObject({ kind: 'idle_in_transaction', holds_v1_lock: true, state: 'idle in transaction' });
      const sleeper = long.find((t: any) => t.pid === busyPid);
      expect(sleeper).toMatchObject({ kind: 'long_transaction', state: 'active' });
      expect(sleeper.query).toMatch(/^select pg_sleep\(60\)/);
      expect(sleeper.duration_seconds).toBeGreaterThanOrEqual(1);
      const warning = json.checks.find((c: any) => c.name === 'health.long_transactions' && c.details.pid === busyPid);
      expect(warning.severity).toBe('warning');
      expect(warning.fix).toContain(`pg_terminate_backend(${busyPid})`);

      // Above the threshold only: with the default (1min) the 1.5 s query is not listed, the idle session is.
      const dflt = runCli(['preflight', '--json', '--database-url', db.url]).json().health.long_transactions.map((t: any) => t.pid);
      expect(dflt).toContain(idlePid);
      expect(dflt).not.toContain(busyPid);

      await db.sql`select pg_cancel_backend(${busyPid})`;
      await sleeping;
    } finally {
      await idle`rollback`.catch(() => undefined);
      idle.release();
      busy.release();
    }
  });

  it('reports the v1 schema variant: parameters vs parameters_schema, json columns, a missing or NOT VALID foreign key', async () => {
    const db = await database('empty');
    await buildWithoutLedger(db.sql, '005');
    await applyFixture(db.sql, 'model_v1.sql');
    await applyFixture(db.sql, 'alembic_v1_005.sql');
    await db.sql`alter table mcp_tools drop constraint mcp_tools_server_id_fkey`;
    let json = runCli(['preflight', '--json', '--database-url', db.url]).json();
    expect(json.drift.v1_variant).toMatchObject({
      tools_parameters_column: 'parameters',
      tools_has_invocation_columns: true,
      tools_server_fk: 'missing',
    });
    expect(json.drift.v1_variant.json_columns).toEqual(['mcp_servers.capabilities', 'mcp_servers.extra_metadata', 'mcp_servers.tags', 'mcp_tools.extra_metadata']);
    expect(json.checks.find((c: any) => c.name === 'drift.v1_foreign_key')).toMatchObject({ severity: 'warning' });

    await db.sql`alter table mcp_tools add constraint mcp_tools_server_id_fkey foreign key (server_id) references mcp_servers (id) on delete cascade not valid`;
    json = runCli(['preflight', '--json', '--database-url', db.url]).json();
    expect(json.drift.v1_variant.tools_server_fk).toBe('not_valid');
    expect(json.checks.find((c: any) => c.name === 'drift.v1_foreign_key').fix).toMatch(/VALIDATE CONSTRAINT mcp_tools_server_id_fkey/);
  });
});

/** Everything preflight could conceivably change, read from the catalog and the statistics. */
async function footprint(sql: Sql) {
  // Backends report their statistics when they exit or at most once a second when idle.
  await new Promise((res) => setTimeout(res, 1500));
  await sql`select pg_stat_clear_snapshot()`;
  const [stats] = await sql<{ ins: number; upd: number; del: number }[]>`
    select coalesce(sum(n_tup_ins), 0)::bigint as ins, coalesce(sum(n_tup_upd), 0)::bigint as upd, coalesce(sum(n_tup_del), 0)::bigint as del
      from pg_stat_user_tables`;
  const [objects] = await sql<{ classes: number; procs: number; types: number }[]>`
    select (select count(*) from pg_class)::int as classes, (select count(*) from pg_proc)::int as procs, (select count(*) from pg_type)::int as types`;
  const rows = await sql.begin(async (tx) => {
    await tx`set local timezone = 'UTC'`;
    return tx<{ servers: string; tools: string }[]>`
      select (select md5(string_agg(s::text, E'\n' order by s.id)) from mcp_servers s) as servers,
             (select md5(string_agg(t::text, E'\n' order by t.id)) from mcp_tools t) as tools`;
  });
  return {
    schemas: (await sql<{ n: string }[]>`select nspname as n from pg_namespace where nspname not like 'pg\\_temp%' and nspname not like 'pg\\_toast\\_temp%' order by 1`).map((r) => r.n),
    catalog: await catalogSnapshot(sql),
    objects: objects!,
    stats: stats!,
    rows: rows[0],
  };
}
