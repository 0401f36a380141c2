/**
 * Turns the preflight's facts into checks: each one a sentence, a severity and, for anything that
 * is not ok, the fix. A blocker stops the migration (exit 1); a warning is worth reading first.
 * Pure functions: no database access here.
 */
import type { Drift } from '../db/sqlFiles.ts';
import type { FindingSummary } from '../data/plan.ts';
import type { SchemaState } from '../schema/state.ts';
import type { PrecreatedTable } from '../schema/precreated.ts';
import type { FindingsResult } from './findings.ts';
import type { ConnectionsRow, LongTransactionRow, PrivilegeRow, ReplicationRow, ServerRow, VariantRow } from './queries.ts';

export type Severity = 'ok' | 'info' | 'warning' | 'blocker';

export interface Check {
  name: string;
  severity: Severity;
  message: string;
  fix?: string;
  details?: Record<string, unknown>;
}

/** Replication lag worth a warning before a migration that writes a lot of WAL. */
export const REPLICATION_LAG_WARN_SECONDS = 30;
export const REPLICATION_LAG_WARN_BYTES = 64 * 1024 * 1024;

/** Alembic revisions `schema up` adopts (src/schema/migrate.ts). */
const ADOPTABLE_ALEMBIC = ['005_gateway_audit', '007_federation'];

/** Phases whose privileges must be there before the migration starts; the others are needed later. */
const BLOCKING_PHASES = new Set(['backup', 'schema', 'data', 'sync', 'validate']);

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

export function serverChecks(s: ServerRow): Check[] {
  const checks: Check[] = [];
  checks.push(
    s.supported
      ? { name: 'server.version', severity: 'ok', message: `PostgreSQL ${s.server_version} is supported (13 to 18).` }
      : {
          name: 'server.version',
          severity: 'blocker',
          message: `PostgreSQL ${s.server_version} is not supported: sark-migrate runs on PostgreSQL 13 to 18.`,
          fix: 'Upgrade the server to a supported major version (pg_upgrade) before migrating.',
        },
  );
  if (s.in_recovery) {
    checks.push({
      name: 'server.standby',
      severity: 'blocker',
      message: 'This server is a read-only standby (pg_is_in_recovery()); the migration writes and must run on the primary.',
      fix: 'Point DATABASE_URL at the primary server.',
    });
  }
  return checks;
}

export function schemaChecks(state: SchemaState | null, variant: VariantRow, readError?: string, precreated: PrecreatedTable[] | null = null): Check[] {
  if (!state) {
    return [
      {
        name: 'prerequisites.ledgers',
        severity: 'blocker',
        message: `The schema ledgers (pgmigrations, alembic_version) cannot be read: ${readError}.`,
        fix: 'GRANT SELECT ON public.pgmigrations, public.alembic_version TO the migrating role, or run as the schema owner.',
      },
    ];
  }
  const checks: Check[] = [];
  if (!variant.mcp_servers_present || !variant.mcp_tools_present) {
    const missing = [!variant.mcp_servers_present && 'mcp_servers', !variant.mcp_tools_present && 'mcp_tools'].filter(Boolean).join(' and ');
    checks.push(
      state.v2Tables
        ? {
            name: 'prerequisites.v1_tables',
            severity: 'blocker',
            message: `The v1 table(s) ${missing} are gone and the v2 tables exist: this database has been decommissioned; there is nothing to migrate.`,
            fix: 'Nothing to do here; `sark-migrate status` shows where the database stands. Check DATABASE_URL if you expected a v1 database.',
          }
        : {
            name: 'prerequisites.v1_tables',
            severity: 'blocker',
            message: `The SARK v1 table(s) ${missing} do not exist in this database.`,
            fix: 'Check that DATABASE_URL (or --database-url / PGDATABASE) points at the SARK database: psql -c "\\dt public.mcp_*".',
          },
    );
  } else {
    checks.push({ name: 'prerequisites.v1_tables', severity: 'ok', message: 'The v1 tables mcp_servers and mcp_tools exist.' });
  }
  const problems = (precreated ?? []).flatMap((t) => t.problems);
  if (precreated && problems.length) {
    checks.push({
      name: 'prerequisites.v2_tables',
      severity: 'blocker',
      message: `v2 tables exist before migration 006 (${precreated.map((t) => t.table_name).join(', ')}: made by SARK's application at start-up) and \`schema up\` cannot take them over: ${problems.join('; ')}.`,
      fix: 'Empty them (they hold no migrated data yet) or make them match migrations/006 and 007; then `schema up` takes them over.',
      details: { precreated },
    });
  } else if (precreated) {
    checks.push({
      name: 'prerequisites.v2_tables',
      severity: 'info',
      message: `v2 tables SARK's application created before any migration exist, empty and of 006/007's columns (${precreated.map((t) => t.table_name).join(', ')}): \`schema up\` takes them over (keeping their owner and privileges) and gives them 006/007's constraints and indexes.`,
      details: { precreated },
    });
  } else if (state.v2Tables) {
    checks.push({ name: 'prerequisites.v2_tables', severity: 'info', message: `The v2 schema is already applied (schema version ${state.schemaVersion ?? 'unknown'}).` });
  } else {
    checks.push({ name: 'prerequisites.v2_tables', severity: 'ok', message: 'The v2 tables do not exist yet; `schema up` creates them.' });
  }
  const hasLedger = state.hasLedger && state.applied.length > 0;
  if (hasLedger) {
    checks.push({ name: 'prerequisites.ledgers', severity: 'ok', message: `sark-migrate ledger at ${state.schemaVersion} (alembic_version ${state.alembicVersion ?? 'none'}).` });
  } else if (state.alembicVersion !== null && !ADOPTABLE_ALEMBIC.includes(state.alembicVersion)) {
    checks.push({
      name: 'prerequisites.ledgers',
      severity: 'blocker',
      message: `alembic_version is ${state.alembicVersion}, a revision sark-migrate cannot adopt (it knows ${ADOPTABLE_ALEMBIC.join(' and ')}).`,
      fix: "Bring the database to 005_gateway_audit with SARK's own `alembic upgrade 005_gateway_audit`, or pass --baseline <id> to `schema up` if you know its schema matches.",
    });
  } else if (state.alembicVersion !== null) {
    checks.push({ name: 'prerequisites.ledgers', severity: 'ok', message: `Alembic-managed at ${state.alembicVersion}: \`schema up\` adopts it.` });
  } else if (variant.mcp_servers_present || state.v2Tables) {
    checks.push({
      name: 'prerequisites.ledgers',
      severity: 'blocker',
      message: 'This database has SARK tables but neither an alembic_version nor a sark-migrate ledger, so its schema version is unknown.',
      fix: 'If its schema is SARK v1 at head, run `sark-migrate schema up --baseline 005` (001-005 are recorded, not run).',
    });
  }
  return checks;
}

export function privilegeChecks(rows: PrivilegeRow[]): Check[] {
  return rows.map((p): Check => {
    const name = `privileges.${p.phase}`;
    const details = { requirement: p.requirement, object: p.object, required: p.required };
    if (p.granted === true) return { name, severity: 'ok', message: `${p.phase}: ${p.requirement}.`, details };
    if (p.granted === null) return { name, severity: 'info', message: `${p.phase}: ${p.requirement} — cannot be judged yet (not there: ${p.object}).`, details };
    const blocking = p.required && BLOCKING_PHASES.has(p.phase);
    const when = blocking ? '' : p.phase === 'preflight' ? ' (optional)' : ` (needed later, for ${p.phase})`;
    return { name, severity: blocking ? 'blocker' : 'warning', message: `${p.phase}: the role lacks ${p.requirement} on ${p.object}${when}.`, fix: p.fix, details };
  });
}

export function connectionChecks(c: ConnectionsRow, seesAll: boolean): Check[] {
  const checks: Check[] = [
    {
      name: 'health.connections',
      severity: c.server_total >= 0.9 * c.max_connections ? 'warning' : 'info',
      message: `${c.total} other session(s) on this database: ${c.active} active, ${c.idle} idle, ${c.idle_in_transaction} idle in transaction, ${c.waiting_on_lock} waiting on a lock; ${c.server_total} of max_connections ${c.max_connections} in use on the server.`,
      ...(c.server_total >= 0.9 * c.max_connections ? { fix: 'The server is near max_connections: the migration needs a few connections of its own. Free some (connection pooler, idle sessions) first.' } : {}),
      details: { ...c },
    },
  ];
  if (c.not_visible > 0 && !seesAll) {
    checks.push({
      name: 'health.visibility',
      severity: 'warning',
      message: `${c.not_visible} session(s) of other roles are not visible to this role, so long transactions among them cannot be detected.`,
      fix: 'GRANT pg_read_all_stats TO the migrating role (or run preflight as a superuser).',
    });
  }
  return checks;
}

export function longTransactionChecks(rows: LongTransactionRow[], threshold: string): Check[] {
  if (rows.length === 0) {
    return [{ name: 'health.long_transactions', severity: 'ok', message: `No transaction older than ${threshold} and no session idle in transaction.` }];
  }
  return rows.map((t): Check => {
    const who = t.kind === 'prepared_transaction' ? `Prepared transaction ${t.query}` : `pid ${t.pid} (${t.usename ?? '?'}${t.application_name ? `, ${t.application_name}` : ''}${t.client_addr ? ` from ${t.client_addr}` : ''})`;
    const what =
      t.kind === 'idle_in_transaction'
        ? `has been idle in transaction for ${t.in_state_seconds ?? '?'} s (transaction open ${t.duration_seconds ?? '?'} s)`
        : t.kind === 'prepared_transaction'
          ? `has been prepared for ${t.duration_seconds ?? '?'} s and holds its locks until it is committed or rolled back`
          : `has a transaction open for ${t.duration_seconds ?? '?'} s (${t.state ?? 'state unknown'}${t.wait_event ? `, waiting on ${t.wait_event}` : ''})`;
    const locks = t.holds_v1_lock ? '; it holds a lock on the v1 tables, so DDL on them would wait for it' : '';
    const query = t.kind !== 'prepared_transaction' && t.query ? `; query: ${t.query}` : '';
    const gid = t.query?.replace(/^gid /, '') ?? '';
    return {
      name: 'health.long_transactions',
      severity: 'warning',
      message: `${who} ${what}${locks}${query}.`,
      fix:
        t.kind === 'prepared_transaction'
          ? `Resolve it with its coordinator, or COMMIT PREPARED / ROLLBACK PREPARED '${gid.replace(/'/g, "''")}'.`
          : `Let it finish, or end it: SELECT pg_terminate_backend(${t.pid}); then re-run preflight.`,
      details: { ...t, xact_start: t.xact_start?.toISOString() ?? null },
    };
  });
}

export function replicationChecks(rows: ReplicationRow[]): Check[] {
  if (rows.length === 0) return [{ name: 'health.replication', severity: 'ok', message: 'No replicas, no replication slots, not a standby.' }];
  return rows.map((r): Check => {
    const lag = `${r.lag_seconds === null ? 'lag unknown' : `${r.lag_seconds.toFixed(1)} s behind`}${r.lag_bytes === null ? '' : `, ${mb(r.lag_bytes)} of WAL`}`;
    const details = { ...r };
    if (r.kind === 'slot') {
      return {
        name: 'health.replication',
        severity: 'warning',
        message: `Replication slot ${r.name} is inactive and retains ${r.lag_bytes === null ? 'an unknown amount' : mb(r.lag_bytes)} of WAL (wal_status ${r.wal_status ?? '?'}); the copy adds a lot more.`,
        fix: `Reconnect its consumer, or drop it if it is unused: SELECT pg_drop_replication_slot('${(r.name ?? '').replace(/'/g, "''")}');`,
        details,
      };
    }
    if (r.kind === 'standby') {
      return { name: 'health.replication', severity: 'info', message: `This standby replays ${lag} (${r.state}).`, details };
    }
    const lagging = (r.lag_seconds ?? 0) > REPLICATION_LAG_WARN_SECONDS || (r.lag_bytes ?? 0) > REPLICATION_LAG_WARN_BYTES;
    const broken = r.state !== 'streaming';
    return lagging || broken
      ? {
          name: 'health.replication',
          severity: 'warning',
          message: `Replica ${r.name ?? r.client_addr ?? '?'} is ${r.state}${r.sync_state ? ` (${r.sync_state})` : ''}, ${lag}; the copy will widen that gap.`,
          fix: 'Wait for the replica to catch up (or fix its connection) before starting; watch pg_stat_replication.replay_lag.',
          details,
        }
      : { name: 'health.replication', severity: 'ok', message: `Replica ${r.name ?? r.client_addr ?? '?'} is ${r.state} (${r.sync_state}), ${lag}.`, details };
  });
}

export function driftChecks(drift: Drift[] | null, variant: VariantRow, allowDrift: boolean, readError?: string): Check[] {
  const checks: Check[] = [];
  if (drift === null) {
    checks.push({
      name: 'drift.applied_files',
      severity: 'warning',
      message: `The record of applied SQL files (sark_migration.applied_files) cannot be read: ${readError}.`,
      fix: 'GRANT USAGE ON SCHEMA sark_migration and SELECT ON sark_migration.applied_files TO the migrating role.',
    });
  } else {
    const edited = drift.filter((d) => d.current !== null);
    const gone = drift.filter((d) => d.current === null);
    if (edited.length) {
      checks.push({
        name: 'drift.applied_files',
        severity: allowDrift ? 'warning' : 'blocker',
        message: `SQL files applied to this database have been edited since: ${edited.map((d) => d.path).join(', ')}${allowDrift ? ' (allowed by --allow-drift)' : ''}.`,
        fix: 'Review the change (git log -p on those files); if it is intended, run with --allow-drift to apply and record the new version.',
        details: { drift: edited },
      });
    } else {
      checks.push({ name: 'drift.applied_files', severity: 'ok', message: 'No applied SQL file has changed since it was applied.' });
    }
    if (gone.length) checks.push({ name: 'drift.applied_files', severity: 'info', message: `Applied files no longer shipped with this version: ${gone.map((d) => d.path).join(', ')}.` });
  }
  if (!variant.mcp_tools_present) return checks;
  const details = { ...variant };
  const shape =
    variant.tools_parameters_column === 'parameters'
      ? 'the SQLAlchemy-model variant (mcp_tools.parameters)'
      : variant.tools_parameters_column === 'parameters_schema'
        ? 'the Alembic-001 variant (mcp_tools.parameters_schema)'
        : 'an unknown variant (mcp_tools has neither parameters nor parameters_schema)';
  const json = variant.json_columns.length ? `json (not jsonb) columns ${variant.json_columns.join(', ')}` : 'jsonb columns throughout';
  const labels = {
    lower: 'lower-case enum labels (built by Alembic)',
    upper: "upper-case enum labels ('HTTP', 'MEDIUM': built by SARK's models; v2 gets lower case, v1 keeps its labels)",
    mixed: 'enum labels of mixed case (lower case in v2; written back to v1 in the case each label has)',
  }[variant.enum_labels ?? 'lower'];
  checks.push({
    name: 'drift.v1_variant',
    severity: variant.tools_parameters_column === null || variant.tools_has_both_parameter_columns ? 'warning' : 'info',
    message: `The v1 schema is ${shape}, with ${json} and ${labels}${variant.tools_has_both_parameter_columns ? '; mcp_tools has BOTH parameters and parameters_schema, and only parameters is migrated' : ''}.`,
    ...(variant.tools_parameters_column === null
      ? { fix: 'Check that this is a SARK v1 database; the tools\' JSON Schema column migrates as NULL otherwise.' }
      : variant.tools_has_both_parameter_columns
        ? { fix: 'Fold parameters_schema into parameters (or drop the unused one) before migrating.' }
        : {}),
    details,
  });
  if (variant.tools_server_fk === 'missing') {
    checks.push({
      name: 'drift.v1_foreign_key',
      severity: 'warning',
      message: 'mcp_tools has no foreign key to mcp_servers, so tools may reference servers that do not exist (they are quarantined, not migrated).',
      fix: 'After cleaning orphans: ALTER TABLE mcp_tools ADD FOREIGN KEY (server_id) REFERENCES mcp_servers (id) ON DELETE CASCADE NOT VALID; then VALIDATE CONSTRAINT.',
      details,
    });
  } else if (variant.tools_server_fk === 'not_valid') {
    checks.push({
      name: 'drift.v1_foreign_key',
      severity: 'warning',
      message: `The foreign key ${variant.tools_server_fk_name} of mcp_tools to mcp_servers is NOT VALID: existing tools may reference servers that do not exist (they are quarantined, not migrated).`,
      fix: `After cleaning orphans: ALTER TABLE mcp_tools VALIDATE CONSTRAINT ${variant.tools_server_fk_name};`,
      details,
    });
  } else {
    checks.push({ name: 'drift.v1_foreign_key', severity: 'ok', message: `mcp_tools.server_id has a validated foreign key (${variant.tools_server_fk_name}).` });
  }
  return checks;
}

export function findingsChecks(f: FindingsResult): Check[] {
  if (f.status === 'skipped') return [{ name: 'findings', severity: 'info', message: `Dirty-data findings skipped: ${f.reason}.` }];
  if (f.status === 'failed') {
    return [
      {
        name: 'findings',
        severity: 'warning',
        message: `Dirty-data findings could not be evaluated: ${f.reason}`,
        fix: 'Run `sark-migrate data --dry-run` after `schema up` for the same findings, or re-run preflight with SARK_DEBUG=1 and report the error.',
      },
    ];
  }
  if (f.by_finding.length === 0) return [{ name: 'findings', severity: 'ok', message: 'No dirty-data findings: every v1 row migrates as it is.' }];
  return f.by_finding.map((s) => findingCheck(s));
}

function findingCheck(s: FindingSummary): Check {
  const scope = s.sample_ids[0] ? `${s.rows} ${s.source_table ?? ''} row(s), e.g. ${s.sample_ids[0]}` : `schema${s.source_table ? ` of ${s.source_table}` : ''}`;
  const base = { name: `findings.${s.finding}`, message: `${s.finding} (${scope}): ${s.message}`, details: { ...s } };
  // A schema-level error (e.g. a v1 column the mapping does not know) would lose data: a blocker.
  // Rows to quarantine are held back and reported by the copy: worth a warning, not a stop.
  if (s.severity === 'critical' || (s.severity === 'error' && s.action !== 'quarantine')) {
    return { ...base, severity: 'blocker', fix: 'Resolve it as the message says before migrating.' };
  }
  if (s.severity === 'error' || s.severity === 'warning') {
    return {
      ...base,
      severity: 'warning',
      fix:
        s.action === 'quarantine'
          ? 'Fix these v1 rows as the message says before migrating, or let the copy quarantine them (sark_migration.quarantine) and fix them later.'
          : 'Review it; the rows migrate as described.',
    };
  }
  return { ...base, severity: 'info' };
}
