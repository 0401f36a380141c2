/**
 * Phase 1, the versioned DDL: node-pg-migrate applies migrations/*.sql, each in its own transaction
 * with its ledger row. This module adds what a real SARK database needs around that:
 *
 *  - adoption: a database SARK's Alembic built has no node-pg-migrate ledger. At `005_gateway_audit`
 *    the migrations 001–005 are recorded as applied without running them; at `007_federation`
 *    001–007 are. A database with v1 tables and neither ledger is refused unless --baseline says
 *    which migration its schema corresponds to.
 *  - alembic_version is kept equal to the newest applied migration, so SARK's own tooling sees head.
 *  - every DDL session has a short lock_timeout and is retried with backoff (db/retry.ts).
 *  - the hash of every applied migration file is recorded (drift detection).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runner } from 'node-pg-migrate';
import { openPgClient } from '../db/connect.ts';
import { withLockRetry } from '../db/retry.ts';
import { applySqlFile, ensureLedger, MIGRATIONS_DIR, projectPath, runScript, sha256, SQL_DIR } from '../db/sqlFiles.ts';
import { refused, usageError } from '../errors.ts';
import { log } from '../output.ts';
import { requirePrivileges } from '../preflight/privileges.ts';
import type { Context } from '../context.ts';
import { buildMigrationIndexes } from './indexes.ts';
import { precreatedPending, restoreTakenOver, takeOverPrecreated } from './precreated.ts';
import { uninstallTool, type Uninstalled } from './uninstall.ts';
import { MIGRATIONS_TABLE, migrationIds, readSchemaState, resolveMigrationId, type SchemaState } from './state.ts';

/** Alembic revisions SARK ships, which we know how to adopt, and the migration each corresponds to. */
const ADOPTABLE_ALEMBIC = new Set(['005_gateway_audit', '007_federation']);

export interface SchemaChange {
  from: string | null;
  to: string | null;
  adopted: string[];
  applied: string[];
  reverted: string[];
  alembic_version: string | null;
  /** v2 tables SARK's application had created, empty, that schema up took over (sql/tool/004) */
  taken_over?: string[];
  /** schema down below 006: what was left of the tool's own objects (sql/tool/uninstall.sql) */
  tool?: Uninstalled;
}

export async function schemaUp(ctx: Context, opts: { to?: string; baseline?: string }): Promise<SchemaChange> {
  const target = opts.to ? mustResolve(opts.to, '--to') : migrationIds().at(-1)!;
  const before = await readSchemaState(ctx.sql);
  if (migrationIds().indexOf(target) > before.applied.length - 1) await requirePrivileges(ctx, ['schema'], 'schema up');
  const adopted = await adoptIfNeeded(ctx, before, opts.baseline);
  const state = adopted.length ? await readSchemaState(ctx.sql) : before;
  const ids = migrationIds();
  if (ids.indexOf(target) < state.applied.length - 1) {
    throw refused(`The database is already past ${target} (at ${state.schemaVersion}).`, `Use \`schema down --to ${target}\` to go back.`);
  }
  const takenOver = ids.indexOf(target) >= ids.indexOf('006_protocol_adapters') && (await precreatedPending(ctx.sql, state.applied, state.alembicVersion))
    ? await takeOverPrecreated(ctx)
    : [];
  const applied = await migrate(ctx, 'up', target);
  await restoreTakenOver(ctx);
  const alembic = await syncAlembicVersion(ctx);
  await recordMigrationHashes(ctx);
  // Every migration up to the target, not only those run now: a re-run finishes what a crash or
  // a failed concurrent build left undone (and what an adopted database lacks).
  await buildMigrationIndexes(ctx, ids.slice(0, ids.indexOf(target) + 1));
  return {
    from: before.schemaVersion,
    to: (await readSchemaState(ctx.sql)).schemaVersion,
    adopted,
    applied,
    reverted: [],
    alembic_version: alembic,
    ...(takenOver.length ? { taken_over: takenOver } : {}),
  };
}

export async function schemaDown(ctx: Context, opts: { to: string; force?: boolean; keepLedgers?: boolean }): Promise<SchemaChange> {
  const target = mustResolve(opts.to, '--to');
  const before = await readSchemaState(ctx.sql);
  if (!before.hasLedger) {
    throw refused('This database has no sark-migrate ledger, so there is nothing it applied to revert.', 'Run `schema status` to see its state; `schema up` adopts an Alembic-managed database first.');
  }
  if (target < '006' && before.v2Tables) {
    await refuseLosingV2(ctx, opts.force ?? false);
    await runScript(ctx.sql, readFileSync(join(SQL_DIR, 'tool', 'drop_definition_views.sql'), 'utf8'));
  }
  const reverted = await migrate(ctx, 'down', target);
  const alembic = await syncAlembicVersion(ctx);
  await forgetMigrationHashes(ctx, reverted);
  // Back at v1: the tool's own objects go too (the ledgers stay only when asked), so v1 is as it was.
  const tool = target < '006' ? await uninstallTool(ctx, { keepLedgers: opts.keepLedgers ?? false, dropSchemaLedger: false }) : undefined;
  return { from: before.schemaVersion, to: (await readSchemaState(ctx.sql)).schemaVersion, adopted: [], applied: [], reverted, alembic_version: alembic, ...(tool ? { tool } : {}) };
}

/**
 * Dropping the v2 tables must not take data or the sync with it: refused while the sync triggers
 * exist (v1 writes would fail on the missing tables) and, unless forced, while v2 tables hold rows.
 */
async function refuseLosingV2(ctx: Context, force: boolean): Promise<void> {
  const [facts] = await ctx.sql<{ triggers: number; rows: number }[]>`
    select (select count(*) from pg_trigger where tgname like 'sark_sync_%')::int as triggers,
           (select count(*) from (select 1 from public.resources union all select 1 from public.capabilities
                                  union all select 1 from public.federation_nodes union all select 1 from public.cost_tracking
                                  union all select 1 from public.principal_budgets limit 1) x)::int as rows`;
  if (facts!.triggers > 0) {
    throw refused('The sync triggers are installed: dropping the v2 tables now would make every v1 write fail.', 'Run `sark-migrate sync --disable` (or `sync --rollback` at cutover) first.');
  }
  if (facts!.rows > 0 && !force) {
    throw refused(
      'The v2 tables still hold rows; going below 006 would drop them.',
      'Run `sark-migrate data --rollback` to remove what the migration wrote (v2-native rows stay and need a decision), or pass --force to drop them anyway.',
    );
  }
}

function mustResolve(ref: string, flag: string): string {
  const id = resolveMigrationId(ref);
  if (!id) throw usageError(`${flag} ${ref} names no migration.`, `Use one of: ${migrationIds().join(', ')}.`);
  return id;
}

/**
 * Records migrations as applied without running them when the schema they create is already there.
 * Returns the ids recorded.
 */
async function adoptIfNeeded(ctx: Context, state: SchemaState, baseline?: string): Promise<string[]> {
  if (state.hasLedger && state.applied.length > 0) {
    if (baseline) log.warn('--baseline ignored: this database already has a sark-migrate ledger.');
    return [];
  }
  let adoptAt: string | undefined;
  if (baseline) {
    adoptAt = mustResolve(baseline, '--baseline');
  } else if (state.alembicVersion !== null) {
    if (!ADOPTABLE_ALEMBIC.has(state.alembicVersion)) {
      throw refused(
        `alembic_version is ${state.alembicVersion}, a revision sark-migrate cannot adopt (it knows ${[...ADOPTABLE_ALEMBIC].join(' and ')}).`,
        'Bring the database to 005_gateway_audit with SARK\'s own `alembic upgrade 005_gateway_audit`, or pass --baseline <id> if you know its schema matches that migration.',
      );
    }
    if (!state.v1Tables) {
      throw refused(`alembic_version says ${state.alembicVersion}, but the v1 tables mcp_servers/mcp_tools are missing.`, 'Check that DATABASE_URL points at the SARK database.');
    }
    adoptAt = state.alembicVersion;
  } else if (state.v1Tables || state.v2Tables) {
    throw refused(
      'This database has SARK tables but neither an alembic_version nor a sark-migrate ledger, so its schema version is unknown.',
      'If its schema is SARK v1 at head, re-run with --baseline 005 (the migrations 001–005 will be recorded, not run).',
    );
  }
  if (!adoptAt) return [];
  const ids = migrationIds();
  const upTo = ids.slice(0, ids.indexOf(adoptAt) + 1);
  log.info(`adopting an existing schema at ${adoptAt}: recording ${upTo.join(', ')} as applied without running them`);
  const client = await openPgClient(ctx.conn);
  try {
    await runner({ ...runnerBase(), dbClient: client, direction: 'up', count: upTo.length, fake: true });
  } finally {
    await client.end().catch(() => {});
  }
  return upTo;
}

/** Runs migrations up or down to `target` with lock_timeout and retries; returns the ids run. */
async function migrate(ctx: Context, direction: 'up' | 'down', target: string): Promise<string[]> {
  const ids = migrationIds();
  const done: string[] = [];
  await withLockRetry(`schema ${direction}`, async () => {
    const client = await openPgClient(ctx.conn, { lock_timeout: ctx.options.lockTimeout, statement_timeout: ctx.options.statementTimeout });
    try {
      const applied = (await readSchemaState(ctx.sql)).applied;
      const count = direction === 'up' ? ids.indexOf(target) + 1 - applied.length : applied.length - (applied.indexOf(target) + 1);
      if (count <= 0) return;
      const ran = await runner({ ...runnerBase(), dbClient: client, direction, count });
      for (const m of ran) {
        done.push(m.name);
        log.ok(`${direction === 'up' ? 'applied' : 'reverted'} ${m.name}`);
      }
    } finally {
      await client.end().catch(() => {});
    }
  }, undefined, { sql: ctx.sql, tables: MIGRATED_TABLES });
  return done;
}

/** The existing tables 006/007 alter or reference (the v2 tables, for schema down). */
const MIGRATED_TABLES = ['public.audit_events', 'public.resources', 'public.capabilities', 'public.cost_tracking', 'public.federation_nodes', 'public.principal_budgets'];

function runnerBase() {
  return {
    dir: MIGRATIONS_DIR,
    migrationsTable: MIGRATIONS_TABLE,
    schema: 'public',
    checkOrder: true,
    singleTransaction: false,
    // Its errors reach the operator once, as a SarkError with the fix; its own log of them is debug.
    logger: { debug: () => {}, info: (m: string) => log.debug(m), warn: (m: string) => log.warn(m), error: (m: string) => log.debug(m) },
  } as const;
}

/**
 * SARK's Alembic reads alembic_version to know the head; the migration ids are SARK's revision ids,
 * so the newest applied migration is written there (sql/tool/005, which psql users call too).
 */
async function syncAlembicVersion(ctx: Context): Promise<string | null> {
  await ensureLedger(ctx.sql);
  await applySqlFile(ctx.sql, join(SQL_DIR, 'tool', '005_migration_ledger.sql'));
  const [row] = await ctx.sql<{ head: string | null }[]>`select sark_migration.set_alembic_head() as head`;
  return row!.head;
}

async function recordMigrationHashes(ctx: Context): Promise<void> {
  await ensureLedger(ctx.sql);
  const applied = (await readSchemaState(ctx.sql)).applied;
  for (const id of applied) {
    const file = join(MIGRATIONS_DIR, `${id}.sql`);
    await ctx.sql`
      insert into sark_migration.applied_files (path, sha256) values (${projectPath(file)}, ${sha256(readFileSync(file, 'utf8'))})
      on conflict (path) do nothing`;
  }
}

/** A reverted migration is no longer applied: its recorded hash must not flag a later edit as drift. */
async function forgetMigrationHashes(ctx: Context, reverted: string[]): Promise<void> {
  if (reverted.length === 0) return;
  const paths = reverted.map((id) => projectPath(join(MIGRATIONS_DIR, `${id}.sql`)));
  await ctx.sql`delete from sark_migration.applied_files where path = any(${paths})`.catch(() => {});
}
