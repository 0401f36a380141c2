/**
 * Where a database stands, schema-wise, read from the catalog and the two ledgers (node-pg-migrate's
 * `pgmigrations` and Alembic's `alembic_version`). Read-only.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sql } from '../db/connect.ts';
import { MIGRATIONS_DIR } from '../db/sqlFiles.ts';

export const MIGRATIONS_TABLE = 'pgmigrations';

/** Migration ids in order; each equals the Alembic revision id SARK uses (001_initial … 007_federation). */
export function migrationIds(): string[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{3}_.*\.sql$/.test(f))
    .sort()
    .map((f) => f.replace(/\.sql$/, ''));
}

/** The Up half of a migration file, split where node-pg-migrate splits it. */
export function upSection(id: string): string {
  const text = readFileSync(join(MIGRATIONS_DIR, `${id}.sql`), 'utf8');
  const down = text.search(/^\s*--[\s-]*down\s+migration/im);
  return down >= 0 ? text.slice(0, down) : text;
}

/** Resolves "005", "005_gateway_audit" or a unique prefix to a migration id. */
export function resolveMigrationId(ref: string): string | undefined {
  const ids = migrationIds();
  return ids.find((id) => id === ref) ?? ids.find((id) => id.split('_')[0] === ref) ?? ids.filter((id) => id.startsWith(ref)).at(0);
}

export const V1_TABLES = ['mcp_servers', 'mcp_tools'] as const;
export const V2_TABLES = ['resources', 'capabilities', 'federation_nodes', 'cost_tracking', 'principal_budgets'] as const;

export interface SchemaState {
  hasLedger: boolean;
  applied: string[];
  alembicVersion: string | null;
  v1Tables: boolean;
  v2Tables: boolean;
  /** The newest applied migration, or the Alembic revision when there is no ledger yet. */
  schemaVersion: string | null;
}

export async function readSchemaState(sql: Sql): Promise<SchemaState> {
  const [row] = await sql<{ ledger: boolean; alembic: boolean; v1: number; v2: number }[]>`
    select to_regclass('public.pgmigrations') is not null as ledger,
           to_regclass('public.alembic_version') is not null as alembic,
           (select count(*) from unnest(${V1_TABLES as unknown as string[]}::text[]) t where to_regclass('public.' || t) is not null)::int as v1,
           (select count(*) from unnest(${V2_TABLES as unknown as string[]}::text[]) t where to_regclass('public.' || t) is not null)::int as v2`;
  const applied = row!.ledger ? (await sql<{ name: string }[]>`select name from public.pgmigrations order by run_on, id`).map((r) => r.name) : [];
  const alembicVersion = row!.alembic ? ((await sql<{ v: string }[]>`select version_num as v from public.alembic_version limit 1`)[0]?.v ?? null) : null;
  return {
    hasLedger: row!.ledger,
    applied,
    alembicVersion,
    v1Tables: row!.v1 === V1_TABLES.length,
    v2Tables: row!.v2 === V2_TABLES.length,
    schemaVersion: applied.at(-1) ?? alembicVersion,
  };
}
