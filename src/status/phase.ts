/**
 * The migration phase, derived from facts in the database rather than stored, so it can never
 * disagree with them:
 *
 *   v1 → schema-applied → copied → syncing → cutover → decommissioned
 *
 * Read-only; works on any database (objects that do not exist yet simply answer "not yet").
 */
import type { Sql } from '../db/connect.ts';
import { readSchemaState, type SchemaState } from '../schema/state.ts';

export const PHASES = ['v1', 'schema-applied', 'copied', 'syncing', 'cutover', 'decommissioned'] as const;
export type Phase = (typeof PHASES)[number];

/** Trigger name prefixes installed by sql/sync: forward on the v1 tables, reverse on the v2 tables. */
export const FORWARD_SYNC_TRIGGER = 'sark_sync_forward';
export const REVERSE_SYNC_TRIGGER = 'sark_sync_reverse';

export interface Counts {
  v1_servers: number | null;
  v1_tools: number | null;
  v2_resources: number | null;
  v2_mcp_resources: number | null;
  v2_capabilities: number | null;
  quarantined: number | null;
}

export interface DatabaseStatus {
  database_version: '1.x' | '2.0';
  schema_version: string | null;
  alembic_version: string | null;
  phase: Phase;
  counts: Counts;
}

export async function readStatus(sql: Sql): Promise<DatabaseStatus> {
  const schema = await readSchemaState(sql);
  const directions = await syncDirections(sql);
  // Before the mapping is installed there is no copy_completed(): nothing was copied then.
  const [copy] = await sql<{ copied: boolean }[]>`select coalesce(sark_migration.copy_completed(), false) as copied`.catch(() => [{ copied: false }]);
  return {
    database_version: isV2(schema) ? '2.0' : '1.x',
    schema_version: schema.schemaVersion,
    alembic_version: schema.alembicVersion,
    phase: phaseOf(schema, { ...directions, copied: copy!.copied }),
    counts: await readCounts(sql, schema),
  };
}

/**
 * Which directions of the sync have triggers, from the catalog alone: what the phase and the copy
 * need (readSyncState also counts every table's rows, 9 of the 9.5 s a no-op `data --execute`
 * took at 1,000,000 servers / 10,000,000 tools when the copy asked it).
 */
export async function syncDirections(sql: Sql): Promise<{ forward: boolean; reverse: boolean }> {
  const [row] = await sql<{ forward: boolean; reverse: boolean }[]>`
    select exists (select 1 from pg_trigger where tgname like ${FORWARD_SYNC_TRIGGER + '%'} and not tgisinternal) as forward,
           exists (select 1 from pg_trigger where tgname like ${REVERSE_SYNC_TRIGGER + '%'} and not tgisinternal) as reverse`;
  return row!;
}

const isV2 = (s: SchemaState) => s.v2Tables && (s.schemaVersion ?? '') >= '006';

function phaseOf(s: SchemaState, f: { forward: boolean; reverse: boolean; copied: boolean }): Phase {
  if (s.v2Tables && !s.v1Tables) return 'decommissioned';
  if (!s.v2Tables) return 'v1';
  if (f.reverse) return 'cutover';
  if (f.forward) return 'syncing';
  if (f.copied) return 'copied';
  return 'schema-applied';
}

async function readCounts(sql: Sql, s: SchemaState): Promise<Counts> {
  const count = async (query: string, when: boolean) => (when ? Number((await sql.unsafe(query))[0]!.n) : null);
  const quarantine = await sql<{ ok: boolean }[]>`select to_regclass('sark_migration.quarantine') is not null as ok`;
  return {
    v1_servers: await count('select count(*) as n from public.mcp_servers', s.v1Tables),
    v1_tools: await count('select count(*) as n from public.mcp_tools', s.v1Tables),
    v2_resources: await count('select count(*) as n from public.resources', s.v2Tables),
    v2_mcp_resources: await count(`select count(*) as n from public.resources where protocol = 'mcp'`, s.v2Tables),
    v2_capabilities: await count('select count(*) as n from public.capabilities', s.v2Tables),
    quarantined: await count('select count(*) as n from sark_migration.quarantine', quarantine[0]!.ok),
  };
}
