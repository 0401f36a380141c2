/**
 * Recommendations, each with the measurement behind it: what the analysis and the benchmark saw on
 * this database (and, for an index file, what was measured when the index was chosen). Only the
 * actions `optimize --optimize` may apply are marked `applies`: building a defined index that is
 * missing or INVALID, ANALYZE, and refreshing mv_daily_cost_summary; removals and rebuilds of
 * bloated indexes are left to the DBA.
 */
import { V2_TABLES } from '../schema/state.ts';
import { section, type AnalyzeResult } from './analyze.ts';
import type { BenchmarkResult, PatternResult } from './benchmark.ts';

export type Action =
  | 'build_index'
  | 'rebuild_invalid_index'
  | 'analyze'
  | 'refresh_materialized_view'
  | 'reindex_bloated_index'
  | 'drop_unused_index'
  | 'drop_duplicate_index'
  | 'investigate_pattern';

export interface Recommendation {
  action: Action;
  target: string;
  /** `optimize --optimize` carries it out */
  applies: boolean;
  sql: string;
  reason: string;
  evidence: Record<string, unknown>;
}

const V2_RELATIONS = new Set<string>([...V2_TABLES, 'mv_daily_cost_summary']);
/** The tables whose statistics the patterns depend on. */
export const ANALYZED_TABLES = ['resources', 'capabilities', 'cost_tracking', 'principal_budgets'] as const;
const MB = 1048576;

export function recommend(a: AnalyzeResult, b: BenchmarkResult | null): Recommendation[] {
  const recs: Recommendation[] = [];
  const byPattern = new Map((b?.patterns ?? []).map((p) => [p.id, p]));
  const cite = (p: PatternResult | undefined) =>
    p && !p.error
      ? `${p.id}: p95 ${p.p95_ms} ms over ${p.runs} runs${p.target_ms !== null ? ` (target ${p.target_ms} ms, goal ${p.goal_ms} ms)` : ''}, plan uses ${p.plan?.indexes_used.join(', ') || 'no index'}${p.flags.length ? `; ${p.flags.join('; ')}` : ''}`
      : undefined;

  for (const d of a.defined_indexes) {
    if (d.present) continue;
    const patterns = d.used_by.map((id) => byPattern.get(id)).filter((p): p is PatternResult => p !== undefined);
    recs.push({
      action: d.invalid ? 'rebuild_invalid_index' : 'build_index',
      target: d.name,
      applies: true,
      sql: `${d.invalid ? `DROP INDEX CONCURRENTLY ${d.name};\n` : ''}${d.statement};  -- sql/optimize/indexes/${d.id}.sql, outside a transaction`,
      reason: [
        d.invalid
          ? `${d.name} exists but is INVALID (a failed concurrent build): it serves no query yet every write maintains it.`
          : d.kind === 'schema'
            ? `${d.name} is defined by migration 006 and missing.`
            : `${d.name} is missing.`,
        ...patterns.map((p) => `Measured now: ${cite(p)}.`),
        d.kind === 'recommended' && d.measured ? `Measured when chosen: ${d.measured}` : '',
      ]
        .filter(Boolean)
        .join(' '),
      evidence: { index: d, patterns: patterns.map(patternEvidence) },
    });
  }

  for (const s of section<{ table_name: string; stale: boolean; reason: string | null; modified_since_analyze: number; estimated_rows: number; last_analyzed: Date | null }>(a, '006_stale_statistics')) {
    if (!s.stale || !V2_RELATIONS.has(s.table_name)) continue;
    recs.push({
      action: 'analyze',
      target: s.table_name,
      applies: true,
      sql: `ANALYZE ${s.table_name};`,
      reason: `Statistics of ${s.table_name} are stale: ${s.reason}; the planner misjudges row counts until ANALYZE.`,
      evidence: { ...s },
    });
  }

  const fresh = section<{ view_last_day: string | null; ledger_last_day: string | null; behind: boolean }>(a, '009_cost_summary_freshness')[0];
  const mv = section<{ view_name: string; can_refresh_concurrently: boolean; populated: boolean }>(a, '008_materialized_views').find((v) => v.view_name === 'mv_daily_cost_summary');
  if (fresh?.behind && mv) {
    recs.push({
      action: 'refresh_materialized_view',
      target: 'mv_daily_cost_summary',
      applies: true,
      sql: `REFRESH MATERIALIZED VIEW${mv.can_refresh_concurrently ? ' CONCURRENTLY' : ''} mv_daily_cost_summary;`,
      reason: `mv_daily_cost_summary ends on ${day(fresh.view_last_day) ?? 'no day (empty)'} but cost_tracking has rows up to ${day(fresh.ledger_last_day)}: cost patterns reading the view miss that spend.${mv.can_refresh_concurrently ? '' : ' The view cannot be refreshed concurrently (not populated, or no unique index): readers of the view wait during the refresh.'}`,
      evidence: { ...fresh, ...mv },
    });
  }

  for (const i of section<{ table_name: string; index_name: string; index_bytes: number; bloat_bytes: number | null; bloat_ratio: number | null }>(a, '003_index_bloat')) {
    if (!V2_RELATIONS.has(i.table_name) || i.bloat_ratio === null || Number(i.bloat_ratio) < 0.3 || Number(i.bloat_bytes) < 16 * MB) continue;
    recs.push({
      action: 'reindex_bloated_index',
      target: i.index_name,
      applies: false,
      sql: `REINDEX INDEX CONCURRENTLY ${i.index_name};`,
      reason: `${i.index_name} is an estimated ${Math.round(Number(i.bloat_ratio) * 100)} % bloat (${(Number(i.bloat_bytes) / MB).toFixed(0)} MB of ${(Number(i.index_bytes) / MB).toFixed(0)} MB); REINDEX CONCURRENTLY does not block writes.`,
      evidence: { ...i },
    });
  }

  const kept = (name: string) => a.migration_indexes[name] ?? (a.defined_indexes.find((d) => d.name === name) ? 'sql/optimize/indexes' : undefined);
  for (const u of section<{ table_name: string; index_name: string; index_bytes: number; scans: number; stats_since: Date | null }>(a, '004_unused_indexes')) {
    if (!V2_RELATIONS.has(u.table_name) || kept(u.index_name)) continue;
    recs.push({
      action: 'drop_unused_index',
      target: u.index_name,
      applies: false,
      sql: `DROP INDEX CONCURRENTLY ${u.index_name};`,
      reason: `${u.index_name} (${(Number(u.index_bytes) / MB).toFixed(1)} MB) has not been scanned since ${u.stats_since ? new Date(u.stats_since).toISOString() : 'the statistics were last reset'}; every write still maintains it. Drop it only if that window covers a full business cycle.`,
      evidence: { ...u },
    });
  }
  for (const d of section<{ table_name: string; redundant_index: string; covered_by: string; kind: string; redundant_bytes: number }>(a, '005_duplicate_indexes')) {
    if (!V2_RELATIONS.has(d.table_name) || kept(d.redundant_index)) continue;
    recs.push({
      action: 'drop_duplicate_index',
      target: d.redundant_index,
      applies: false,
      sql: `DROP INDEX CONCURRENTLY ${d.redundant_index};`,
      reason: `${d.redundant_index} is ${d.kind === 'identical' ? 'identical to' : 'a leading prefix of'} ${d.covered_by}, which answers the same lookups (${(Number(d.redundant_bytes) / MB).toFixed(1)} MB to save).`,
      evidence: { ...d },
    });
  }

  for (const p of b?.patterns ?? []) {
    const coveredByBuild = recs.some((r) => (r.action === 'build_index' || r.action === 'rebuild_invalid_index') && (r.evidence.patterns as { id: string }[]).some((x) => x.id === p.id));
    if (coveredByBuild || (p.flags.length === 0 && p.meets_target !== false && !p.error)) continue;
    recs.push({
      action: 'investigate_pattern',
      target: p.id,
      applies: false,
      sql: `-- EXPLAIN (ANALYZE, BUFFERS) ${p.file}`,
      reason: p.error ? `${p.id} failed: ${p.error}` : `No defined index addresses it. Measured: ${cite(p)}.`,
      evidence: patternEvidence(p),
    });
  }
  return recs;
}

function day(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  return v instanceof Date ? v.toISOString().slice(0, 10) : String(v).slice(0, 10);
}

export function patternEvidence(p: PatternResult) {
  return {
    id: p.id,
    p50_ms: p.p50_ms,
    p95_ms: p.p95_ms,
    runs: p.runs,
    target_ms: p.target_ms,
    goal_ms: p.goal_ms,
    indexes_used: p.plan?.indexes_used ?? [],
    seq_scans_on_filter: p.plan?.seq_scans_on_filter ?? [],
    shared_hit_blocks: p.plan?.shared_hit_blocks,
    shared_read_blocks: p.plan?.shared_read_blocks,
  };
}
