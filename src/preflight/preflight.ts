/**
 * `preflight`: the runbook's Pre-Migration Checklist as one read-only pass. Everything but the
 * dirty-data findings is read in one REPEATABLE READ, READ ONLY transaction (one snapshot, and the
 * server itself refuses any write); the findings are evaluated with the tool's definitions in a
 * transaction that is rolled back. No lock is taken and nothing is created.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Context } from '../context.ts';
import type { Sql } from '../db/connect.ts';
import { findDrift, type Drift } from '../db/sqlFiles.ts';
import { isPgError } from '../errors.ts';
import { withDefinitionsReadOnly } from '../db/definitions.ts';
import { precreatedPending, precreatedTables } from '../schema/precreated.ts';
import { readSchemaState, type SchemaState } from '../schema/state.ts';
import * as c from './checks.ts';
import { evaluateFindings, type FindingsResult } from './findings.ts';
import * as q from './queries.ts';

export interface PreflightOptions {
  /** Transactions older than this are listed (a PostgreSQL interval, e.g. 1min, 30s). */
  longTransactionThreshold: string;
  /** Also write the counts to this JSON file. */
  saveCounts?: string;
  allowDrift: boolean;
}

export interface SavedCounts {
  captured_at: string;
  database: string;
  server_version: string;
  schema_version: string | null;
  counts: q.CountsRow;
}

export interface PreflightResult {
  status: 'passed' | 'warnings' | 'blocked';
  database: { where: string; database: string; current_user: string; is_superuser: boolean; server_version: string; server_version_num: number; supported: boolean; in_recovery: boolean };
  checked_at: string;
  duration_seconds: number;
  summary: { blockers: number; warnings: number; info: number; ok: number };
  checks: c.Check[];
  prerequisites: { schema: SchemaState | null; privileges: q.PrivilegeRow[] };
  health: {
    database_size_bytes: number;
    database_size: string;
    top_tables: q.TableSizeRow[];
    connections: q.ConnectionsRow;
    long_transaction_threshold: string;
    long_transactions: q.LongTransactionRow[];
    replication: q.ReplicationRow[];
  };
  counts: q.CountsRow;
  counts_file: string | null;
  drift: { applied_files: Drift[] | null; v1_variant: q.VariantRow };
  findings: FindingsResult;
}

export async function preflight(ctx: Context, o: PreflightOptions): Promise<PreflightResult> {
  const started = performance.now();
  const checkedAt = new Date().toISOString();
  const facts = await ctx.sql.begin('isolation level repeatable read read only', async (t) => {
    const tx = t as unknown as Sql;
    await tx`select set_config(${q.LONG_TRANSACTION_SETTING}, ${o.longTransactionThreshold}, true)`;
    const schema = await guarded(tx, (sp) => readSchemaState(sp));
    const drift = await guarded(tx, (sp) => findDrift(sp));
    return {
      server: await q.preflightRow(tx, '001_server_version.sql'),
      size: await q.preflightRow(tx, '002_database_size.sql'),
      tables: await q.preflightQuery(tx, '003_table_sizes.sql'),
      connections: await q.preflightRow(tx, '004_connections.sql'),
      long: await q.preflightQuery(tx, '005_long_transactions.sql'),
      replication: await q.preflightQuery(tx, '006_replication.sql'),
      privileges: await q.preflightQuery(tx, '007_privileges.sql'),
      variant: await q.preflightRow(tx, '008_v1_schema_variant.sql'),
      counts: await q.preflightRow(tx, '009_row_counts.sql'),
      schema,
      drift,
    };
  });
  const { server, variant, schema, drift } = facts;
  const v1Tables = variant.mcp_servers_present && variant.mcp_tools_present;
  const findings = await evaluateFindings(ctx, { v1Tables, v2Tables: schema.value?.v2Tables ?? false, inRecovery: server.in_recovery });
  // v2 tables SARK's application created before 006: what `schema up` will do with them.
  const precreated = v1Tables && schema.value && (await precreatedPending(ctx.sql, schema.value.applied, schema.value.alembicVersion))
    ? await withDefinitionsReadOnly(ctx, (tx) => precreatedTables(tx))
    : null;
  const seesAll = server.is_superuser || facts.privileges.some((p) => p.phase === 'preflight' && p.granted === true);

  const checks: c.Check[] = [
    ...c.serverChecks(server),
    ...c.schemaChecks(schema.value, variant, schema.error, precreated),
    ...c.privilegeChecks(facts.privileges),
    {
      name: 'health.database_size',
      severity: 'info',
      message: `Database ${server.database} is ${facts.size.size}; ${facts.tables[0] ? `the largest table is ${facts.tables[0].schema_name}.${facts.tables[0].table_name} (${facts.tables[0].total_size})` : 'it has no tables'}. The copy needs about as much free space again as the v1 tables take.`,
    },
    ...c.connectionChecks(facts.connections, seesAll),
    ...c.longTransactionChecks(facts.long, o.longTransactionThreshold),
    ...c.replicationChecks(facts.replication),
    {
      name: 'counts',
      severity: 'info',
      message: `Counts: ${Object.entries(facts.counts).map(([k, v]) => `${k} ${v ?? '-'}`).join(', ')}.`,
    },
    ...c.driftChecks(drift.value, variant, o.allowDrift, drift.error),
    ...c.findingsChecks(findings),
  ];

  let countsFile: string | null = null;
  if (o.saveCounts) {
    countsFile = resolve(o.saveCounts);
    const saved: SavedCounts = { captured_at: checkedAt, database: ctx.where, server_version: server.server_version, schema_version: schema.value?.schemaVersion ?? null, counts: facts.counts };
    writeFileSync(countsFile, `${JSON.stringify(saved, null, 2)}\n`);
  }

  const count = (s: c.Severity) => checks.filter((x) => x.severity === s).length;
  const summary = { blockers: count('blocker'), warnings: count('warning'), info: count('info'), ok: count('ok') };
  return {
    status: summary.blockers ? 'blocked' : summary.warnings ? 'warnings' : 'passed',
    database: {
      where: ctx.where,
      database: server.database,
      current_user: server.current_user,
      is_superuser: server.is_superuser,
      server_version: server.server_version,
      server_version_num: server.server_version_num,
      supported: server.supported,
      in_recovery: server.in_recovery,
    },
    checked_at: checkedAt,
    duration_seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
    summary,
    checks,
    prerequisites: { schema: schema.value, privileges: facts.privileges },
    health: {
      database_size_bytes: facts.size.size_bytes,
      database_size: facts.size.size,
      top_tables: facts.tables,
      connections: facts.connections,
      long_transaction_threshold: o.longTransactionThreshold,
      long_transactions: facts.long,
      replication: facts.replication,
    },
    counts: facts.counts,
    counts_file: countsFile,
    drift: { applied_files: drift.value, v1_variant: variant },
    findings,
  };
}

/**
 * Runs a read that a role without privileges may be refused (SQLSTATE 42501) in a savepoint, so
 * the refusal becomes a finding of the preflight instead of aborting it.
 */
async function guarded<T>(tx: Sql, fn: (sp: Sql) => Promise<T>): Promise<{ value: T | null; error?: string }> {
  try {
    const value = await (tx as unknown as { savepoint: (f: (sp: Sql) => Promise<T>) => Promise<T> }).savepoint(fn);
    return { value };
  } catch (e) {
    if (!isPgError(e, '42501')) throw e;
    return { value: null, error: e.message };
  }
}
