/**
 * `optimize --benchmark`: each query pattern of sql/optimize/queries run many times on the real
 * data, as the application would send it (no prepared statement, planned each time), then once
 * under EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) for the plan: which indexes, how many buffers,
 * and whether a filter fell back to a sequential scan.
 *
 * Read-only by construction: its connection has default_transaction_read_only = on, so a pattern
 * edited into a write fails instead of writing. It takes no lock and creates nothing.
 */
import { openSession, type Context } from '../context.ts';
import type { Sql } from '../db/connect.ts';
import { log } from '../output.ts';
import { queryPatterns, type QueryPattern } from './files.ts';

/** A sequential scan that filters is flagged once it examines at least this many rows. */
export const SEQ_SCAN_FLAG_ROWS = 1000;

export interface ScanNode {
  node: string;
  relation: string | null;
  index: string | null;
  condition: string | null;
  filter: string | null;
  rows: number;
  rows_removed_by_filter: number;
  loops: number;
}

export interface PlanSummary {
  top_node: string;
  planning_ms: number;
  execution_ms: number;
  indexes_used: string[];
  scans: ScanNode[];
  /** Seq Scans with a Filter that examined >= SEQ_SCAN_FLAG_ROWS rows: the filter found no index. */
  seq_scans_on_filter: { relation: string; filter: string; rows_examined: number }[];
  shared_hit_blocks: number;
  shared_read_blocks: number;
  temp_blocks: number;
}

export interface PatternResult {
  id: string;
  title: string;
  file: string;
  target_ms: number | null;
  /** one tenth of the target: what this project holds itself to */
  goal_ms: number | null;
  runs: number;
  p50_ms: number;
  p95_ms: number;
  max_ms: number;
  mean_ms: number;
  rows: number;
  meets_target: boolean | null;
  meets_goal: boolean | null;
  expects: string[];
  expected_index_used: boolean | null;
  flags: string[];
  plan: PlanSummary | null;
  error?: string;
}

export interface BenchmarkResult {
  started_at: string;
  finished_at: string;
  runs_requested: number;
  patterns: PatternResult[];
  summary: { patterns: number; targeted: number; meeting_goal: number; over_target: string[]; flagged: string[]; errors: string[] };
}

export interface BenchmarkOptions {
  runs?: number;
  warmup?: number;
  /** time budget per pattern; slow patterns stop early, after at least minRuns */
  budgetMs?: number;
  minRuns?: number;
  /** only these pattern ids (prefix match) */
  only?: string[];
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

export async function runBenchmark(ctx: Context, opts: BenchmarkOptions = {}): Promise<BenchmarkResult> {
  const runs = opts.runs ?? 50;
  const started = new Date();
  const patterns = queryPatterns().filter((p) => !opts.only?.length || opts.only.some((o) => p.id.startsWith(o)));
  const sql = openSession(ctx, { default_transaction_read_only: 'on', statement_timeout: '120s' });
  const results: PatternResult[] = [];
  try {
    for (const p of patterns) results.push(await benchPattern(sql, p, runs, opts));
  } finally {
    await sql.end({ timeout: 5 });
  }
  const targeted = results.filter((r) => r.target_ms !== null);
  return {
    started_at: started.toISOString(),
    finished_at: new Date().toISOString(),
    runs_requested: runs,
    patterns: results,
    summary: {
      patterns: results.length,
      targeted: targeted.length,
      meeting_goal: targeted.filter((r) => r.meets_goal).length,
      over_target: targeted.filter((r) => r.meets_target === false).map((r) => r.id),
      flagged: results.filter((r) => r.flags.length > 0).map((r) => r.id),
      errors: results.filter((r) => r.error).map((r) => r.id),
    },
  };
}

async function benchPattern(sql: Sql, p: QueryPattern, runs: number, opts: BenchmarkOptions): Promise<PatternResult> {
  const base = {
    id: p.id,
    title: p.title,
    file: p.file,
    target_ms: p.targetMs,
    goal_ms: p.targetMs === null ? null : p.targetMs / 10,
    expects: p.expects,
  };
  const budget = opts.budgetMs ?? 15_000;
  const minRuns = Math.min(runs, opts.minRuns ?? 5);
  const times: number[] = [];
  let rows = 0;
  try {
    // Warm-up: caches and hint bits, as a live server has them; a slow pattern warms once.
    for (let i = 0; i < (opts.warmup ?? 3); i++) {
      const t = performance.now();
      await sql.unsafe(p.sql, [], { prepare: false });
      if (performance.now() - t > 1000) break;
    }
    const begun = performance.now();
    while (times.length < runs && (times.length < minRuns || performance.now() - begun < budget)) {
      const t = performance.now();
      const result = await sql.unsafe(p.sql, [], { prepare: false });
      times.push(performance.now() - t);
      rows = result.length;
    }
    const plan = summarisePlan(await explain(sql, p.sql));
    times.sort((a, b) => a - b);
    const p95 = percentile(times, 95);
    const flags = plan.seq_scans_on_filter.map((s) => `seq scan on ${s.relation} filters ${s.rows_examined} rows (${s.filter}): no index serves this filter`);
    const expectedUsed = p.expects.length === 0 ? null : p.expects.some((e) => plan.indexes_used.includes(e));
    const result: PatternResult = {
      ...base,
      runs: times.length,
      p50_ms: round(percentile(times, 50)),
      p95_ms: round(p95),
      max_ms: round(times.at(-1)!),
      mean_ms: round(times.reduce((a, b) => a + b, 0) / times.length),
      rows,
      meets_target: p.targetMs === null ? null : p95 <= p.targetMs,
      meets_goal: p.targetMs === null ? null : p95 <= p.targetMs / 10,
      expected_index_used: expectedUsed,
      flags,
      plan,
    };
    log.info(`${p.id}: p50 ${result.p50_ms} ms, p95 ${result.p95_ms} ms over ${result.runs} runs; ${plan.indexes_used.join(', ') || 'no index'}${flags.length ? ' [FLAGGED]' : ''}`);
    return result;
  } catch (e) {
    const message = (e as Error).message;
    log.warn(`${p.id}: ${message}`);
    return { ...base, runs: times.length, p50_ms: NaN, p95_ms: NaN, max_ms: NaN, mean_ms: NaN, rows: 0, meets_target: null, meets_goal: null, expected_index_used: null, flags: [], plan: null, error: message };
  }
}

async function explain(sql: Sql, text: string): Promise<PlanJson> {
  const [row] = await sql.unsafe<Record<string, unknown>[]>(`explain (analyze, buffers, format json) ${text}`, [], { prepare: false });
  const raw = Object.values(row!)[0];
  const doc = (typeof raw === 'string' ? JSON.parse(raw) : raw) as PlanJson[];
  return doc[0]!;
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  'Recheck Cond'?: string;
  Filter?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  'Temp Read Blocks'?: number;
  'Temp Written Blocks'?: number;
  Plans?: PlanNode[];
}

interface PlanJson {
  Plan: PlanNode;
  'Planning Time': number;
  'Execution Time': number;
}

/** The facts a DBA looks for first in a plan, from EXPLAIN's JSON. */
export function summarisePlan(doc: PlanJson): PlanSummary {
  const scans: ScanNode[] = [];
  const walk = (n: PlanNode) => {
    if (n['Relation Name'] || n['Index Name']) {
      scans.push({
        node: n['Node Type'],
        relation: n['Relation Name'] ?? null,
        index: n['Index Name'] ?? null,
        condition: n['Index Cond'] ?? n['Recheck Cond'] ?? null,
        filter: n.Filter ?? null,
        rows: n['Actual Rows'] ?? 0,
        rows_removed_by_filter: n['Rows Removed by Filter'] ?? 0,
        loops: n['Actual Loops'] ?? 1,
      });
    }
    for (const c of n.Plans ?? []) walk(c);
  };
  walk(doc.Plan);
  const top = doc.Plan;
  return {
    top_node: top['Node Type'],
    planning_ms: round(doc['Planning Time']),
    execution_ms: round(doc['Execution Time']),
    indexes_used: [...new Set(scans.map((s) => s.index).filter((x): x is string => x !== null))],
    scans,
    seq_scans_on_filter: scans
      .filter((s) => s.node === 'Seq Scan' && s.filter !== null)
      .map((s) => ({ relation: s.relation!, filter: s.filter!, rows_examined: Math.round((s.rows + s.rows_removed_by_filter) * s.loops) }))
      .filter((s) => s.rows_examined >= SEQ_SCAN_FLAG_ROWS),
    shared_hit_blocks: top['Shared Hit Blocks'] ?? 0,
    shared_read_blocks: top['Shared Read Blocks'] ?? 0,
    temp_blocks: (top['Temp Read Blocks'] ?? 0) + (top['Temp Written Blocks'] ?? 0),
  };
}
