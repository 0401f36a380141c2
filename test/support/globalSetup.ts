/**
 * One throwaway PostgreSQL for the whole run (or DATABASE_URL's server), and template databases
 * each test file clones in milliseconds: `tpl_empty` (nothing) and `tpl_v1` (SARK v1 at 005).
 */
import type { TestProject } from 'vitest/node';
import type { ConnectionSettings } from '../../src/config/connection.ts';
import { GlobalOptions, withContext } from '../../src/context.ts';
import { createDatabase, dropDatabase, startThrowawayServer, type PostgresServer } from '../../src/db/throwaway.ts';
import { schemaUp } from '../../src/schema/migrate.ts';
import { openSql } from '../../src/db/connect.ts';
import { output } from '../../src/output.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdmin: ConnectionSettings;
    pgBindir: string;
    templatePrefix: string;
    /** the server's major version, e.g. 15 */
    pgServerMajor: number;
  }
}

let server: PostgresServer | undefined;

export async function setup(project: TestProject) {
  output.quiet = true;
  server = await startThrowawayServer();
  const prefix = `sarkt_${process.pid}`;
  await dropDatabase(server, `${prefix}_empty`);
  await dropDatabase(server, `${prefix}_v1`);
  await createDatabase(server, `${prefix}_empty`);
  const v1 = await createDatabase(server, `${prefix}_v1`);
  await withContext(GlobalOptions.parse({}), (ctx) => schemaUp(ctx, { to: '005' }), v1);
  project.provide('pgAdmin', server.admin);
  project.provide('pgBindir', server.bindir ?? '');
  project.provide('templatePrefix', prefix);
  const admin = openSql(server.admin, {}, 1);
  try {
    const [row] = await admin<{ n: number }[]>`select current_setting('server_version_num')::int / 10000 as n`;
    project.provide('pgServerMajor', row!.n);
  } finally {
    await admin.end({ timeout: 5 });
  }
}

export async function teardown() {
  if (!server) return;
  const prefix = `sarkt_${process.pid}`;
  if (server.kind === 'external') {
    await dropDatabase(server, `${prefix}_empty`);
    await dropDatabase(server, `${prefix}_v1`);
  }
  await server.stop();
}
