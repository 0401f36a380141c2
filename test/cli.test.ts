import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, runCli, type TestDatabase } from './support/db.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase('v1');
});
afterAll(async () => db.drop());

describe('exit codes and errors (docs/CONTRACT.md)', () => {
  it('exits 2 on an unknown command or flag, with the fix', () => {
    const r = runCli(['frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^error: /m);
    expect(r.stderr).toMatch(/^fix: /m);
    const typo = runCli(['status', '--no-such-flag', '--databse-url', db.url]);
    expect(typo.status).toBe(2);
    // Named as typed (yargs said "such-flag, suchFlag" for --no-such-flag).
    expect(typo.stderr).toMatch(/^error: Unknown options: --no-such-flag, --databse-url\.$/m);
    expect(r.stderr).toMatch(/^error: Unknown command or argument: frobnicate\.$/m);
  });

  it('says in --json why it exits 1', async () => {
    const empty = await freshDatabase('empty');
    try {
      const r = runCli(['preflight', '--json', '--database-url', empty.url]);
      expect(r.status).toBe(1);
      expect(r.json().exit).toEqual({ code: 1, reason: expect.stringMatching(/^1 blocker\(s\): prerequisites\./) });
    } finally {
      await empty.drop();
    }
  });

  it('exits 2 on a bad value, naming the flag', () => {
    const r = runCli(['status', '--lock-timeout', 'soon', '--database-url', db.url]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--lock-timeout is invalid/);
    const bad = runCli(['schema', 'up', '--to', '999', '--database-url', db.url]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--to 999 names no migration/);
  });

  it('exits 2 on a URL that is not a PostgreSQL URL', () => {
    const r = runCli(['status', '--database-url', 'mysql://x@y/z']);
    expect(r.status).toBe(2);
  });

  it('exits 3 when the database cannot be reached, and never prints the password', () => {
    const r = runCli(['status', '--json', '--database-url', 'postgresql://sark:s3cr3t-pw@127.0.0.1:1/sark']);
    expect(r.status).toBe(3);
    expect(r.stdout + r.stderr).not.toContain('s3cr3t-pw');
    expect(r.stderr).toContain('postgresql://sark:***@127.0.0.1:1/sark');
    expect(r.json().error.exit_code).toBe(3);
  });

  it('exits 3 when the database does not exist', () => {
    const r = runCli(['status', '--database-url', db.url.replace(db.conn.database, 'no_such_db')]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/does not exist/);
  });

  it('reads the libpq PG* variables when no URL is given', () => {
    const r = runCli(['status', '--json'], {
      DATABASE_URL: undefined,
      PGHOST: db.conn.host,
      PGPORT: String(db.conn.port),
      PGUSER: db.conn.user,
      PGDATABASE: db.conn.database,
      PGSSLMODE: 'disable',
    });
    expect(r.status).toBe(0);
    expect(r.json().schema_version).toBe('005_gateway_audit');
  });
});

describe('status', () => {
  it('answers the runbook health check before and after schema up', async () => {
    const before = runCli(['status', '--json', '--database-url', db.url]);
    expect(before.status).toBe(0);
    expect(before.json()).toMatchObject({ database_version: '1.x', schema_version: '005_gateway_audit', phase: 'v1' });
    expect(before.json().counts.v1_servers).toBe(0);

    expect(runCli(['schema', 'up', '--database-url', db.url]).status).toBe(0);
    const after = runCli(['status', '--json', '--database-url', db.url]);
    expect(after.json()).toMatchObject({ database_version: '2.0', schema_version: '007_federation', phase: 'schema-applied' });
    expect(after.json().counts.v2_resources).toBe(0);
  });

  it('shows the tool in pg_stat_activity as application_name sark-migrate', async () => {
    const ctx = await db.context();
    const [row] = await ctx.sql<{ name: string }[]>`select current_setting('application_name') as name`;
    expect(row!.name).toBe('sark-migrate');
  });
});
