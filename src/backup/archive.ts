/**
 * A backup is two files: the pg_dump custom-format archive and its sidecar `<archive>.json`, which
 * records what was proven about the archive when it was made (size, SHA-256, table list, readable
 * by pg_restore) and what the tables held (row counts and a content fingerprint, read in the very
 * snapshot pg_dump dumped). `restore` checks against it; `decommission` asks
 * latestVerifiedBackup() whether a fresh, verified one exists. File-based on purpose: taking a
 * backup writes nothing to the database.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { Sql } from '../db/connect.ts';

export const SIDECAR_FORMAT = 'sark-migrate-backup/1';

const Fingerprint = z.object({ rows: z.number(), content_hash: z.string() });
export type Fingerprint = z.infer<typeof Fingerprint>;

export const BackupSidecar = z.object({
  format: z.literal(SIDECAR_FORMAT),
  /** The archive's file name; it is looked for next to the sidecar, so the pair can be moved together. */
  archive: z.string(),
  archive_path: z.string(),
  size_bytes: z.number(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  created_at: z.string(),
  finished_at: z.string(),
  duration_seconds: z.number(),
  database: z.object({
    where: z.string(),
    host: z.string(),
    port: z.number(),
    database: z.string(),
    server_version: z.string(),
    server_version_num: z.number(),
  }),
  pg_dump: z.object({ path: z.string(), version: z.string(), major: z.number() }),
  /** shared: counts and fingerprints were read in pg_dump's own snapshot (exported to it). */
  snapshot: z.enum(['shared', 'separate']),
  schema_version: z.string().nullable(),
  alembic_version: z.string().nullable(),
  toc_entries: z.number(),
  tables: z.array(z.string()),
  v1_counts: z.object({ mcp_servers: z.number().nullable(), mcp_tools: z.number().nullable() }),
  fingerprints: z.record(z.string(), Fingerprint),
  verified: z.object({ toc: z.boolean(), full_read: z.boolean(), at: z.string(), pg_restore: z.string() }),
});
export type BackupSidecar = z.infer<typeof BackupSidecar>;

export const sidecarPath = (archive: string) => `${archive}.json`;

export function readSidecar(archive: string): BackupSidecar {
  return BackupSidecar.parse(JSON.parse(readFileSync(sidecarPath(archive), 'utf8')));
}

export function sha256File(path: string): Promise<string> {
  return new Promise((res, rej) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (b) => hash.update(b))
      .on('error', rej)
      .on('end', () => res(hash.digest('hex')));
  });
}

export interface TocEntry {
  id: number;
  desc: string;
  schema: string;
  name: string;
  owner: string;
}

const DESCS = ['TABLE DATA', 'MATERIALIZED VIEW DATA', 'SEQUENCE SET', 'FK CONSTRAINT', 'DEFAULT ACL', 'MATERIALIZED VIEW', 'TABLE', 'SEQUENCE', 'SEQUENCE OWNED BY', 'VIEW', 'INDEX', 'CONSTRAINT', 'TRIGGER', 'FUNCTION', 'PROCEDURE', 'TYPE', 'SCHEMA', 'EXTENSION', 'COMMENT', 'ACL', 'DEFAULT', 'DOMAIN', 'AGGREGATE', 'RULE', 'POLICY', 'ROW SECURITY', 'PUBLICATION', 'PUBLICATION TABLE', 'BLOB', 'BLOBS', 'ENCODING', 'STDSTRINGS', 'SEARCHPATH', 'DATABASE', 'DATABASE PROPERTIES', 'COLLATION', 'CAST', 'OPERATOR', 'TEXT SEARCH CONFIGURATION'];

/** Parses `pg_restore --list`: "<id>; <catalog oid> <oid> <desc> <schema> <name> <owner>". */
export function parseToc(list: string): TocEntry[] {
  const entries: TocEntry[] = [];
  for (const line of list.split('\n')) {
    const m = /^(\d+);\s+\d+\s+\d+\s+(.*)$/.exec(line);
    if (!m) continue;
    const rest = m[2]!;
    const desc = [...DESCS].sort((a, b) => b.length - a.length).find((d) => rest.startsWith(`${d} `)) ?? rest.split(' ')[0]!;
    const fields = rest.slice(desc.length).trim().split(' ');
    const owner = fields.length >= 3 ? fields.pop()! : '';
    const schema = fields.shift() ?? '-';
    entries.push({ id: Number(m[1]), desc, schema, name: fields.join(' '), owner });
  }
  return entries;
}

/** Schema-qualified names of the tables an archive creates. */
export const tocTables = (toc: TocEntry[]) => toc.filter((e) => e.desc === 'TABLE').map((e) => `${e.schema}.${e.name}`);

/** The tables whose rows a backup counts and fingerprints: the v1 tables, and the v2 ones if present. */
export const FINGERPRINT_TABLES = ['public.mcp_servers', 'public.mcp_tools', 'public.resources', 'public.capabilities'] as const;

/**
 * Row text is rendered the same way on every run (UTC, ISO dates, full float precision), so the
 * fingerprint of unchanged rows is the same whichever session computes it. Transaction-local.
 */
export async function setCanonicalOutput(tx: Sql): Promise<void> {
  await tx`select set_config('timezone', 'UTC', true), set_config('datestyle', 'ISO, YMD', true),
                  set_config('intervalstyle', 'postgres', true), set_config('extra_float_digits', '3', true),
                  set_config('bytea_output', 'hex', true)`;
}

/**
 * Row count and an order-independent content fingerprint of each table that exists: the sum of
 * a 60-bit prefix of md5(row text) over all rows. Any inserted, deleted or changed row changes it;
 * memory use is constant whatever the table size.
 */
export async function fingerprints(tx: Sql, tables: readonly string[] = FINGERPRINT_TABLES): Promise<Record<string, Fingerprint>> {
  const out: Record<string, Fingerprint> = {};
  for (const table of tables) {
    const [exists] = await tx<{ ok: boolean }[]>`select to_regclass(${table}) is not null as ok`;
    if (!exists!.ok) continue;
    const [schema, name] = table.split('.') as [string, string];
    const [row] = await tx<{ rows: number; content_hash: string }[]>`
      select count(*)::bigint as rows,
             coalesce(sum(('x' || left(md5(sark_row::text), 15))::bit(60)::bigint), 0)::text as content_hash
        from ${tx(schema)}.${tx(name)} as sark_row`;
    out[table] = { rows: Number(row!.rows), content_hash: row!.content_hash };
  }
  return out;
}

export interface BackupCheck {
  archive: string;
  sidecar: string;
  /** The sidecar says pg_restore read the archive, and the file is still exactly what was verified. */
  verified: boolean;
  problems: string[];
  created_at: string | null;
  age_seconds: number | null;
  database: string | null;
  v1_counts: BackupSidecar['v1_counts'] | null;
}

/**
 * Whether the backup at `archive` can be relied on: its sidecar exists and says the archive was
 * verified, and the file has the recorded size and (unless rehash is false) SHA-256.
 */
export async function checkBackup(archive: string, opts: { rehash?: boolean; now?: Date } = {}): Promise<BackupCheck> {
  const path = resolve(archive);
  const result: BackupCheck = { archive: path, sidecar: sidecarPath(path), verified: false, problems: [], created_at: null, age_seconds: null, database: null, v1_counts: null };
  let sidecar: BackupSidecar;
  try {
    sidecar = readSidecar(path);
  } catch (e) {
    result.problems.push(existsSync(result.sidecar) ? `the sidecar ${result.sidecar} is not a sark-migrate backup record (${(e as Error).message.split('\n')[0]})` : `there is no sidecar ${result.sidecar}`);
    return result;
  }
  result.created_at = sidecar.created_at;
  result.age_seconds = Math.max(0, Math.round(((opts.now ?? new Date()).getTime() - Date.parse(sidecar.created_at)) / 1000));
  result.database = sidecar.database.where;
  result.v1_counts = sidecar.v1_counts;
  if (!sidecar.verified.toc || !sidecar.verified.full_read) result.problems.push('the archive was not verified readable when it was made');
  if (!existsSync(path)) {
    result.problems.push(`the archive ${path} is missing`);
  } else if (statSync(path).size !== sidecar.size_bytes) {
    result.problems.push(`the archive is ${statSync(path).size} bytes, not the ${sidecar.size_bytes} recorded`);
  } else if (opts.rehash !== false && (await sha256File(path)) !== sidecar.sha256) {
    result.problems.push('the archive\'s SHA-256 differs from the one recorded: it changed after the backup');
  }
  result.verified = result.problems.length === 0;
  return result;
}

/**
 * The newest verified backup among `locations` (archive files, or directories whose `*.json`
 * sidecars are read), optionally only those of database `database`. undefined: none verified.
 * Decommission uses it for "a fresh backup confirmed present" and judges age_seconds itself.
 */
export async function latestVerifiedBackup(
  locations: string | string[],
  opts: { database?: string; rehash?: boolean; now?: Date } = {},
): Promise<BackupCheck | undefined> {
  const archives: string[] = [];
  for (const loc of [locations].flat()) {
    const path = resolve(loc);
    if (!existsSync(path)) continue;
    if (statSync(path).isDirectory()) {
      for (const f of readdirSync(path)) if (f.endsWith('.json') && existsSync(join(path, f.slice(0, -5)))) archives.push(join(path, f.slice(0, -5)));
    } else {
      archives.push(path.endsWith('.json') ? path.slice(0, -5) : path);
    }
  }
  const candidates: { archive: string; created: number }[] = [];
  for (const archive of archives) {
    try {
      const s = readSidecar(archive);
      if (opts.database && s.database.database !== opts.database) continue;
      candidates.push({ archive, created: Date.parse(s.created_at) });
    } catch {
      // not a sark-migrate sidecar
    }
  }
  candidates.sort((a, b) => b.created - a.created);
  for (const c of candidates) {
    const check = await checkBackup(c.archive, opts);
    if (check.verified) return check;
  }
  return undefined;
}

