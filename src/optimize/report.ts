/**
 * The readable side of `optimize`: plain text a DBA can read in a terminal or attach to a change
 * ticket. The JSON (--json) carries the same facts and more.
 */
import { section, type AnalyzeResult } from './analyze.ts';
import type { BenchmarkResult } from './benchmark.ts';
import type { OptimizeResult } from './apply.ts';
import type { Recommendation } from './recommend.ts';

const MB = 1048576;
const pad = (s: unknown, n: number) => String(s ?? '').padEnd(n);
const lpad = (s: unknown, n: number) => String(s ?? '').padStart(n);
const ms = (x: number | null) => (x === null || Number.isNaN(x) ? '-' : x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0));
const mb = (b: unknown) => `${(Number(b) / MB).toFixed(1)} MB`;

export function renderBenchmark(b: BenchmarkResult): string {
  const lines = [
    `Query patterns: p50 / p95 / max in ms over up to ${b.runs_requested} runs each; goal = one tenth of the runbook target`,
    `  ${pad('pattern', 40)} ${lpad('target', 7)} ${lpad('goal', 6)} ${lpad('p50', 8)} ${lpad('p95', 8)} ${lpad('max', 8)} ${lpad('runs', 5)} ${lpad('rows', 6)}  ${pad('status', 10)} indexes used`,
  ];
  for (const p of b.patterns) {
    const status = p.error ? 'ERROR' : p.flags.length ? 'SEQ SCAN' : p.meets_target === false ? 'OVER' : p.meets_goal === false ? 'over goal' : p.meets_goal ? 'ok' : '-';
    lines.push(
      `  ${pad(p.id, 40)} ${lpad(p.target_ms ?? '-', 7)} ${lpad(p.goal_ms ?? '-', 6)} ${lpad(ms(p.p50_ms), 8)} ${lpad(ms(p.p95_ms), 8)} ${lpad(ms(p.max_ms), 8)} ${lpad(p.runs, 5)} ${lpad(p.rows, 6)}  ${pad(status, 10)} ${p.plan?.indexes_used.join(', ') || (p.error ? p.error : 'none')}`,
    );
    if (p.plan) lines.push(`  ${pad('', 40)} plan: ${p.plan.top_node}, buffers hit ${p.plan.shared_hit_blocks} read ${p.plan.shared_read_blocks}${p.plan.temp_blocks ? ` temp ${p.plan.temp_blocks}` : ''}, execution ${ms(p.plan.execution_ms)} ms`);
    for (const f of p.flags) lines.push(`  ${pad('', 40)} FLAG: ${f}`);
  }
  const s = b.summary;
  lines.push(`  ${s.meeting_goal}/${s.targeted} targeted patterns meet their goal; over target: ${s.over_target.join(', ') || 'none'}; flagged: ${s.flagged.join(', ') || 'none'}`);
  return lines.join('\n');
}

export function renderAnalysis(a: AnalyzeResult): string {
  const lines = ['Indexes defined in sql/optimize/indexes'];
  for (const d of a.defined_indexes) {
    const state = d.present ? 'present' : d.invalid ? `INVALID${d.building_pid ? ` (being built by pid ${d.building_pid})` : ''}` : 'missing';
    lines.push(`  ${pad(d.name, 40)} ${pad(d.table, 14)} ${pad(d.kind, 12)} ${pad(state, 10)} ${d.present ? mb(d.bytes) : ''}`);
  }
  const usage = section<{ table_name: string; index_name: string; index_bytes: number; scans: number; valid: boolean }>(a, '001_index_usage');
  lines.push('', 'Largest indexes (size, scans since the statistics were reset)');
  for (const u of usage.slice(0, 12)) lines.push(`  ${pad(u.index_name, 40)} ${pad(u.table_name, 22)} ${lpad(mb(u.index_bytes), 11)} ${lpad(u.scans, 10)} scans${u.valid ? '' : '  INVALID'}`);
  const bloat = section<{ table_name: string; table_bytes: number; bloat_ratio: number | null; dead_tuples: number }>(a, '002_table_bloat').filter((t) => Number(t.bloat_ratio) >= 0.2 && Number(t.table_bytes) >= 8 * MB);
  lines.push('', `Table bloat >= 20 % (estimate): ${bloat.length ? '' : 'none'}`);
  for (const t of bloat) lines.push(`  ${pad(t.table_name, 30)} ${lpad(mb(t.table_bytes), 11)} ~${Math.round(Number(t.bloat_ratio) * 100)} %, ${t.dead_tuples} dead tuples`);
  const ibloat = section<{ index_name: string; index_bytes: number; bloat_ratio: number | null }>(a, '003_index_bloat').filter((t) => Number(t.bloat_ratio) >= 0.3 && Number(t.index_bytes) >= 8 * MB);
  lines.push('', `B-tree index bloat >= 30 % (estimate): ${ibloat.length ? '' : 'none'}`);
  for (const t of ibloat) lines.push(`  ${pad(t.index_name, 40)} ${lpad(mb(t.index_bytes), 11)} ~${Math.round(Number(t.bloat_ratio) * 100)} %`);
  const stale = section<{ table_name: string; stale: boolean; reason: string }>(a, '006_stale_statistics').filter((s) => s.stale);
  lines.push('', `Stale statistics: ${stale.length ? '' : 'none'}`);
  for (const s of stale) lines.push(`  ${pad(s.table_name, 30)} ${s.reason}`);
  const invalid = section<{ index_name: string; table_name: string; building_pid: number | null }>(a, '007_invalid_indexes');
  lines.push('', `INVALID or unready indexes: ${invalid.length ? '' : 'none'}`);
  for (const i of invalid) lines.push(`  ${pad(i.index_name, 40)} on ${i.table_name}${i.building_pid ? ` (being built by pid ${i.building_pid})` : ''}`);
  const unused = section<{ index_name: string; index_bytes: number }>(a, '004_unused_indexes');
  lines.push('', `Never-scanned indexes (all tables): ${unused.length}${unused.length ? `, largest: ${unused.slice(0, 5).map((u) => `${u.index_name} (${mb(u.index_bytes)})`).join(', ')}` : ''}`);
  const dups = section<{ redundant_index: string; covered_by: string; kind: string }>(a, '005_duplicate_indexes');
  lines.push(`Redundant indexes (all tables): ${dups.length ? dups.map((d) => `${d.redundant_index} (${d.kind} of ${d.covered_by})`).join(', ') : 'none'}`);
  for (const [id, s] of Object.entries(a.sections)) if (s.error) lines.push(`  (${id} could not run here: ${s.error})`);
  return lines.join('\n');
}

export function renderRecommendations(recs: Recommendation[]): string {
  if (recs.length === 0) return 'Recommendations: none; every defined index is present and valid, statistics and the cost summary are current.';
  const lines = ['Recommendations (each with the measurement behind it)'];
  recs.forEach((r, i) => {
    lines.push(`  ${i + 1}. ${r.action} ${r.target}${r.applies ? '  [applied by optimize --optimize]' : '  [for the DBA to decide]'}`);
    lines.push(`     ${r.reason}`);
    for (const l of r.sql.split('\n')) lines.push(`     ${l}`);
  });
  return lines.join('\n');
}

export function renderReport(where: string, version: string, a: AnalyzeResult, b: BenchmarkResult, recs: Recommendation[]): string {
  return [
    `sark-migrate optimize report`,
    `database: ${where} (PostgreSQL ${version}), ${a.analyzed_at}`,
    '',
    renderBenchmark(b),
    '',
    renderAnalysis(a),
    '',
    renderRecommendations(recs),
    '',
  ].join('\n');
}

export function renderOptimize(r: OptimizeResult): string {
  const lines = ['optimize --optimize: done, writes never blocked (CONCURRENTLY builds and refresh, ANALYZE)'];
  for (const a of r.actions) {
    lines.push(`  ${pad(a.action, 26)} ${pad(a.target, 40)} ${lpad(a.seconds.toFixed(2), 8)} s  ${a.detail}`);
    lines.push(`  ${pad('', 26)} because: ${a.cites}`);
  }
  if (r.actions.every((a) => a.action !== 'build_index' && a.action !== 'rebuild_invalid_index')) lines.push('  every defined index was already present and valid');
  lines.push('', 'After:', renderBenchmark(r.after));
  if (r.not_applied.length) lines.push('', renderRecommendations(r.not_applied));
  return lines.join('\n');
}
