/**
 * Whether this machine can back up the test server: pg_dump refuses a server newer than itself,
 * and the npm-packaged PostgreSQL builds `make test-matrix` uses ship no client tools. Tests that
 * need pg_dump are skipped only for that reason (a client older than the server), with the reason
 * printed; a machine with no pg_dump at all still fails them, as it should.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { findPgTool } from '../../src/backup/pgtools.ts';

let tooOld: string | false | undefined;

/** The reason the pg_dump tests cannot run here, or false; looked up once per test file. */
export function backupToolsTooOld(): string | false {
  tooOld ??= lookUpBackupTools();
  return tooOld;
}

function lookUpBackupTools(): string | false {
  const major = inject('pgServerMajor');
  try {
    findPgTool('pg_dump', major);
    findPgTool('pg_restore', major);
    return false;
  } catch (e) {
    const message = (e as Error).message;
    if (!/older than required/.test(message)) return false;
    process.stderr.write(`skipping the tests that need pg_dump on PostgreSQL ${major}: ${message}\n`);
    return message;
  }
}

/**
 * A client program for the test server: the server's own bin directory when it has one (Debian's
 * does), else, for the npm builds that ship only server binaries, pg_restore of a suitable version
 * or psql from the PATH (any psql speaks to any supported server).
 */
export function clientBinary(name: 'psql' | 'pg_restore'): string {
  const bindir = inject('pgBindir');
  if (bindir && existsSync(join(bindir, name))) return join(bindir, name);
  return name === 'pg_restore' ? findPgTool('pg_restore', inject('pgServerMajor')).path : name;
}
