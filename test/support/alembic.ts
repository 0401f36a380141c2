/**
 * Builds databases the way SARK's own Alembic leaves them: the v1 schema without any
 * node-pg-migrate ledger, plus alembic_version. The DDL is the Up sections of our migrations (they
 * reproduce Alembic's revisions), run directly; the fixtures add what differs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sql } from '../../src/db/connect.ts';
import { PROJECT_ROOT, runScript } from '../../src/db/sqlFiles.ts';
import { migrationIds, upSection } from '../../src/schema/state.ts';

/** Runs the Up sections of the migrations up to and including `through`, with no ledger. */
export async function buildWithoutLedger(sql: Sql, through: string): Promise<void> {
  for (const id of migrationIds()) {
    await sql.begin((tx) => tx.unsafe(upSection(id)));
    if (id.startsWith(through)) break;
  }
}

export async function applyFixture(sql: Sql, name: string): Promise<void> {
  await runScript(sql, readFileSync(join(PROJECT_ROOT, 'test', 'fixtures', name), 'utf8'));
}

/** A SARK v1 database at Alembic head 005_gateway_audit, as SARK's Alembic builds it. */
export async function buildAlembicV1(sql: Sql): Promise<void> {
  await buildWithoutLedger(sql, '005');
  await applyFixture(sql, 'alembic_v1_005.sql');
}
