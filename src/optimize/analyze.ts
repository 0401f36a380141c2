/**
 * `optimize --analyze`: runs every read-only SELECT of sql/optimize/analyze (index usage and size,
 * table and index bloat, unused and duplicate indexes, stale statistics, INVALID indexes,
 * materialized views) and reads the state of every index sql/optimize/indexes defines. A file
 * that cannot answer on this database (a v1-only database has no mv_daily_cost_summary) reports
 * its error instead of failing the whole analysis. Takes no lock, creates nothing.
 */
import { readFileSync } from 'node:fs';
import { openSession, type Context } from '../context.ts';
import { MIGRATIONS_DIR } from '../db/sqlFiles.ts';
import { migrationIds } from '../schema/state.ts';
import { join } from 'node:path';
import { analyzeQueries, indexDefinitions, type IndexDefinition } from './files.ts';
import { indexState, type IndexState } from './indexes.ts';

export interface AnalyzeSection {
  file: string;
  rows: Record<string, unknown>[];
  error?: string;
}

export interface DefinedIndex {
  id: string;
  name: string;
  table: string;
  kind: IndexDefinition['kind'];
  used_by: string[];
  /** the statement of its file in sql/optimize/indexes */
  statement: string;
  /** the file's "Measured:" header: the evidence that justified a recommended index */
  measured?: string;
  /** exists, valid and ready: the only state reported as present */
  present: boolean;
  invalid: boolean;
  bytes: number;
  building_pid: number | null;
}

export interface AnalyzeResult {
  analyzed_at: string;
  sections: Record<string, AnalyzeSection>;
  defined_indexes: DefinedIndex[];
  /** index name -> migration that creates it: never proposed for removal */
  migration_indexes: Record<string, string>;
}

export async function runAnalyze(ctx: Context): Promise<AnalyzeResult> {
  const sql = openSession(ctx, { default_transaction_read_only: 'on', statement_timeout: '300s' });
  try {
    const sections: Record<string, AnalyzeSection> = {};
    for (const q of analyzeQueries()) {
      try {
        const rows = await sql.unsafe<Record<string, unknown>[]>(q.sql, [], { prepare: false });
        sections[q.id] = { file: q.file, rows: rows.map((r) => ({ ...r })) };
      } catch (e) {
        sections[q.id] = { file: q.file, rows: [], error: (e as Error).message };
      }
    }
    const defined: DefinedIndex[] = [];
    for (const d of indexDefinitions()) defined.push(toDefined(d, await indexState(sql, d.name)));
    return { analyzed_at: new Date().toISOString(), sections, defined_indexes: defined, migration_indexes: migrationIndexes() };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

function toDefined(d: IndexDefinition, s: IndexState): DefinedIndex {
  return {
    id: d.id,
    name: d.name,
    table: d.table,
    kind: d.kind,
    used_by: d.usedBy,
    statement: d.statement,
    ...(d.measured ? { measured: d.measured } : {}),
    present: s.exists && s.valid && s.ready,
    invalid: s.exists && !(s.valid && s.ready),
    bytes: s.bytes,
    building_pid: s.buildingPid,
  };
}

/** Index names the migrations create (CREATE [UNIQUE] INDEX name), read from their Up sections. */
export function migrationIndexes(): Record<string, string> {
  const found: Record<string, string> = {};
  for (const id of migrationIds()) {
    const text = readFileSync(join(MIGRATIONS_DIR, `${id}.sql`), 'utf8');
    const up = text.split(/^\s*--\s*Down Migration/im)[0]!;
    for (const m of up.matchAll(/CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(\w+)/gi)) found[m[1]!] = id;
  }
  return found;
}

/** Rows of one section, or [] when it failed or is absent. */
export function section<T = Record<string, unknown>>(a: AnalyzeResult, id: string): T[] {
  return (a.sections[id]?.rows ?? []) as T[];
}
