/**
 * The make targets a DBA runs, each against a real database through DATABASE_URL, in runbook order.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../src/commands/seed.ts';
import { PROJECT_ROOT } from '../src/db/sqlFiles.ts';
import { freshDatabase, type TestDatabase } from './support/db.ts';
import { backupToolsTooOld } from './support/pgTools.ts';

let db: TestDatabase;
let dir: string;

beforeAll(async () => {
  db = await freshDatabase('v1');
  await seed(await db.context(), { servers: 40, toolsPerServer: 3, dirty: false });
  dir = mkdtempSync(join(tmpdir(), 'sark-make-'));
});
afterAll(async () => {
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

function make(target: string, vars: Record<string, string> = {}) {
  const r = spawnSync('make', ['--no-print-directory', target, `DATABASE_URL=${db.url}`, ...Object.entries(vars).map(([k, v]) => `${k}=${v}`)], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', CI: '1' },
    timeout: 120_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('make targets, in runbook order, against DATABASE_URL', () => {
  it.skipIf(backupToolsTooOld())('status, preflight, backup, schema, migrate-dry-run, migrate, validate, sync-status, optimize-report, rollback-dry-run', () => {
    expect(make('status').out).toMatch(/phase:\s+v1/);
    const counts = join(dir, 'counts.json');
    expect(make('preflight', { COUNTS: counts }).status).toBe(0);
    expect(existsSync(counts)).toBe(true);
    const archive = join(dir, 'pre.dump');
    expect(make('backup', { OUT: archive }).status).toBe(0);
    expect(existsSync(archive)).toBe(true);
    expect(make('schema').out).toMatch(/007_federation/);
    expect(make('migrate-dry-run').out).toMatch(/plan \(nothing was changed\)/);
    expect(make('migrate', { BATCH: '50' }).status).toBe(0);
    const report = join(dir, 'report.json');
    const validate = make('validate', { OUT: report });
    expect(validate.out).toMatch(/STATUS: VALIDATION PASSED/);
    expect(existsSync(report)).toBe(true);
    expect(make('validate-quick').status).toBe(0);
    expect(make('sync-status').out).toMatch(/syncing/);
    expect(make('optimize-report').status).toBe(0);
    expect(make('rollback-dry-run').out).toMatch(/rollback plan/);
    expect(make('status').out).toMatch(/phase:\s+syncing/);
  });

  it('rollback as the README says: make migrate, make rollback, make schema-down, back at v1', () => {
    if (!/007_federation/.test(make('status').out)) expect(make('schema').status).toBe(0);
    expect(make('migrate').status).toBe(0);
    expect(make('status').out).toMatch(/phase:\s+syncing/);
    const rollback = make('rollback');
    expect(rollback.status, rollback.out).toBe(0);
    expect(rollback.out).toMatch(/forward sync turned off first/);
    expect(make('status').out).toMatch(/phase:\s+schema-applied/);
    const down = make('schema-down');
    expect(down.status, down.out).toBe(0);
    expect(make('status').out).toMatch(/phase:\s+v1/);
  });

  it('refuses the dangerous ones without their confirmation', () => {
    expect(make('restore', { FROM: join(dir, 'pre.dump') }).status).not.toBe(0);
    expect(make('decommission').status).not.toBe(0);
  });
});
