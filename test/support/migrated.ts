/**
 * Seeded and migrated databases for the validation tests. A test file builds one template per
 * kind of data (seed v1 → schema up → data copy → ANALYZE, as the runbook does), then every test
 * clones it in milliseconds (CREATE DATABASE … TEMPLATE) and breaks its own copy on purpose.
 */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { toUrl, type ConnectionSettings } from '../../src/config/connection.ts';
import { GlobalOptions, openContext, type Context } from '../../src/context.ts';
import { seed, type SeedOptions } from '../../src/commands/seed.ts';
import { openSql, type Sql } from '../../src/db/connect.ts';
import { installDefinitions } from '../../src/db/definitions.ts';
import { quoteIdent } from '../../src/db/throwaway.ts';
import { copyData } from '../../src/data/copy.ts';
import { schemaUp } from '../../src/schema/migrate.ts';

import { output } from '../../src/output.ts';

output.quiet = true;
const admin = () => inject('pgAdmin');

async function adminExec(statement: string) {
  const sql = openSql(admin(), {}, 1);
  try {
    await sql.unsafe(statement);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Phase 1 and 2 on a v1 database: seed, schema up, copy, ANALYZE. */
export async function seedAndMigrate(ctx: Context, o: SeedOptions): Promise<void> {
  await seed(ctx, o);
  await schemaUp(ctx, {});
  await installDefinitions(ctx.sql);
  await copyData(ctx, {});
  await ctx.sql`analyze`;
}

export interface MigratedTemplate {
  name: string;
  drop(): Promise<void>;
}

/** A migrated database to clone, built from the run's v1 template. */
export async function migratedTemplate(o: SeedOptions): Promise<MigratedTemplate> {
  const name = `tm_${randomBytes(5).toString('hex')}`;
  await adminExec(`create database ${quoteIdent(name)} template ${quoteIdent(`${inject('templatePrefix')}_v1`)}`);
  const ctx = await openContext(GlobalOptions.parse({}), { ...admin(), database: name });
  try {
    await seedAndMigrate(ctx, o);
  } finally {
    await ctx.close();
  }
  return { name, drop: () => adminExec(`drop database if exists ${quoteIdent(name)} with (force)`) };
}

export interface ClonedDatabase {
  name: string;
  conn: ConnectionSettings;
  url: string;
  sql: Sql;
  context(): Promise<Context>;
  drop(): Promise<void>;
}

export async function cloneDatabase(template: string): Promise<ClonedDatabase> {
  const name = `tc_${randomBytes(5).toString('hex')}`;
  await adminExec(`create database ${quoteIdent(name)} template ${quoteIdent(template)}`);
  const conn = { ...admin(), database: name };
  const sql = openSql(conn, {}, 2);
  const contexts: Context[] = [];
  return {
    name,
    conn,
    url: toUrl(conn),
    sql,
    async context() {
      const ctx = await openContext(GlobalOptions.parse({}), conn);
      contexts.push(ctx);
      return ctx;
    },
    async drop() {
      await Promise.all(contexts.map((c) => c.close()));
      await sql.end({ timeout: 5 });
      await adminExec(`drop database if exists ${quoteIdent(name)} with (force)`);
    },
  };
}
