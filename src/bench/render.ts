/**
 * The bench result as a table a person compares at a glance; the JSON file holds everything.
 */
import { formatDuration } from '../output.ts';
import type { BenchResult } from './pipeline.ts';

const pad = (s: unknown, n: number) => String(s ?? '').padEnd(n);
const lpad = (s: unknown, n: number) => String(s ?? '').padStart(n);
const sec = (s: number) => `${s.toFixed(1)} s`;

export function renderBench(r: BenchResult, file?: string): string {
  const floor = r.loads.find((s) => s.name === 'insert:A');
  const naive = r.loads.find((s) => s.name === 'naive:S');
  const lines = [
    `bench: ${r.scale.servers.toLocaleString('en-US')} servers, ${r.scale.tools.toLocaleString('en-US')} tools, ${r.scale.cost_rows.toLocaleString('en-US')} cost rows; PostgreSQL ${r.server.server_version}, ${r.machine.cpus} cores (load average ${r.machine.load_average_at_start.join(' ')} at start)`,
    `  cluster: ${r.durability.label}; shared_buffers ${r.server.shared_buffers}, max_wal_size ${r.server.max_wal_size}, checkpoint_timeout ${r.server.checkpoint_timeout}, work_mem ${r.server.work_mem}`,
    '',
    `  ${pad('phase', 72)} ${lpad('time', 10)}  pipeline`,
    ...r.phases.map((p) => `  ${pad(p.name, 72)} ${lpad(formatDuration(p.seconds * 1000), 10)}  ${p.pipeline ? 'yes' : ''}${p.note ? `  (${p.note})` : ''}`),
    '',
    `  ${pad('load (same data, empty tables; floor = insert:A)', 72)} ${lpad('total', 10)} ${lpad('rows in', 9)} ${lpad('index', 9)} ${lpad('x floor', 8)} ${lpad('x naive', 13)} ${lpad('CPU', 9)} ${lpad('busiest', 9)}`,
    ...r.loads.map(
      (s) =>
        `  ${pad(`${s.name}  ${s.description}`, 72)} ${lpad(sec(s.seconds), 10)} ${lpad(sec(s.load_seconds), 9)} ${lpad(sec(s.build_seconds), 9)} ${lpad(floor ? (s.seconds / floor.seconds).toFixed(2) : '-', 8)} ${lpad(naive ? `${(s.seconds / naive.seconds).toFixed(2)} / ${(s.load_seconds / naive.seconds).toFixed(2)}` : '-', 13)} ${lpad(s.cpu ? sec(s.cpu.total_seconds) : '-', 9)} ${lpad(s.cpu ? sec(s.cpu.busiest_process_seconds) : '-', 9)}`,
    ),
    '  (x naive: total / rows in, over the naive upsert\'s total. copy:S loads with the naive upsert\'s indexes in place (the',
    '   schema\'s own), so its rows in is the like-for-like copy; the recommended ones it builds after are the pipeline\'s index step.',
    '   CPU: server CPU seconds of the load; busiest: its busiest single process, the critical path on idle cores)',
    `  first loads: ${r.first_load_strategy.why}`,
    '',
    ...(r.live
      ? [
          `  under a live application (${r.live.writer?.statements_per_second ?? '?'} statements/s on v1): copy ${sec(r.live.copy_seconds)} = ${r.live.vs_quiet ?? '-'} x the same copy alone; ` +
            `the application's statements: p50 ${r.live.writer?.p50_ms} ms, p99 ${r.live.writer?.p99_ms} ms, max ${r.live.writer?.max_ms} ms, ${r.live.writer?.errors} errors`,
        ]
      : []),
    `  no-op re-run of data --execute: ${sec(r.noop_rerun.seconds)}, ${r.noop_rerun.written} rows written (${r.noop_rerun.touched} tuples with a newer xmin)`,
    `  peak RSS of the tool's own process: ${r.tool_peak_rss_mb} MB`,
    `  pipeline (schema up + definitions + copy + ANALYZE + index builds + validate): ${sec(r.pipeline.seconds)}${r.pipeline.under_60s ? ' (< 60 s)' : ' (>= 60 s)'}; copy ${sec(r.pipeline.copy_seconds)}${r.pipeline.copy_vs_floor !== null ? ` = ${r.pipeline.copy_vs_floor} x the floor` : ''}${r.pipeline.copy_vs_lanes_floor !== null ? `, ${r.pipeline.copy_vs_lanes_floor} x the bare INSERT in as many lanes` : ''}`,
    ...(naive
      ? [
          `  against the naive upsert (${sec(naive.seconds)}; its re-run on the loaded tables ${naive.rerun_seconds !== undefined ? sec(naive.rerun_seconds) : '-'}, rewriting every row): ` +
            `copy ${r.pipeline.copy_vs_naive ?? '-'} x, whole pipeline ${r.pipeline.pipeline_vs_naive ?? '-'} x`,
        ]
      : []),
    '',
    '  query patterns (p50 / p95 ms; goal = runbook target / 10):',
    ...r.benchmark.patterns.map(
      (p) =>
        `    ${pad(p.id, 40)} ${lpad(p.p50_ms.toFixed(2), 9)} ${lpad(p.p95_ms.toFixed(2), 9)}  ${p.goal_ms === null ? pad('', 12) : pad(`goal ${p.goal_ms}`, 12)} ${p.flags.length ? 'SEQ SCAN ' : ''}${p.plan?.indexes_used.join(', ') ?? p.error ?? ''}`,
    ),
  ];
  if (file) lines.push('', `  written to ${file}`);
  return lines.join('\n');
}
