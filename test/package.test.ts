/**
 * The tool as a DBA installs it: `npm pack` (which builds dist/), a global install of the tarball
 * into a throwaway prefix, then the installed command run from a directory that is not the
 * checkout, with no development dependencies anywhere near it.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/db/sqlFiles.ts';
import { freshDatabase, type TestDatabase } from './support/db.ts';

let dir: string;
let bin: string;
let elsewhere: string;
let db: TestDatabase;

/** The environment of a shell that has nothing of ours: no DATABASE_URL, no PG* variables. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (k !== 'DATABASE_URL' && !k.startsWith('PG') && !k.startsWith('SARK_')) env[k] = v;
  return { ...env, NO_COLOR: '1', ...extra };
}

function installed(args: string[], extra: Record<string, string> = {}) {
  return spawnSync(bin, args, { cwd: elsewhere, encoding: 'utf8', env: cleanEnv(extra), timeout: 180_000 });
}

beforeAll(async () => {
  db = await freshDatabase('v1');
  dir = mkdtempSync(join(tmpdir(), 'sark-package-'));
  // As a global prefix is: run as root, the server runs as the postgres OS user and must reach it.
  chmodSync(dir, 0o755);
  const pack = spawnSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  expect(pack.status, pack.stderr).toBe(0);
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
  const prefix = join(dir, 'prefix');
  // --prefer-offline: the only dependency left to fetch is the optional npm-packaged PostgreSQL,
  // already in the cache from `npm ci`.
  const install = spawnSync('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', join(dir, tarball)], {
    cwd: dir,
    encoding: 'utf8',
  });
  expect(install.status, install.stderr).toBe(0);
  bin = join(prefix, 'bin', 'sark-migrate');
  elsewhere = join(dir, 'elsewhere');
  mkdirSync(elsewhere);
}, 300_000);

afterAll(async () => {
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the packed tool, installed globally', () => {
  it('ships compiled JavaScript and the SQL, not the TypeScript sources', () => {
    const pkg = join(dir, 'prefix', 'lib', 'node_modules', 'sark-migrate');
    expect(existsSync(join(pkg, 'dist', 'cli.js'))).toBe(true);
    expect(existsSync(join(pkg, 'sql', 'mapping'))).toBe(true);
    expect(existsSync(join(pkg, 'migrations'))).toBe(true);
    expect(existsSync(join(pkg, 'src'))).toBe(false);
    expect(existsSync(join(pkg, 'node_modules', 'tsx'))).toBe(false);
  });

  it('answers --help in under 0.3 s (best of 5 on this machine)', () => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const r = installed(['--help']);
      times.push(performance.now() - t);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/sark-migrate <command>/);
    }
    const best = Math.min(...times);
    console.log(`installed sark-migrate --help: best ${best.toFixed(0)} ms of ${times.map((t) => t.toFixed(0)).join(', ')}`);
    expect(best).toBeLessThan(300);
  });

  it('runs preflight against a database from another directory', () => {
    const r = installed(['preflight', '--json', '--database-url', db.url]);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    const result = JSON.parse(r.stdout);
    expect(result.status).toBe('passed');
    expect(r.status).toBe(0);
  });

  it('runs the demo on the npm-packaged PostgreSQL, on a machine with no client tools', () => {
    const r = installed(['demo', '--servers', '200', '--json'], { SARK_THROWAWAY: 'embedded', PG_CLIENT_BINDIR: join(dir, 'no-client-tools') });
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.server).toBe('embedded');
    expect(result.report.status).toBe('passed');
    expect(r.stderr).toMatch(/backup skipped: no pg_dump/);
    expect(existsSync(join(elsewhere, 'reports', 'demo_validation_report.json'))).toBe(true);
  });
});
