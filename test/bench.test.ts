/**
 * `bench` end to end on a small scale: the command creates its own database on the test server,
 * runs every load strategy and the pipeline, and writes a JSON result that can be compared. The
 * timings themselves are not asserted here (see the brief: speed is measured by bench, not by
 * timed unit tests); what is asserted is what each number stands for.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { toUrl } from '../src/config/connection.ts';
import { cpuBetween } from '../src/bench/cpu.ts';
import { durabilityOf } from '../src/bench/pipeline.ts';
import { startThrowawayServer } from '../src/db/throwaway.ts';
import { openSql } from '../src/db/connect.ts';
import { runCli } from './support/db.ts';

const dir = mkdtempSync(join(tmpdir(), 'sark-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench', () => {
  it('refuses loads that end without a copy: the pipeline and its no-op re-run continue from the last load', () => {
    // Seen: --loads naive:S,copy:S,copy:A,lanes:A timed a full copy as the "no-op re-run" (lanes:A leaves no copy run).
    const r = runCli(['bench', '--loads', 'naive:S,lanes:A']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--loads is invalid: the last load is the pipeline's copy/);
  });

  it('times every load on the same data, the no-op re-run, the pipeline and the query patterns, and writes them as JSON', async () => {
    const out = join(dir, 'bench.json');
    const url = toUrl({ ...inject('pgAdmin'), database: 'postgres' });
    const r = runCli(['bench', '--json', '--servers', '60', '--runs', '2', '--loads', 'naive:S,insert:B,insert:A0,insert:A,lanes:A,copy:B,copy:S,live:A,unsynced:A,copy:A', '--jobs', '3', '--batch-time', '40ms', '--output', out], { DATABASE_URL: url });
    expect(r.status, r.stderr).toBe(0);
    const result = r.json();
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(result);

    expect(result.scale).toEqual({ servers: 60, tools_per_server: 10, tools: 600, cost_rows: 600 });
    expect(result.copy_settings).toEqual({ jobs: 3, batch_time_ms: 40, batch_size: null });
    // Every load moved every row, whichever way it indexed them (under the live application, the
    // forward sync moved the rows it updated before the copy reached them).
    expect(result.loads.filter((l: any) => l.name !== 'live:A').map((l: any) => [l.name, l.resources, l.capabilities])).toEqual(
      ['naive:S', 'insert:B', 'insert:A0', 'insert:A', 'lanes:A', 'copy:B', 'copy:S', 'unsynced:A', 'copy:A'].map((n) => [n, 60, 600]),
    );
    // unsynced:A is the copy without the forward sync (its cost: the v1 row locks), after loads that had it on.
    expect(result.loads.find((l: any) => l.name === 'unsynced:A')).toMatchObject({ forward_sync: false, description: expect.stringMatching(/without the forward sync/) });
    expect(result.loads.find((l: any) => l.name === 'copy:A').forward_sync).toBe(true);
    // The live load: the same copy while an application writes v1; every statement went through.
    expect(result.live.writer.statements).toBeGreaterThan(50);
    expect(result.live.writer.errors).toBe(0);
    expect(result.live.writer.max_ms).toBeGreaterThanOrEqual(result.live.writer.p99_ms);
    expect(result.live.vs_quiet).toBeGreaterThan(0);
    expect(result.ratios['live:A_vs_copy:A']).toBe(result.live.vs_quiet);
    expect(result.loads.find((l: any) => l.name === 'copy:A').merger.error).toBeUndefined();
    expect(result.loads.find((l: any) => l.name === 'lanes:A').description).toContain('in 3 lanes');
    // copy:S keeps the schema's indexes up during the copy and builds the recommended ones after it.
    const s = result.loads.find((l: any) => l.name === 'copy:S');
    expect(s.builds.map((b: any) => b.action)).toEqual(s.builds.map(() => 'built'));
    expect(s.builds.length).toBeGreaterThan(0);
    expect(Object.keys(result.ratios)).toEqual(expect.arrayContaining(['copy:A_vs_floor', 'copy:A_vs_lanes:A', 'copy:B_vs_insert:B', 'insert:B_vs_insert:A']));
    expect(result.pipeline.copy_vs_floor).toBeGreaterThan(0);
    expect(result.pipeline.copy_vs_lanes_floor).toBeGreaterThan(0);
    // The naive upsert (the public script's approach) is what "x times the naive copy" divides by;
    // its re-run rewrites every row, so it is timed too.
    const naive = result.loads.find((l: any) => l.name === 'naive:S');
    expect(naive.rerun_seconds).toBeGreaterThan(0);
    expect(result.pipeline.copy_vs_naive).toBe(result.ratios['copy:A_vs_naive:S']);
    expect(result.pipeline.pipeline_vs_naive).toBeCloseTo(result.pipeline.seconds / naive.seconds, 1);
    // The figures say which cluster they come from: the test server is the fast, non-durable one.
    expect(result.durability).toEqual({ durable: false, label: expect.stringMatching(/^NOT DURABLE \(fsync off/) });
    // The second data --execute writes nothing, by its own count and by the tuples' xmin.
    expect(result.noop_rerun).toMatchObject({ written: 0, touched: 0 });
    expect(result.tool_peak_rss_mb).toBeGreaterThan(20);
    expect(result.validate).toMatchObject({ available: true, status: 'passed', failed_checks: 0 });
    expect(result.benchmark.patterns.length).toBeGreaterThanOrEqual(8);
    for (const p of result.benchmark.patterns) expect(p.error, p.id).toBeUndefined();
    expect(['A', 'A0', 'B']).toContain(result.first_load_strategy.chosen);
    // The database bench made for itself is gone.
    const admin = openSql(inject('pgAdmin'), {}, 1);
    try {
      expect(await admin`select datname from pg_database where datname like 'sark_bench_%'`).toEqual([]);
    } finally {
      await admin.end({ timeout: 5 });
    }
  });
});

describe('server CPU between two samples', () => {
  it('counts a process that ended in between only for what it spent after the first sample', () => {
    // pid 2 had spent 5 s at the first sample and 6 s when it was reaped: 1 s is this interval's.
    const a = { processes: new Map([[1, 10], [2, 5]]), reaped: 100 };
    const b = { processes: new Map([[1, 12], [3, 4]]), reaped: 106 };
    expect(cpuBetween(a, b)).toEqual({ total_seconds: 2 + 4 + 1, busiest_process_seconds: 4 });
  });
});

describe.skipIf(Boolean(process.env.DATABASE_URL))('the cluster bench starts unless --fast', () => {
  it('is durable as users run PostgreSQL, memory sized, and its figures say so', async () => {
    const server = await startThrowawayServer({ durability: 'durable' });
    try {
      const sql = openSql(server.admin, {}, 1);
      try {
        const rows = await sql<{ name: string; setting: string }[]>`
          select name, current_setting(name) as setting
            from unnest(array['fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'max_wal_size']) as name`;
        const settings = Object.fromEntries(rows.map((r) => [r.name, r.setting]));
        expect(settings).toEqual({ fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on', shared_buffers: '1GB', max_wal_size: '8GB' });
        expect(durabilityOf(settings)).toEqual({ durable: true, label: 'durable (fsync on, synchronous_commit on, full_page_writes on)' });
      } finally {
        await sql.end({ timeout: 5 });
      }
    } finally {
      await server.stop();
    }
  }, 60_000);
});
