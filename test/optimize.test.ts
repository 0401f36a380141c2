/**
 * Phase 5, as the runbook promises it: the query patterns answer from indexes, a filter that falls
 * back to a sequential scan is flagged, an INVALID index is never taken for a present one (it is
 * dropped and rebuilt), `optimize --optimize` never blocks a writer, and high-sensitivity
 * capabilities come critical first. Small data (3,000 servers x 5 tools), one database per file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from '../src/context.ts';
import { openSql, type Sql } from '../src/db/connect.ts';
import { withRunLock } from '../src/db/lock.ts';
import { SQL_DIR, applySqlFile } from '../src/db/sqlFiles.ts';
import { runAnalyze } from '../src/optimize/analyze.ts';
import { optimizeDatabase } from '../src/optimize/apply.ts';
import { runBenchmark } from '../src/optimize/benchmark.ts';
import { indexDefinitions, queryPatterns } from '../src/optimize/files.ts';
import { ensureIndexes, indexState } from '../src/optimize/indexes.ts';
import { loadWithIndexesInPlace, loadedTableIndexes, withGinMerger } from '../src/optimize/load.ts';
import { schemaUp } from '../src/schema/migrate.ts';
import { seed } from '../src/commands/seed.ts';
import { catalogSnapshot } from './support/catalog.ts';
import { freshDatabase, runCli, type TestDatabase } from './support/db.ts';

let db: TestDatabase;
let ctx: Context;

/**
 * v2 rows from the seeded v1 rows: a plain INSERT … SELECT close enough to the mapping for the
 * query patterns (the metadata keys they read are at the top level). The real copy has its own tests.
 */
const POPULATE_V2 = `
  INSERT INTO resources (id, name, protocol, endpoint, sensitivity_level, metadata, created_at, updated_at)
  SELECT s.id::text, s.name, 'mcp', coalesce(CASE WHEN s.transport = 'stdio' THEN s.command ELSE s.endpoint END, '-'),
         s.sensitivity_level::text,
         s.extra_metadata || jsonb_build_object('transport', s.transport::text, 'status', s.status::text,
           'last_health_check', s.last_health_check, 'tags', s.tags, 'command', s.command, 'endpoint', s.endpoint),
         s.created_at, s.updated_at
    FROM mcp_servers s;
  INSERT INTO capabilities (id, resource_id, name, description, input_schema, output_schema, sensitivity_level, metadata)
  SELECT t.id::text, t.server_id::text, t.name, t.description, t.parameters_schema, '{}', t.sensitivity_level::text,
         t.extra_metadata || jsonb_build_object('requires_approval', t.requires_approval)
    FROM mcp_tools t;`;

beforeAll(async () => {
  db = await freshDatabase('v1');
  ctx = await db.context();
  await seed(ctx, { servers: 3000, toolsPerServer: 5, dirty: false });
  await schemaUp(ctx, {});
  await db.sql.unsafe(POPULATE_V2);
  for (const f of ['001_seed_cost_tracking.sql', '002_seed_principal_budgets.sql']) await applySqlFile(db.sql, join(SQL_DIR, 'bench', f), false);
  await db.sql`select sark_bench.seed_cost_tracking(30000)`;
  await db.sql`select sark_bench.seed_principal_budgets()`;
  await db.sql`refresh materialized view mv_daily_cost_summary`;
  await ensureIndexes(ctx, indexDefinitions());
  await db.sql`vacuum analyze resources, capabilities, cost_tracking, mv_daily_cost_summary`;
});

afterAll(async () => {
  await db?.drop();
});

const env = () => ({ DATABASE_URL: db.url });

describe('sql/optimize files', () => {
  it('holds one CREATE INDEX CONCURRENTLY per index file, and the 0NN files rebuild exactly the indexes of migrations 006 and 007', async () => {
    const defs = indexDefinitions();
    expect(defs.map((d) => d.name)).toEqual(expect.arrayContaining(['ix_resources_protocol', 'ix_capabilities_metadata_gin', 'ix_capabilities_high_sensitivity_rank']));
    const schemaIndexes = defs.filter((d) => d.kind === 'schema');
    expect(schemaIndexes.map((d) => [d.id.slice(0, 3), d.migration])).toEqual([
      ...['001', '002', '003', '004', '005', '006', '007', '008'].map((n) => [n, '006']),
      ...['011', '012', '013', '014', '015', '016'].map((n) => [n, '007']),
    ]);
    const before = await catalogSnapshot(db.sql);
    const maint = openSql(db.conn, {}, 1);
    try {
      for (const d of schemaIndexes) await maint.unsafe(`drop index concurrently ${d.name}`);
    } finally {
      await maint.end();
    }
    expect(await catalogSnapshot(db.sql)).not.toEqual(before);
    await ensureIndexes(ctx, schemaIndexes);
    expect(await catalogSnapshot(db.sql)).toEqual(before);
  });

  it('ranks high-sensitivity capabilities critical > high > medium > low, with the same expression in the pattern and its index', async () => {
    const caseOf = (text: string) => /CASE\s+(?:c\.)?sensitivity_level\s+([\s\S]*?END)/.exec(text)![1]!.replace(/\s+/g, ' ');
    const pattern = readFileSync(join(SQL_DIR, 'optimize/queries/004_high_sensitivity_capabilities.sql'), 'utf8');
    const index = readFileSync(join(SQL_DIR, 'optimize/indexes/101_ix_capabilities_high_sensitivity_rank.sql'), 'utf8');
    expect(caseOf(pattern)).toBe(caseOf(index));
    const ranked = await db.sql.unsafe<{ v: string }[]>(
      `select v from (values ('medium'), ('low'), ('high'), ('critical')) t(v) order by CASE v ${caseOf(pattern)} DESC`,
    );
    expect(ranked.map((r) => r.v)).toEqual(['critical', 'high', 'medium', 'low']);

    const rows = await db.sql.unsafe<{ sensitivity_level: string }[]>(queryPatterns().find((p) => p.id.startsWith('004'))!.sql);
    expect(rows.length).toBe(50);
    const levels = rows.map((r) => r.sensitivity_level);
    expect(levels[0]).toBe('critical');
    expect(levels.lastIndexOf('critical')).toBeLessThan(levels.indexOf('high') === -1 ? Infinity : levels.indexOf('high'));
    expect(new Set(levels)).toEqual(new Set(levels.filter((l) => l === 'critical' || l === 'high')));
  });
});

describe('optimize --benchmark', () => {
  it('runs every pattern, each returning rows, each filtering pattern from an index', async () => {
    const b = await runBenchmark(ctx, { runs: 3 });
    expect(b.patterns.length).toBe(queryPatterns().length);
    for (const p of b.patterns) {
      expect(p.error, p.id).toBeUndefined();
      expect(p.rows, p.id).toBeGreaterThan(0);
      expect(p.flags, p.id).toEqual([]);
    }
    const targeted = b.patterns.filter((p) => p.target_ms !== null).map((p) => p.id.slice(0, 3));
    expect(targeted).toEqual(['001', '002', '003', '004', '007', '008']);
  });

  it('prints the JSON document: p50/p95/max per pattern and the plan summary', () => {
    const r = runCli(['optimize', '--benchmark', '--json', '--runs', '3'], env());
    expect(r.status, r.stderr).toBe(0);
    const doc = r.json();
    expect(doc.summary).toMatchObject({ patterns: queryPatterns().length, targeted: 6, flagged: [], over_target: [], errors: [] });
    const p = doc.patterns.find((x: { id: string }) => x.id === '004_high_sensitivity_capabilities');
    expect(p).toMatchObject({ target_ms: 60, goal_ms: 6, runs: 3, rows: 50, meets_target: true, expected_index_used: true, flags: [] });
    for (const k of ['p50_ms', 'p95_ms', 'max_ms', 'mean_ms']) expect(typeof p[k]).toBe('number');
    expect(p.plan.indexes_used).toContain('ix_capabilities_high_sensitivity_rank');
    expect(p.plan).toHaveProperty('shared_hit_blocks');
    expect(p.plan).toHaveProperty('shared_read_blocks');
    expect(p.plan.seq_scans_on_filter).toEqual([]);
  });

  it('flags a pattern whose filter falls back to a sequential scan once its indexes are gone', async () => {
    await db.sql.unsafe('drop index concurrently ix_capabilities_high_sensitivity_rank');
    await db.sql.unsafe('drop index concurrently ix_capabilities_sensitivity');
    try {
      const b = await runBenchmark(ctx, { runs: 2, only: ['004'] });
      const p = b.patterns[0]!;
      expect(p.flags.length).toBe(1);
      expect(p.plan!.seq_scans_on_filter[0]).toMatchObject({ relation: 'capabilities' });
      expect(p.plan!.seq_scans_on_filter[0]!.rows_examined).toBeGreaterThanOrEqual(15000);
      expect(b.summary.flagged).toEqual(['004_high_sensitivity_capabilities']);
      const cli = runCli(['optimize', '--benchmark', '--json', '--runs', '2'], env());
      expect(cli.status).toBe(1);
    } finally {
      await ensureIndexes(ctx, indexDefinitions());
    }
    const again = await runBenchmark(ctx, { runs: 2, only: ['004'] });
    expect(again.patterns[0]!.flags).toEqual([]);
  });

  it('--analyze, --benchmark and --report create nothing and take no lock', async () => {
    const before = await catalogSnapshot(db.sql);
    const ledger = await catalogSnapshot(db.sql, 'sark_migration').catch(() => []);
    for (const mode of ['--analyze', '--benchmark', '--report']) {
      const r = runCli(['optimize', mode, '--json', '--runs', '2'], env());
      expect([0, 1], `${mode}: ${r.stderr}`).toContain(r.status);
    }
    expect(await catalogSnapshot(db.sql)).toEqual(before);
    expect(await catalogSnapshot(db.sql, 'sark_migration').catch(() => [])).toEqual(ledger);
  });
});

describe('INVALID indexes', () => {
  it('are reported as INVALID (never present), then dropped concurrently and rebuilt by --optimize', async () => {
    // A concurrent build that fails leaves its index INVALID: a UNIQUE build over duplicate names.
    await db.sql.unsafe('drop index concurrently ix_capabilities_name');
    await expect(db.sql.unsafe('create unique index concurrently ix_capabilities_name on capabilities (name)')).rejects.toThrow(/could not create unique index/);
    expect(await indexState(db.sql, 'ix_capabilities_name')).toMatchObject({ exists: true, valid: false });

    const a = await runAnalyze(ctx);
    expect(a.defined_indexes.find((d) => d.name === 'ix_capabilities_name')).toMatchObject({ present: false, invalid: true });
    expect(a.sections['007_invalid_indexes']!.rows.map((r) => r.index_name)).toEqual(['ix_capabilities_name']);
    const cli = runCli(['optimize', '--analyze', '--json'], env());
    expect(cli.status).toBe(1);
    expect(cli.json().recommendations[0]).toMatchObject({ action: 'rebuild_invalid_index', target: 'ix_capabilities_name', applies: true });

    const r = runCli(['optimize', '--optimize', '--json', '--runs', '2'], env());
    expect(r.status, r.stderr).toBe(0);
    expect(r.json().actions.find((x: { target: string }) => x.target === 'ix_capabilities_name')).toMatchObject({ action: 'rebuild_invalid_index' });
    const state = await indexState(db.sql, 'ix_capabilities_name');
    expect(state).toMatchObject({ exists: true, valid: true });
    expect(state.definition).toBe('CREATE INDEX ix_capabilities_name ON public.capabilities USING btree (name)');
  });
});

describe('optimize --optimize on a live database', () => {
  it('builds, refreshes and analyzes while a writer keeps writing, never blocked (no wait > 1 s, no blocking pid)', async () => {
    await db.sql.unsafe('drop index concurrently ix_capabilities_metadata_gin');
    await db.sql.unsafe('drop index concurrently ix_capabilities_high_sensitivity_rank');
    const writer = openSql(db.conn, {}, 1);
    const monitor = openSql(db.conn, {}, 1);
    const latencies: number[] = [];
    const blockedBy: number[][] = [];
    let stop = false;
    try {
      const [{ pid }] = (await writer`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
      const ids = (await db.sql<{ id: string; resource_id: string }[]>`select id, resource_id from capabilities order by id limit 200`).map((r) => r);
      const write = (async () => {
        for (let i = 0; !stop && i < 100_000; i++) {
          const c = ids[i % ids.length]!;
          const t = performance.now();
          if (i % 3 === 0) {
            await writer`insert into cost_tracking (principal_id, resource_id, capability_id, estimated_cost, actual_cost) values ('writer', ${c.resource_id}, ${c.id}, 0.01, 0.01)`;
          } else if (i % 3 === 1) {
            await writer`update capabilities set metadata = metadata || jsonb_build_object('touched', ${i}::int) where id = ${c.id}`;
          } else {
            await writer`insert into capabilities (id, resource_id, name, sensitivity_level) values (${`live-${i}`}, ${c.resource_id}, ${`live_tool_${i}`}, 'critical')`;
          }
          latencies.push(performance.now() - t);
        }
      })();
      const watch = (async () => {
        while (!stop) {
          const [row] = await monitor<{ b: number[] }[]>`select pg_blocking_pids(${pid}::int) as b`;
          if (row!.b.length) blockedBy.push(row!.b);
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      await new Promise((r) => setTimeout(r, 200));
      const result = await withRunLock(ctx.sql, () => optimizeDatabase(ctx, { runs: 2 }));
      const during = latencies.length;
      stop = true;
      await Promise.all([write, watch]);

      expect(result.actions.map((a) => `${a.action} ${a.target}`)).toEqual(
        expect.arrayContaining([
          'build_index ix_capabilities_metadata_gin',
          'build_index ix_capabilities_high_sensitivity_rank',
          'refresh_materialized_view mv_daily_cost_summary',
          'analyze capabilities',
        ]),
      );
      for (const a of result.actions) expect(a.cites.length, `${a.action} ${a.target} cites its measurement`).toBeGreaterThan(10);
      expect(during).toBeGreaterThan(50);
      expect(blockedBy).toEqual([]);
      expect(Math.max(...latencies)).toBeLessThan(1000);
      expect(await indexState(db.sql, 'ix_capabilities_metadata_gin')).toMatchObject({ valid: true });
      expect(await indexState(db.sql, 'ix_capabilities_high_sensitivity_rank')).toMatchObject({ valid: true });
    } finally {
      stop = true;
      await writer.end();
      await monitor.end();
    }
  });
});

describe('load strategy', () => {
  it('the GIN merger runs beside a load and leaves every GIN index complete', async () => {
    const { result, merger } = await withGinMerger(ctx, async () => {
      const r = await db.sql`
        insert into capabilities (id, resource_id, name, sensitivity_level, metadata)
        select 'bulk-' || g, (select id from resources order by id limit 1), 'bulk_' || g, 'low',
               jsonb_build_object('bulk', true, 'n', g, 'tag', 't' || (g % 7))
          from generate_series(1, 20000) g`;
      return r.count;
    });
    expect(result).toBe(20000);
    expect(merger.error).toBeUndefined();
    expect(merger.indexes).toEqual(expect.arrayContaining(['ix_capabilities_metadata_gin', 'ix_resources_metadata_gin']));
    expect(merger.rounds).toBeGreaterThan(0);
    const viaIndex = await countWith(db.sql, true);
    expect(viaIndex).toBe(await countWith(db.sql, false));
    expect(viaIndex).toBe(Array.from({ length: 20000 }, (_, i) => i + 1).filter((g) => g % 7 === 3).length);
  });
});

describe('load strategy, lanes', () => {
  it('a copy in lanes merges for itself: no merging beside it, one final merge, every GIN index complete', async () => {
    const { merger } = await withGinMerger(
      ctx,
      async () => {
        await db.sql`
          insert into capabilities (id, resource_id, name, sensitivity_level, metadata)
          select 'lane-' || g, (select id from resources order by id limit 1), 'lane_' || g, 'low',
                 jsonb_build_object('bulk', true, 'n', g, 'tag', 't' || (g % 7))
            from generate_series(1, 5000) g`;
      },
      { background: false },
    );
    expect(merger.error).toBeUndefined();
    expect(merger.rounds).toBe(1);
    const [pending] = await db.sql<{ pages: number }[]>`
      select coalesce(sum(gin_clean_pending_list(i.indexrelid::regclass)), 0)::int as pages
        from pg_index i join pg_class c on c.oid = i.indexrelid join pg_am am on am.oid = c.relam
       where am.amname = 'gin' and i.indrelid = 'capabilities'::regclass`;
    expect(pending!.pages).toBe(0);
    expect(await countWith(db.sql, true)).toBe(await countWith(db.sql, false));
  });
});

describe('loadWithIndexesInPlace (the load strategy of data --execute)', () => {
  it('creates every defined index while the v2 tables are empty, then loads beside the GIN merger', async () => {
    const other = await freshDatabase('v1');
    try {
      const c = await other.context();
      await seed(c, { servers: 300, toolsPerServer: 4, dirty: false });
      await schemaUp(c, {});
      const { result, merger, built } = await loadWithIndexesInPlace(c, async () => {
        await other.sql.unsafe(POPULATE_V2);
        return (await other.sql<{ n: number }[]>`select count(*)::int as n from capabilities`)[0]!.n;
      });
      expect(result).toBe(1200);
      expect(built.map((b) => b.index).sort()).toEqual(loadedTableIndexes().filter((d) => d.kind === 'recommended').map((d) => d.name).sort());
      expect(merger.error).toBeUndefined();
      for (const d of loadedTableIndexes()) expect(await indexState(other.sql, d.name), d.name).toMatchObject({ valid: true });
      // Not empty any more: a re-run creates nothing first.
      const again = await loadWithIndexesInPlace(c, async () => 0);
      expect(again.built).toEqual([]);
    } finally {
      await other.drop();
    }
  });
});

async function countWith(sql: Sql, index: boolean): Promise<number> {
  return sql.begin(async (tx) => {
    await tx.unsafe(index ? 'set local enable_seqscan = off' : 'set local enable_bitmapscan = off; set local enable_indexscan = off');
    const [r] = await tx.unsafe<{ n: number }[]>(`select count(*)::int as n from capabilities where metadata @> '{"bulk": true, "tag": "t3"}'`);
    return r!.n;
  }) as Promise<number>;
}
