import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { libpqEnv } from '../src/config/connection.ts';
import { summarize, validate } from '../src/commands/validate.ts';
import { PROJECT_ROOT } from '../src/db/sqlFiles.ts';
import { ValidationReport, type CheckResult } from '../src/report/schema.ts';
import { REPORT_SCHEMA_FILE, renderJsonSchema } from '../src/report/writeJsonSchema.ts';
import { freshDatabase, runCli, type TestDatabase } from './support/db.ts';
import { clientBinary } from './support/pgTools.ts';
import { cloneDatabase, migratedTemplate, type ClonedDatabase, type MigratedTemplate } from './support/migrated.ts';

// Small seeds keep the file fast: every test clones a migrated template in milliseconds.
let clean: MigratedTemplate;
let dirty: MigratedTemplate;
beforeAll(async () => {
  [clean, dirty] = await Promise.all([
    migratedTemplate({ servers: 50, toolsPerServer: 4, dirty: false }),
    migratedTemplate({ servers: 50, toolsPerServer: 4, dirty: true }),
  ]);
});
afterAll(async () => {
  await clean?.drop();
  await dirty?.drop();
});

let db: ClonedDatabase | undefined;
let v1only: TestDatabase | undefined;
afterEach(async () => {
  await db?.drop();
  await v1only?.drop();
  db = undefined;
  v1only = undefined;
});

async function cloneClean() {
  db = await cloneDatabase(clean.name);
  return db;
}

const check = (report: ValidationReport, name: string): CheckResult => {
  const found = report.checks.find((c) => c.check_name === name);
  if (!found) throw new Error(`no check ${name} in the report (${report.checks.map((c) => c.check_name).join(', ')})`);
  return found;
};
const failed = (report: ValidationReport) => report.issues.map((i) => i.check_name).sort();
const errors = (report: ValidationReport) => report.issues.filter((i) => i.severity === 'error').map((i) => i.check_name).sort();
const full = async (d: ClonedDatabase) => validate(await d.context(), 'full');

/** Ids of the migrated rows to break. */
async function someMigrated(d: ClonedDatabase) {
  const [row] = await d.sql<{ resource_id: string; capability_id: string; other_resource_id: string }[]>`
    select c.resource_id, c.id as capability_id,
           (select r.id from resources r where r.id <> c.resource_id and r.metadata ? '_v1' order by r.id limit 1) as other_resource_id
      from capabilities c where c.metadata ? '_v1' order by c.id limit 1`;
  return row!;
}

describe('a clean migration', () => {
  it('passes every check of every family, and the report says so', async () => {
    const d = await cloneClean();
    const report = await full(d);
    expect(report.checks.filter((c) => !c.passed)).toEqual([]);
    expect(report).toMatchObject({ status: 'passed', mode: 'full', failed_checks: 0, issues: [] });
    expect(report.passed_checks).toBe(report.total_checks);
    expect(report.counts).toEqual({ v1_servers: 50, v1_tools: 200, v2_mcp_resources: 50, v2_mcp_capabilities: 200 });
    const names = report.checks.map((c) => c.check_name);
    for (const name of [
      'schema.table.resources', 'schema.table.capabilities', 'schema.table.federation_nodes', 'schema.table.cost_tracking',
      'schema.table.principal_budgets', 'schema.view.mv_daily_cost_summary', 'schema.columns.resources', 'schema.columns.audit_events',
      'schema.constraint.capabilities_resource_id_fkey', 'schema.index.ix_resources_metadata_gin', 'schema.index.ux_mv_daily_cost_summary',
      'schema.ledgers', 'data.server_count', 'data.tool_count', 'data.quarantined_servers', 'data.quarantined_tools',
      'relationships.orphaned_capabilities', 'relationships.capability_resource_matches_v1', 'relationships.cost_tracking_references',
      'fidelity.resources', 'fidelity.capabilities', 'fidelity.servers_roundtrip', 'fidelity.tools_roundtrip', 'fidelity.v1_source_gone',
      'rules.sensitivity_levels', 'rules.protocols', 'rules.names', 'rules.endpoints', 'rules.metadata_objects', 'rules.capability_schemas',
      'rules.core_metadata_keys', 'health.table_sizes', 'health.mv_daily_cost_summary', 'health.invalid_indexes', 'health.statistics',
    ]) {
      expect(names).toContain(name);
    }
    expect(check(report, 'data.server_count').message).toBe('50 v1 servers = 50 migrated to resources + 0 quarantined.');
  });
});

describe('the modes', () => {
  it('each mode evaluates its own families, and psql reads the same answers from the mode views', async () => {
    const d = await cloneClean();
    const ctx = await d.context();
    const families = async (mode: 'quick' | 'schema' | 'data' | 'relationships') =>
      [...new Set((await validate(ctx, mode)).checks.map((c) => c.check_name.split('.')[0]))].sort();
    expect(await families('quick')).toEqual(['data', 'relationships', 'schema']);
    expect(await families('schema')).toEqual(['schema']);
    expect(await families('data')).toEqual(['data', 'fidelity', 'rules']);
    expect(await families('relationships')).toEqual(['relationships']);

    await d.sql`update mcp_servers set description = 'changed after the copy' where id = (select id from mcp_servers order by id limit 1)`;
    const report = await validate(ctx, 'full');
    // The views are installed by the migration, so a DBA's psql session sees exactly the CLI's answers.
    const fromPsql = await d.sql<{ check_name: string; severity: string }[]>`
      select check_name, severity from sark_migration.validation_full where not passed order by check_name`;
    expect(fromPsql.map((r) => r.check_name)).toEqual(failed(report));
    expect(fromPsql.length).toBeGreaterThan(0);
  });

  it('validate --quick compares the tool keys once for the counts and the relationships families, --full not at all', async () => {
    // Both families read the tool key comparison (a pass over each table); each family view
    // evaluating it on its own cost the pass twice (3 s of validate --full at 1,000,000 tools).
    const d = await cloneClean();
    const conn = await d.sql.reserve();
    try {
      const toolRowsRead = async (query: string) => {
        const read = async () => {
          await conn`select pg_stat_clear_snapshot()`;
          const [r] = await conn<{ n: number }[]>`
            select (coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0))::int as n
              from pg_stat_user_tables where schemaname = 'public' and relname = 'mcp_tools'`;
          return r!.n;
        };
        const before = await read();
        await conn.unsafe(query);
        await conn`select pg_stat_force_next_flush()`;
        return (await read()) - before;
      };
      const counts = await toolRowsRead('select * from sark_migration.check_counts');
      const relationships = await toolRowsRead('select * from sark_migration.check_relationships');
      const quick = await toolRowsRead('select * from sark_migration.validation_quick');
      expect(counts).toBeGreaterThanOrEqual(200); // the 200 v1 tools, at least once
      expect(relationships).toBeGreaterThanOrEqual(200);
      expect(quick).toBe(counts);
      // --full reads the keys from the round trips of the fidelity family: what the fidelity family
      // reads, plus what the counts read besides their key pass (the v1 count, the held tools).
      const keyPass = await toolRowsRead('select * from sark_migration.validation_tool_key_mismatches');
      const fidelity = await toolRowsRead('select * from sark_migration.check_fidelity');
      const fullRead = await toolRowsRead('select * from sark_migration.validation_full');
      expect(keyPass).toBeGreaterThanOrEqual(200);
      expect(fidelity).toBeGreaterThanOrEqual(200);
      expect(fullRead).toBe(fidelity + counts - keyPass);
    } finally {
      conn.release();
    }
  });

  it("costs a DBA's plain psql session no more than the CLI, even with JIT forced on for every query", async () => {
    // Before the views carried their settings, a psql session JIT-compiled some 11,000 functions
    // for validation_full (46-66 s against the CLI's 4.7 s at 20,000 servers); compilation costs
    // the same at any size, so forcing JIT shows it here on 50 servers.
    const d = await cloneClean();
    const jitEverywhere = '-c jit=on -c jit_above_cost=0 -c jit_inline_above_cost=0 -c jit_optimize_above_cost=0';
    let t = performance.now();
    const psql = spawnSync(clientBinary('psql'), ['-X', '-At', '-v', 'ON_ERROR_STOP=1', '-c', 'select count(*) from sark_migration.validation_full where not passed'], {
      encoding: 'utf8',
      env: { ...process.env, ...libpqEnv(d.conn), PGOPTIONS: jitEverywhere },
    });
    const psqlSeconds = (performance.now() - t) / 1000;
    expect(psql.status, psql.stderr).toBe(0);
    expect(psql.stdout.trim()).toBe('0');
    t = performance.now();
    const cli = runCli(['validate', '--full', '--database-url', d.url]);
    const cliSeconds = (performance.now() - t) / 1000;
    expect(cli.status).toBe(0);
    console.log(`validation_full: psql with JIT forced ${psqlSeconds.toFixed(2)} s, validate --full ${cliSeconds.toFixed(2)} s`);
    expect(psqlSeconds).toBeLessThanOrEqual(cliSeconds);
  });

  it('is read-only: creates nothing, even where the validation views were never installed', async () => {
    v1only = await freshDatabase('v1');
    const report = await validate(await v1only.context(), 'full');
    expect(report.status).toBe('failed');
    const [left] = await v1only.sql<{ views: number }[]>`
      select count(*)::int as views from pg_views where schemaname = 'sark_migration'`;
    expect(left!.views).toBe(0);
  });
});

describe('before the migration', () => {
  it('on a v1-only database the schema checks fail with messages and every data family says what is missing', async () => {
    v1only = await freshDatabase('v1');
    const report = await validate(await v1only.context(), 'full');
    expect(check(report, 'schema.table.resources')).toMatchObject({
      passed: false,
      severity: 'error',
      message: 'Table public.resources is missing: run `sark-migrate schema up` (Phase 1).',
    });
    expect(check(report, 'schema.ledgers').message).toMatch(/005_gateway_audit, not at 007_federation/);
    for (const name of ['data.prerequisites', 'relationships.prerequisites', 'fidelity.prerequisites', 'rules.prerequisites']) {
      expect(check(report, name)).toMatchObject({ passed: false, severity: 'error' });
      expect(check(report, name).message).toMatch(/^These checks cannot run: public\.capabilities, (public\.cost_tracking, )?public\.resources are missing; run `sark-migrate schema up`/);
    }
    expect(report.counts).toEqual({ v1_servers: 0, v1_tools: 0, v2_mcp_resources: 0, v2_mcp_capabilities: 0 });
  });
});

describe('schema checks', () => {
  it('a dropped index fails schema.index.<name> with the statement that rebuilds it concurrently', async () => {
    const d = await cloneClean();
    await d.sql`drop index ix_resources_name`;
    const report = await validate(await d.context(), 'schema');
    expect(failed(report)).toEqual(['schema.index.ix_resources_name']);
    expect(check(report, 'schema.index.ix_resources_name')).toMatchObject({ severity: 'error', details: { actual: null, expected: 'btree (name)' } });
    expect(check(report, 'schema.index.ix_resources_name').message).toContain('CREATE INDEX CONCURRENTLY ix_resources_name ON public.resources USING btree (name);');
  });

  it('an INVALID index left by a failed CREATE INDEX CONCURRENTLY counts as missing', async () => {
    const d = await cloneClean();
    await d.sql`drop index ix_capabilities_resource`;
    // Unique on a column with duplicates: the concurrent build fails and leaves the index behind, INVALID.
    await expect(d.sql.unsafe('create unique index concurrently ix_capabilities_resource on capabilities (resource_id)')).rejects.toMatchObject({ code: '23505' });
    const report = await validate(await d.context(), 'full');
    const c = check(report, 'schema.index.ix_capabilities_resource');
    expect(c).toMatchObject({ passed: false, severity: 'error', details: { valid: false } });
    expect(c.message).toMatch(/is INVALID.*counts as missing.*DROP INDEX CONCURRENTLY public\.ix_capabilities_resource; CREATE INDEX CONCURRENTLY ix_capabilities_resource/);
    expect(check(report, 'health.invalid_indexes')).toMatchObject({ passed: false, severity: 'warning' });
    expect(check(report, 'health.invalid_indexes').details.invalid).toEqual([expect.objectContaining({ index: 'ix_capabilities_resource' })]);
  });

  it('the materialized view without its unique index: REFRESH … CONCURRENTLY would fail, and the message says so', async () => {
    const d = await cloneClean();
    await d.sql`drop index ux_mv_daily_cost_summary`;
    const c = check(await validate(await d.context(), 'schema'), 'schema.index.ux_mv_daily_cost_summary');
    expect(c.passed).toBe(false);
    expect(c.message).toMatch(/CREATE UNIQUE INDEX CONCURRENTLY ux_mv_daily_cost_summary .*REFRESH MATERIALIZED VIEW CONCURRENTLY mv_daily_cost_summary/);
  });

  it('a missing table, a column of another type and a dropped constraint each fail their check', async () => {
    const d = await cloneClean();
    await d.sql`drop table principal_budgets`;
    await d.sql`alter table federation_nodes alter column endpoint type text`;
    await d.sql`alter table resources drop constraint resources_protocol_check`;
    await d.sql`drop materialized view mv_daily_cost_summary`;
    const report = await validate(await d.context(), 'schema');
    expect(failed(report)).toEqual([
      'schema.columns.federation_nodes',
      'schema.columns.mv_daily_cost_summary',
      'schema.columns.principal_budgets',
      'schema.constraint.principal_budgets_pkey',
      'schema.constraint.resources_protocol_check',
      'schema.index.ix_mv_daily_cost_summary_date',
      'schema.index.ix_mv_daily_cost_summary_principal',
      'schema.index.ix_principal_budgets_principal',
      'schema.index.ux_mv_daily_cost_summary',
      'schema.table.principal_budgets',
      'schema.view.mv_daily_cost_summary',
    ]);
    expect(check(report, 'schema.columns.federation_nodes').details.wrong_type).toEqual([
      { column: 'endpoint', expected: 'character varying(500)', actual: 'text' },
    ]);
    expect(check(report, 'schema.constraint.resources_protocol_check').message).toContain(
      "ALTER TABLE public.resources ADD CONSTRAINT resources_protocol_check CHECK (protocol IN ('mcp', 'http', 'grpc', 'graphql'));",
    );
    expect(check(report, 'schema.table.principal_budgets').message).toMatch(/missing: run `sark-migrate schema up`/);
  });

  it('a NOT VALID foreign key fails its constraint check', async () => {
    const d = await cloneClean();
    await d.sql`alter table capabilities drop constraint capabilities_resource_id_fkey`;
    await d.sql`alter table capabilities add constraint capabilities_resource_id_fkey foreign key (resource_id) references resources (id) on delete cascade not valid`;
    const c = check(await validate(await d.context(), 'schema'), 'schema.constraint.capabilities_resource_id_fkey');
    expect(c).toMatchObject({ passed: false, details: { validated: false } });
    expect(c.message).toContain('VALIDATE CONSTRAINT capabilities_resource_id_fkey');
  });

  it('alembic_version out of step with the node-pg-migrate ledger fails schema.ledgers', async () => {
    const d = await cloneClean();
    await d.sql`update alembic_version set version_num = '006_protocol_adapters'`;
    const report = await validate(await d.context(), 'schema');
    expect(failed(report)).toEqual(['schema.ledgers']);
    expect(check(report, 'schema.ledgers')).toMatchObject({
      severity: 'error',
      details: { pgmigrations_newest: '007_federation', alembic_version: '006_protocol_adapters' },
    });
    expect(check(report, 'schema.ledgers').message).toMatch(/disagree.*Run `sark-migrate schema up`/);
  });
});

describe('count checks', () => {
  it('a deleted resource: data.server_count names the missing server and says to re-run the copy', async () => {
    const d = await cloneClean();
    const { resource_id } = await someMigrated(d);
    await d.sql`delete from resources where id = ${resource_id}`; // its capabilities go with it (ON DELETE CASCADE)
    const report = await validate(await d.context(), 'quick');
    expect(errors(report)).toEqual(['data.server_count', 'data.tool_count']);
    const c = check(report, 'data.server_count');
    expect(c.severity).toBe('error');
    expect(c.details).toMatchObject({ v1_servers: 50, migrated: 49, missing: 1, vanished: 0, missing_ids: [{ id: resource_id }] });
    expect(c.message).toMatch(/^Server count mismatch: 50 v1 servers, 49 migrated to resources \+ 0 quarantined\. 1 v1 servers have no resources row.*`sark-migrate data --execute`/);
    expect(check(report, 'data.tool_count').details).toMatchObject({ missing: 4 });
  });

  it('a v1 tool deleted after the copy leaves a migrated capability whose source is gone', async () => {
    const d = await cloneClean();
    const { capability_id } = await someMigrated(d);
    await d.sql`delete from mcp_tools where id = ${capability_id}`;
    const report = await validate(await d.context(), 'full');
    expect(errors(report)).toEqual(['data.tool_count', 'fidelity.v1_source_gone']);
    expect(check(report, 'data.tool_count').details).toMatchObject({ vanished: 1, vanished_ids: [capability_id] });
    expect(check(report, 'fidelity.v1_source_gone').details).toMatchObject({ capabilities: 1, capability_ids: [capability_id] });
  });

  it('a v1 server added after the copy is missing from v2', async () => {
    const d = await cloneClean();
    await d.sql`
      insert into mcp_servers (id, name, transport, endpoint, mcp_version, capabilities, sensitivity_level, status, tags, extra_metadata)
      values ('00000000-0000-4000-8000-000000000001', 'late', 'http', 'https://late.example.com', '2025-06-18', '[]', 'low', 'active', '[]', '{}')`;
    const report = await validate(await d.context(), 'full');
    expect(check(report, 'data.server_count').details).toMatchObject({ missing: 1, missing_ids: [{ id: '00000000-0000-4000-8000-000000000001', name: 'late' }] });
    expect(check(report, 'fidelity.resources').details).toMatchObject({ missing_in_v2: 1 });
  });

  it('quarantined rows are warnings: reported with their reasons, the validation still passes', async () => {
    db = await cloneDatabase(dirty.name);
    const report = await full(db);
    expect(report.status).toBe('passed');
    expect(failed(report)).toEqual(['data.quarantined_servers', 'data.quarantined_tools']);
    const servers = check(report, 'data.quarantined_servers');
    expect(servers.severity).toBe('warning');
    expect(servers.details.quarantined).toBeGreaterThan(0);
    expect(Object.keys(servers.details.by_reason as object).length).toBeGreaterThan(0);
    expect(servers.message).toMatch(/held back in quarantine.*sark_migration\.quarantine.*`sark-migrate data --execute`/);
    const tools = check(report, 'data.quarantined_tools');
    expect((tools.details.rows as unknown[]).length).toBeGreaterThan(0);
    // v1 = migrated + quarantined, for both tables
    const sc = check(report, 'data.server_count').details as Record<string, number>;
    expect(sc.v1_servers).toBe(sc.migrated! + sc.quarantined!);
    // The summary counts warnings apart from failures (it said "70 passed, 2 failed … PASSED").
    const summary = summarize(report, 'here');
    expect(summary).toMatch(new RegExp(`${report.total_checks} checks: ${report.total_checks - 2} passed, 0 failed, 2 warnings \\(reported, not failures\\)`));
    expect(summary).toMatch(/STATUS: VALIDATION PASSED/);
  });
});

describe('the key checks of --full', () => {
  // validate --full reads the keys from the round trip comparisons (007) instead of comparing them
  // in a pass of their own (--quick, 002): both must give the same check rows on any broken key.
  const keyRows = async (d: ClonedDatabase | TestDatabase) => {
    const rows = async (view: string) =>
      d.sql.unsafe<{ check_name: string; passed: boolean; message: string; details: unknown }[]>(`
        select check_name, passed, message, details from sark_migration.${view}
         where check_name like 'data.%' or check_name = 'relationships.capability_resource_matches_v1' order by 1`);
    return { quick: await rows('check_keys'), full: await rows('check_fidelity_and_keys') };
  };

  it('reads the same data.* and relationships rows from the round trips as --quick from the key comparison', async () => {
    const d = await cloneClean();
    const servers = await d.sql<{ id: string }[]>`select id::text as id from mcp_servers order by id desc limit 3`;
    const [a, b, c, e, f, g] = await d.sql<{ tool: string }[]>`
      select t.id::text as tool from mcp_tools t
       where t.server_id::text not in ${d.sql(servers.map((s) => s.id))} order by t.id limit 6`;
    await d.sql.begin(async (tx) => {
      await tx`delete from resources where id = ${servers[0]!.id}`; // a server and its tools missing from v2
      await tx`delete from mcp_tools where id = ${a!.tool}`; // a migrated capability whose v1 tool is gone
      await tx`update capabilities set resource_id = ${servers[1]!.id} where id = ${b!.tool}`; // under another resource
      await tx`update mcp_tools set server_id = ${servers[2]!.id} where id = ${c!.tool}`; // moved in v1 since the copy
      await tx`update capabilities set name = 'renamed in v2' where id = ${e!.tool}`; // a value, not a key
      await tx`delete from capabilities where id = ${f!.tool}`; // one tool missing from v2
      await tx`insert into sark_migration.quarantine (source_table, source_id, reason, detail)
               values ('mcp_tools', ${g!.tool}, 'no_name', 'made dirty after the copy')`;
      await tx`
        insert into mcp_servers (id, name, transport, endpoint, mcp_version, capabilities, sensitivity_level, status, tags, extra_metadata)
        values ('00000000-0000-4000-8000-000000000001', 'late', 'http', 'https://late.example.com', '2025-06-18', '[]', 'low', 'active', '[]', '{}')`;
    });
    const { quick, full: fromRoundTrips } = await keyRows(d);
    expect(quick.filter((r) => !r.passed).map((r) => r.check_name)).toEqual([
      'data.quarantined_tools', 'data.server_count', 'data.tool_count', 'relationships.capability_resource_matches_v1',
    ]);
    expect(check({ checks: quick } as unknown as ValidationReport, 'relationships.capability_resource_matches_v1').details).toMatchObject({ mismatched: 2 });
    expect(fromRoundTrips).toEqual(quick);
    // and the report of validate --full carries them
    const report = await full(d);
    expect(report.checks.filter((r) => r.check_name.startsWith('data.')).map((r) => r.details)).toEqual(
      quick.filter((r) => r.check_name.startsWith('data.')).map((r) => r.details),
    );
  });

  it('agree on a database with quarantined rows, and on a clean one', async () => {
    db = await cloneDatabase(dirty.name);
    const dirtyRows = await keyRows(db);
    expect(dirtyRows.full).toEqual(dirtyRows.quick);
    expect(dirtyRows.quick.filter((r) => !r.passed).length).toBe(2);
    await db.drop();
    const d = await cloneClean();
    const cleanRows = await keyRows(d);
    expect(cleanRows.full).toEqual(cleanRows.quick);
    expect(cleanRows.quick.every((r) => r.passed)).toBe(true);
  });
});

describe('quarantine after the copy', () => {
  it('a migrated server quarantined later is counted as quarantined, and its stale v2 rows are no fidelity failure', async () => {
    const d = await cloneClean();
    const { resource_id } = await someMigrated(d);
    await d.sql`insert into sark_migration.quarantine (source_table, source_id, reason, detail)
                values ('mcp_servers', ${resource_id}, 'no_endpoint', 'made dirty after the copy')`;
    const report = await full(d);
    expect(report.status).toBe('passed');
    expect(failed(report)).toEqual(['data.quarantined_servers', 'data.quarantined_tools']);
    expect(check(report, 'data.server_count').details).toMatchObject({ migrated: 49, quarantined: 1, stale_v2_rows_of_quarantined: 1 });
    expect(check(report, 'data.quarantined_tools').details).toMatchObject({ quarantined: 4, held_because_server_quarantined_only: 4, stale_v2_rows: 4 });
  });
});

describe('relationship checks', () => {
  it('an orphaned capability is named, with whether its v1 tool and server still exist', async () => {
    const d = await cloneClean();
    const { resource_id } = await someMigrated(d);
    const conn = await d.sql.reserve();
    try {
      // As a replica would: foreign-key triggers do not fire, so the capabilities stay.
      await conn`set session_replication_role = replica`;
      await conn`delete from resources where id = ${resource_id}`;
    } finally {
      await conn`reset session_replication_role`;
      conn.release();
    }
    const report = await validate(await d.context(), 'relationships');
    const c = check(report, 'relationships.orphaned_capabilities');
    expect(c).toMatchObject({ passed: false, severity: 'error', details: { orphaned: 4 } });
    expect((c.details.rows as unknown[])[0]).toMatchObject({ resource_id, migrated_from_v1: true, v1_tool_exists: true, v1_server_exists: true, v1_tool_server_id: resource_id });
    expect(c.message).toMatch(/4 capabilities reference a resource that does not exist.*`sark-migrate data --execute`/);
  });

  it('a capability moved under another resource fails relationships.capability_resource_matches_v1', async () => {
    const d = await cloneClean();
    const { capability_id, resource_id, other_resource_id } = await someMigrated(d);
    await d.sql`update capabilities set resource_id = ${other_resource_id} where id = ${capability_id}`;
    const report = await validate(await d.context(), 'quick');
    expect(errors(report)).toEqual(['relationships.capability_resource_matches_v1']);
    expect(check(report, 'relationships.capability_resource_matches_v1').details).toEqual({
      mismatched: 1,
      rows: [{ id: capability_id, resource_id: other_resource_id, expected_resource_id: resource_id }],
    });
  });

  it('cost rows pointing at unknown capabilities or resources are a warning, not a failure', async () => {
    const d = await cloneClean();
    const { capability_id, resource_id } = await someMigrated(d);
    await d.sql`insert into cost_tracking (principal_id, resource_id, capability_id, actual_cost) values
                ('alice', ${resource_id}, ${capability_id}, 1), ('bob', ${resource_id}, 'no-such-capability', 2)`;
    const report = await validate(await d.context(), 'relationships');
    expect(report.status).toBe('passed');
    expect(check(report, 'relationships.cost_tracking_references')).toMatchObject({
      passed: false,
      severity: 'warning',
      details: { rows_with_missing_reference: 1, capability_missing: 1, resource_missing: 0, rows: [expect.objectContaining({ capability_id: 'no-such-capability' })] },
    });
  });
});

describe('fidelity checks (--full)', () => {
  it('catch a single changed metadata value in a single row, naming the row and the field', async () => {
    const d = await cloneClean();
    const { capability_id } = await someMigrated(d);
    await d.sql`update capabilities set metadata = jsonb_set(metadata, '{requires_approval}', to_jsonb(not (metadata->>'requires_approval')::boolean))
                where id = ${capability_id}`;
    const report = await full(d);
    expect(errors(report)).toEqual(['fidelity.capabilities', 'fidelity.tools_roundtrip']);
    const forward = check(report, 'fidelity.capabilities');
    expect(forward.details).toMatchObject({ mismatched: 1, differs: 1, missing_in_v2: 0, not_in_image: 0 });
    const [row] = forward.details.rows as { id: string; fields: string[]; v2: Record<string, unknown>; expected_from_v1: Record<string, unknown> }[];
    expect(row!.id).toBe(capability_id);
    expect(row!.fields).toEqual(['metadata.requires_approval']);
    expect(row!.v2['metadata.requires_approval']).toBe(!row!.expected_from_v1['metadata.requires_approval']);
    expect(forward.message).toMatch(/^1 capabilities rows do not equal the mapping of their v1 tool: 1 differ/);
    const inverse = check(report, 'fidelity.tools_roundtrip');
    expect((inverse.details.rows as { id: string; fields: string[] }[])[0]).toMatchObject({ id: capability_id, fields: ['requires_approval'] });
  });

  it('catch a v1 row changed after the copy, both ways', async () => {
    const d = await cloneClean();
    const { resource_id } = await someMigrated(d);
    await d.sql`update mcp_servers set description = 'rewritten in v1 after the copy' where id = ${resource_id}`;
    const report = await full(d);
    expect(errors(report)).toEqual(['fidelity.resources', 'fidelity.servers_roundtrip']);
    expect((check(report, 'fidelity.resources').details.rows as unknown[])[0]).toMatchObject({
      id: resource_id,
      problem: 'differs',
      fields: ['metadata.description'],
      expected_from_v1: { 'metadata.description': 'rewritten in v1 after the copy' },
    });
    expect((check(report, 'fidelity.servers_roundtrip').details.rows as unknown[])[0]).toMatchObject({
      id: resource_id,
      fields: ['description'],
      v1: { description: 'rewritten in v1 after the copy' },
    });
    expect(check(report, 'fidelity.resources').message).toMatch(/run `sark-migrate data --execute`/);
  });

  it('catch a changed top-level column of a resource', async () => {
    const d = await cloneClean();
    const { resource_id } = await someMigrated(d);
    await d.sql`update resources set updated_at = updated_at + interval '1 microsecond' where id = ${resource_id}`;
    const report = await full(d);
    expect(errors(report)).toEqual(['fidelity.resources', 'fidelity.servers_roundtrip']);
    expect((check(report, 'fidelity.resources').details.rows as { fields: string[] }[])[0]!.fields).toEqual(['updated_at']);
  });
});

describe('business rules', () => {
  it('invalid sensitivity levels, protocols, metadata, blank names and endpoints in v2 rows each fail their rule', async () => {
    const d = await cloneClean();
    const { resource_id, capability_id } = await someMigrated(d);
    await d.sql`alter table resources drop constraint resources_sensitivity_level_check, drop constraint resources_protocol_check,
                drop constraint resources_metadata_is_object`;
    await d.sql`insert into resources (id, name, protocol, endpoint, sensitivity_level, metadata)
                values ('native-1', 'native', 'ftp', 'ftp://x', 'hgih', '[]'), ('native-2', ' ', 'http', '  ', 'low', '{}')`;
    await d.sql`update capabilities set name = '' where id = ${capability_id}`;
    const report = await validate(await d.context(), 'data');
    expect(check(report, 'rules.sensitivity_levels')).toMatchObject({
      passed: false, severity: 'error', details: { resources: 1, capabilities: 0, rows: [{ table: 'resources', id: 'native-1', value: 'hgih' }] },
    });
    expect(check(report, 'rules.protocols').details).toMatchObject({ resources: 1, rows: [{ id: 'native-1', value: 'ftp' }] });
    expect(check(report, 'rules.metadata_objects').details).toMatchObject({ resources: 1, rows: [{ id: 'native-1', type: 'array' }] });
    expect(check(report, 'rules.names').details).toMatchObject({
      resources: 1, capabilities: 1,
      rows: [{ table: 'capabilities', id: capability_id }, { table: 'resources', id: 'native-2' }],
    });
    expect(check(report, 'rules.endpoints').details).toMatchObject({ resources: 1, rows: [{ id: 'native-2' }] });
    expect(resource_id).toBeTruthy();
  });

  it('a capability SARK\'s CapabilitySchema would reject (an array input_schema) fails rules.capability_schemas', async () => {
    const d = await cloneClean();
    const { resource_id, capability_id } = await someMigrated(d);
    await d.sql`insert into capabilities (id, resource_id, name, input_schema) values ('native-cap', ${resource_id}, 'listed args', '["a", "b"]')`;
    await d.sql`update capabilities set output_schema = 'null' where id = ${capability_id}`;
    const report = await validate(await d.context(), 'data');
    expect(check(report, 'rules.capability_schemas')).toMatchObject({
      passed: false,
      severity: 'error',
      details: {
        capabilities: 2,
        rows: expect.arrayContaining([
          { table: 'capabilities', id: 'native-cap', input_schema: 'array', output_schema: 'object' },
          { table: 'capabilities', id: capability_id, input_schema: 'object', output_schema: 'null' },
        ]),
      },
    });
  });

  it('a migrated row without a core metadata key fails rules.core_metadata_keys, naming the key', async () => {
    const d = await cloneClean();
    const { resource_id } = await someMigrated(d);
    await d.sql`update resources set metadata = metadata - 'status' where id = ${resource_id}`;
    const report = await validate(await d.context(), 'data');
    expect(check(report, 'rules.core_metadata_keys')).toMatchObject({
      passed: false,
      severity: 'error',
      details: { resources: 1, capabilities: 0, rows: [{ table: 'resources', id: resource_id, missing_keys: ['status'] }] },
    });
  });
});

describe('health checks', () => {
  it('an unpopulated cost view and v2 tables without statistics are warnings', async () => {
    const d = await cloneClean();
    await d.sql`refresh materialized view mv_daily_cost_summary with no data`;
    await d.sql`truncate resources cascade`; // PostgreSQL forgets the statistics (reltuples = -1)
    await d.sql`insert into resources (id, name, protocol, endpoint) values ('native-1', 'native', 'http', 'https://native.example.com')`;
    const report = await full(d);
    expect(check(report, 'health.mv_daily_cost_summary')).toMatchObject({ passed: false, severity: 'warning', details: { exists: true, populated: false } });
    expect(check(report, 'health.mv_daily_cost_summary').message).toContain('REFRESH MATERIALIZED VIEW mv_daily_cost_summary');
    const stats = check(report, 'health.statistics');
    expect(stats).toMatchObject({ passed: false, severity: 'warning' });
    expect(stats.message).toMatch(/ANALYZE public\.capabilities, public\.resources|ANALYZE public\.resources/);
    expect(check(report, 'health.table_sizes')).toMatchObject({ passed: true, severity: 'info' });
  });
});

describe('the report', () => {
  it('report.schema.json is the JSON Schema generated from the zod schema', () => {
    expect(readFileSync(REPORT_SCHEMA_FILE, 'utf8')).toBe(renderJsonSchema());
  });

  it('validate --full --output: exit 0 on a clean migration, the file is a valid report, and --json prints the same report', async () => {
    const d = await cloneClean();
    const out = join(mkdtempSync(join(tmpdir(), 'sark-validate-')), 'report.json');
    const r = runCli(['validate', '--output', out, '--json', '--database-url', d.url]);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.status).toBe(0);
    const written = ValidationReport.parse(JSON.parse(readFileSync(out, 'utf8')));
    expect(written).toMatchObject({ status: 'passed', mode: 'full', failed_checks: 0 });
    expect(written.database).toEqual({ host: d.conn.host, database: d.name, server_version: expect.any(String) });
    expect(ValidationReport.parse(r.json())).toEqual(written);
    expect(readFileSync(out, 'utf8')).not.toMatch(/password/i);
  });

  it('exit 1 on a failure; the summary groups by severity and ends with the status; jq-style filtering finds every error', async () => {
    db = await cloneDatabase(dirty.name);
    const d = db;
    const { resource_id } = await someMigrated(d);
    await d.sql`delete from resources where id = ${resource_id}`;
    const human = runCli(['validate', '--quick', '--database-url', d.url]);
    expect(human.status).toBe(1);
    expect(human.stdout).toMatch(/\nERROR \(2\)\n  ✗ data\.server_count: Server count mismatch[^\n]*\n  ✗ data\.tool_count: [^\n]*\n\nWARNING \(2\)\n  ! data\.quarantined_servers: /);
    expect(human.stdout.trimEnd().split('\n').at(-1)).toBe('STATUS: VALIDATION FAILED');

    const json = runCli(['validate', '--quick', '--json', '--database-url', d.url]);
    expect(json.status).toBe(1);
    const report = ValidationReport.parse(json.json());
    // jq '.issues[] | select(.severity == "error")'
    const errorsOnly = report.issues.filter((i) => i.severity === 'error').map((i) => i.check_name);
    expect(errorsOnly).toEqual(['data.server_count', 'data.tool_count']);
    expect(report.checks.filter((c) => !c.passed).map((c) => c.check_name).sort()).toEqual(report.issues.map((i) => i.check_name).sort());
    expect(report).toMatchObject({ status: 'failed', failed_checks: 4 });
  });

  it('a clean run prints STATUS: VALIDATION PASSED; two modes at once are a usage error (exit 2)', async () => {
    const d = await cloneClean();
    const ok = runCli(['validate', '--quick', '--database-url', d.url]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/✓ schema +\d+\/\d+ passed/);
    expect(ok.stdout.trimEnd().split('\n').at(-1)).toBe('STATUS: VALIDATION PASSED');
    const both = runCli(['validate', '--quick', '--full', '--database-url', d.url]);
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/Choose one validation mode, not --full and --quick/);
    const badOutput = runCli(['validate', '--output', '/nonexistent/dir/report.json', '--database-url', d.url]);
    expect(badOutput.status).toBe(2);
  });
});

describe('pgTAP: pgtap/20-migration-invariants.sql', () => {
  const proveAvailable = spawnSync('pg_prove', ['--version']).status === 0;
  const prove = (d: ClonedDatabase) =>
    spawnSync('pg_prove', ['--verbose', join(PROJECT_ROOT, 'pgtap', '20-migration-invariants.sql')], {
      encoding: 'utf8',
      env: { ...process.env, ...libpqEnv(d.conn) },
    });

  it.skipIf(!proveAvailable)('holds after a migration of clean and dirty data, and fails when a value changes', async () => {
    db = await cloneDatabase(dirty.name);
    const ok = prove(db);
    expect(ok.stdout + ok.stderr).not.toMatch(/not ok/);
    expect(ok.status).toBe(0);
    await db.sql`update resources set metadata = jsonb_set(metadata, '{status}', '"tampered"') where id = (select min(id) from resources where metadata ? '_v1')`;
    const broken = prove(db);
    expect(broken.status).not.toBe(0);
    expect(broken.stdout).toMatch(/not ok \d+ - every migrated resources row equals resource_image/);
  });
});
