/**
 * The GitHub Actions example runs: its rehearsal script (examples/github-actions/rehearse.sh, every
 * command the workflow runs) on a fresh database, connected the way the workflow connects (PG*
 * variables, no DATABASE_URL), pg_prove included. A failing step fails this test.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/db/sqlFiles.ts';
import { freshDatabase, type TestDatabase } from './support/db.ts';

let db: TestDatabase;
let reports: string;
beforeAll(async () => {
  db = await freshDatabase('empty');
  reports = mkdtempSync(join(tmpdir(), 'sark-ci-example-'));
});
afterAll(async () => {
  await db.drop();
  rmSync(reports, { recursive: true, force: true });
});

const proveAvailable = spawnSync('pg_prove', ['--version']).status === 0;

describe.skipIf(!proveAvailable)('the GitHub Actions example', () => {
  it('rehearses every phase on dirty data and proves the pgTAP suites, before and after optimize', () => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (k !== 'DATABASE_URL' && !k.startsWith('PG')) env[k] = v;
    Object.assign(env, {
      PGHOST: db.conn.host,
      PGPORT: String(db.conn.port),
      PGUSER: db.conn.user,
      PGDATABASE: db.conn.database,
      PGSSLMODE: 'disable',
      SERVERS: '150',
      REPORTS: reports,
      NO_COLOR: '1',
    });
    const r = spawnSync(join(PROJECT_ROOT, 'examples', 'github-actions', 'rehearse.sh'), { env, encoding: 'utf8', timeout: 240_000 });
    expect(r.status, `${r.stdout}\n${r.stderr}`.slice(-3000)).toBe(0);
    expect(r.stdout).toMatch(/quarantined v1 rows \(not copied, with their reasons\): [1-9]/);
    expect(r.stdout.match(/^Result: PASS$/gm)).toHaveLength(2);
    const report = JSON.parse(readFileSync(join(reports, 'validation_report.json'), 'utf8'));
    expect(report.status).toBe('passed');
    expect(JSON.parse(readFileSync(join(reports, 'preflight.json'), 'utf8')).status).not.toBe('blocked');
  });
});
