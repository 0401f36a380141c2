/**
 * The preflight's facts come from the plain SELECT files in sql/preflight, so a DBA running them
 * with psql sees exactly what the tool saw. Each file is one statement; this module runs one and
 * types its rows. Nothing here writes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sql } from '../db/connect.ts';
import { SQL_DIR } from '../db/sqlFiles.ts';

export const PREFLIGHT_DIR = join(SQL_DIR, 'preflight');

/** The custom setting 005_long_transactions.sql reads its threshold from. */
export const LONG_TRANSACTION_SETTING = 'sark.long_transaction_threshold';

export interface ServerRow {
  server_version: string;
  server_version_num: number;
  major: number;
  supported: boolean;
  in_recovery: boolean;
  database: string;
  current_user: string;
  is_superuser: boolean;
  version: string;
}

export interface DatabaseSizeRow {
  database: string;
  size_bytes: number;
  size: string;
}

export interface TableSizeRow {
  schema_name: string;
  table_name: string;
  total_bytes: number;
  total_size: string;
  table_bytes: number;
  index_bytes: number;
  estimated_rows: number | null;
}

export interface ConnectionsRow {
  total: number;
  active: number;
  idle: number;
  idle_in_transaction: number;
  waiting_on_lock: number;
  not_visible: number;
  sark_migrate: number;
  max_connections: number;
  server_total: number;
}

export interface LongTransactionRow {
  kind: 'long_transaction' | 'idle_in_transaction' | 'prepared_transaction';
  pid: number | null;
  usename: string | null;
  application_name: string | null;
  client_addr: string | null;
  state: string | null;
  xact_start: Date | null;
  duration_seconds: number | null;
  in_state_seconds: number | null;
  wait_event_type: string | null;
  wait_event: string | null;
  holds_v1_lock: boolean;
  query: string | null;
}

export interface ReplicationRow {
  kind: 'replica' | 'standby' | 'slot';
  name: string | null;
  client_addr: string | null;
  state: string | null;
  sync_state: string | null;
  wal_status: string | null;
  lag_seconds: number | null;
  lag_bytes: number | null;
}

export interface PrivilegeRow {
  phase: string;
  requirement: string;
  object: string;
  required: boolean;
  /** null: cannot be judged yet (the object does not exist). */
  granted: boolean | null;
  fix: string;
}

export interface VariantRow {
  mcp_servers_present: boolean;
  mcp_tools_present: boolean;
  tools_parameters_column: 'parameters' | 'parameters_schema' | null;
  tools_has_both_parameter_columns: boolean;
  tools_has_invocation_columns: boolean;
  json_columns: string[];
  jsonb_columns: string[];
  tools_server_fk: 'valid' | 'not_valid' | 'missing' | null;
  tools_server_fk_name: string | null;
  /** lower: Alembic-built labels ('http'); upper: model-built ('HTTP') */
  enum_labels: 'lower' | 'upper' | 'mixed' | null;
}

export interface CountsRow {
  v1_servers: number | null;
  v1_tools: number | null;
  v2_resources: number | null;
  v2_mcp_resources: number | null;
  v2_capabilities: number | null;
  v2_mcp_capabilities: number | null;
}

interface Files {
  '001_server_version.sql': ServerRow;
  '002_database_size.sql': DatabaseSizeRow;
  '003_table_sizes.sql': TableSizeRow;
  '004_connections.sql': ConnectionsRow;
  '005_long_transactions.sql': LongTransactionRow;
  '006_replication.sql': ReplicationRow;
  '007_privileges.sql': PrivilegeRow;
  '008_v1_schema_variant.sql': VariantRow;
  '009_row_counts.sql': CountsRow;
}

/** Runs one file of sql/preflight (a single SELECT, sent as a simple query) and returns its rows. */
export async function preflightQuery<F extends keyof Files>(sql: Sql, file: F): Promise<Files[F][]> {
  const text = readFileSync(join(PREFLIGHT_DIR, file), 'utf8');
  const rows = await sql.unsafe(text);
  return [...rows] as unknown as Files[F][];
}

/** The same, for files that return exactly one row. */
export async function preflightRow<F extends keyof Files>(sql: Sql, file: F): Promise<Files[F]> {
  const [row] = await preflightQuery(sql, file);
  if (!row) throw new Error(`sql/preflight/${file} returned no row`);
  return row;
}
