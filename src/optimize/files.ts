/**
 * The SQL of Phase 5 lives in sql/optimize, one concern per file, and this module only reads it:
 *
 *   indexes/NNN_<index>.sql   one CREATE INDEX CONCURRENTLY IF NOT EXISTS each; 0NN = indexes of
 *                             the schema (001-008: the v2 tables of migration 006; 011-016: the
 *                             audit_events columns of 007, built by `schema up` after it),
 *                             1NN = recommended for a query pattern
 *   queries/NNN_<pattern>.sql one parameter-free SELECT each: the runbook's query patterns
 *   analyze/NNN_<topic>.sql   one read-only SELECT each: index usage, bloat, unused, duplicate,
 *                             stale statistics, INVALID indexes, materialized views
 *
 * What the runner needs to know about a file (its index name, its target latency, the indexes it
 * expects) is in the file's header comment, so a DBA reading the file sees the same facts.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { sqlFilesIn, projectPath } from '../db/sqlFiles.ts';

export interface IndexDefinition {
  /** e.g. 101_ix_capabilities_high_sensitivity_rank */
  id: string;
  file: string;
  name: string;
  table: string;
  kind: 'schema' | 'recommended';
  /** For a schema index: the migration that defines it ("Kind: schema (migration 007)"). */
  migration: string | null;
  /** Query patterns (ids) the header says it serves. */
  usedBy: string[];
  /** The header's "Measured:" text: the evidence that justified the index. */
  measured?: string;
  /** The one statement, comments stripped. */
  statement: string;
}

export interface QueryPattern {
  id: string;
  file: string;
  title: string;
  /** The runbook's target latency in ms, or null when the runbook sets none. */
  targetMs: number | null;
  expects: string[];
  sql: string;
}

export interface AnalyzeQuery {
  id: string;
  file: string;
  sql: string;
}

/** `-- Key:  value` lines of the header, continuation lines (`--   more`) appended. */
export function headerFields(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  let current: string | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith('--')) break;
    const m = /^--\s{0,3}([A-Z][A-Za-z -]+):\s+(.*)$/.exec(line);
    if (m && !/^\s{4,}/.test(line.slice(2))) {
      current = m[1]!.trim().toLowerCase();
      fields[current] = m[2]!.trim();
    } else if (current && /^--\s{4,}\S/.test(line)) {
      fields[current] += ` ${line.replace(/^--\s+/, '').trim()}`;
    } else {
      current = undefined;
    }
  }
  return fields;
}

/** The SQL without comment lines and without a trailing semicolon. */
export function statementOf(text: string): string {
  return text
    .split('\n')
    .filter((l) => !/^\s*--/.test(l))
    .join('\n')
    .trim()
    .replace(/;\s*$/, '');
}

const idOf = (file: string) => basename(file).replace(/\.sql$/, '');
/** "a, b (why), c" -> [a, b, c]; "none ..." -> []. */
const listOf = (s: string | undefined) =>
  /^none\b/i.test(s ?? '')
    ? []
    : (s ?? '')
        .split(/,\s*/)
        .map((x) => x.trim().split(/\s+/)[0]!)
        .filter((x) => /^[a-z0-9_]+$/.test(x));

export function indexDefinitions(): IndexDefinition[] {
  return sqlFilesIn('optimize/indexes').map((file) => {
    const text = readFileSync(file, 'utf8');
    const h = headerFields(text);
    const statement = statementOf(text);
    const m = /^CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+IF\s+NOT\s+EXISTS\s+(\w+)\s+ON\s+(?:ONLY\s+)?(\w+)/i.exec(statement);
    if (!m || statement.includes(';')) {
      throw new Error(`${projectPath(file)} must hold exactly one CREATE INDEX CONCURRENTLY IF NOT EXISTS statement`);
    }
    return {
      id: idOf(file),
      file: projectPath(file),
      name: m[1]!,
      table: m[2]!,
      kind: /^schema/i.test(h.kind ?? '') ? 'schema' : 'recommended',
      migration: /^schema \(migration (\d{3})\)/i.exec(h.kind ?? '')?.[1] ?? null,
      usedBy: listOf(h['used by']).filter((x) => /^\d{3}_/.test(x)),
      measured: h.measured,
      statement,
    } satisfies IndexDefinition;
  });
}

export function queryPatterns(): QueryPattern[] {
  return sqlFilesIn('optimize/queries').map((file) => {
    const text = readFileSync(file, 'utf8');
    const h = headerFields(text);
    const target = /^(\d+(?:\.\d+)?)\s*ms/.exec(h.target ?? '');
    return {
      id: idOf(file),
      file: projectPath(file),
      title: h.pattern ?? idOf(file),
      targetMs: target ? Number(target[1]) : null,
      expects: listOf(h.expects),
      sql: statementOf(text),
    };
  });
}

export function analyzeQueries(): AnalyzeQuery[] {
  return sqlFilesIn('optimize/analyze').map((file) => ({ id: idOf(file), file: projectPath(file), sql: statementOf(readFileSync(file, 'utf8')) }));
}
