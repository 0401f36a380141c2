/**
 * An application stand-in: a loop of inserts, updates and deletes on its own connection, timing
 * every statement, at full speed or at a fixed rate. It never sets a lock_timeout (an application
 * does not), so its latency is exactly how long the migration made it wait. It stops by itself
 * (maxOps / maxMs) or when asked, and never throws: errors are counted. `bench` runs one during a
 * copy (the live load); the zero-downtime tests run it through every phase.
 */
import type { ConnectionSettings } from '../config/connection.ts';
import { openSql, type Sql } from '../db/connect.ts';

export interface WriterStats {
  ops: number;
  byKind: Record<string, number>;
  errors: string[];
  maxLatencyMs: number;
  maxLatencyKind: string;
  /** statements per second over the writer's whole run */
  throughput: number;
  latenciesMs: number[];
  startedAt: number;
  stoppedAt: number;
}

export interface Writer {
  stats: WriterStats;
  /** resolves when the loop has ended (by itself or after stop()) */
  done: Promise<WriterStats>;
  stop(): Promise<WriterStats>;
  /** statements/s and max wait over a time window, from the per-statement log */
  window(fromMs: number, toMs: number): { ops: number; throughput: number; maxLatencyMs: number };
}

export interface WriterOptions {
  maxOps?: number;
  maxMs?: number;
  /** pause between statements (0 = full speed) */
  pauseMs?: number;
  /** a fixed rate instead: statement k starts at k / rate seconds (a slow statement is not made up for by a burst) */
  ratePerSecond?: number;
  /** the v1 writer only updates (row counts stay as they are: bench copies the same rows in every load) */
  updatesOnly?: boolean;
  seed?: number;
  applicationName?: string;
}

export type Op = { kind: string; run: (sql: Sql) => Promise<unknown> };

/** A small deterministic PRNG (mulberry32), so a failing run can be replayed. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A writer of your own: setup returns the function that picks each next statement. */
export function startCustomWriter(conn: ConnectionSettings, o: WriterOptions, setup: (sql: Sql) => Promise<(r: () => number) => Op | undefined>): Writer {
  return startLoop(conn, o, setup);
}

function startLoop(conn: ConnectionSettings, o: WriterOptions, setup: (sql: Sql) => Promise<(r: () => number) => Op | undefined>): Writer {
  const sql = openSql({ ...conn, applicationName: o.applicationName ?? 'sark-app-writer' }, {}, 1);
  const log: { t: number; ms: number }[] = [];
  const stats: WriterStats = { ops: 0, byKind: {}, errors: [], maxLatencyMs: 0, maxLatencyKind: '', throughput: 0, latenciesMs: [], startedAt: performance.now(), stoppedAt: 0 };
  let stopping = false;
  const random = rng(o.seed ?? 42);
  const done = (async () => {
    try {
      const next = await setup(sql);
      stats.startedAt = performance.now();
      let scheduleFrom = stats.startedAt;
      while (!stopping && (o.maxOps === undefined || stats.ops < o.maxOps) && (o.maxMs === undefined || performance.now() - stats.startedAt < o.maxMs)) {
        const op = next(random);
        if (!op) break;
        const t0 = performance.now();
        try {
          await op.run(sql);
        } catch (e) {
          if (stats.errors.length < 50) stats.errors.push(`${op.kind}: ${(e as Error).message}`);
        }
        const ms = performance.now() - t0;
        log.push({ t: t0, ms });
        stats.latenciesMs.push(ms);
        stats.ops += 1;
        stats.byKind[op.kind] = (stats.byKind[op.kind] ?? 0) + 1;
        if (ms > stats.maxLatencyMs) {
          stats.maxLatencyMs = ms;
          stats.maxLatencyKind = op.kind;
        }
        if (o.pauseMs) await new Promise((r) => setTimeout(r, o.pauseMs));
        if (o.ratePerSecond) {
          const due = scheduleFrom + (stats.ops * 1000) / o.ratePerSecond;
          const now = performance.now();
          if (due > now) await new Promise((r) => setTimeout(r, due - now));
          else if (now - due > 1000) scheduleFrom += now - due - 1000; // fell behind: no burst to catch up
        }
      }
    } catch (e) {
      stats.errors.push(`setup: ${(e as Error).message}`);
    } finally {
      stats.stoppedAt = performance.now();
      stats.throughput = stats.ops / Math.max(0.001, (stats.stoppedAt - stats.startedAt) / 1000);
      await sql.end({ timeout: 5 });
    }
    return stats;
  })();
  return {
    stats,
    done,
    async stop() {
      stopping = true;
      return done;
    },
    window(fromMs, toMs) {
      const inWindow = log.filter((e) => e.t >= fromMs && e.t < toMs);
      return {
        ops: inWindow.length,
        throughput: inWindow.length / Math.max(0.001, (toMs - fromMs) / 1000),
        maxLatencyMs: inWindow.reduce((m, e) => Math.max(m, e.ms), 0),
      };
    },
  };
}

/** Column types of the v1 variant in this database (json or jsonb; parameters or parameters_schema). */
async function v1Columns(sql: Sql) {
  const rows = await sql<{ table_name: string; column_name: string; type: string }[]>`
    select c.relname::text as table_name, a.attname::text as column_name, format_type(a.atttypid, null) as type
      from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relname in ('mcp_servers', 'mcp_tools') and a.attnum > 0 and not a.attisdropped`;
  const type = (t: string, c: string) => rows.find((r) => r.table_name === t && r.column_name === c)?.type;
  // An application writes the labels its database has: 'http' (Alembic-built) or 'HTTP' (model-built).
  const labels = await sql<{ typname: string; label: string }[]>`
    select t.typname::text, e.enumlabel::text as label from pg_enum e join pg_type t on t.oid = e.enumtypid
     where t.typname in ('transporttype', 'sensitivitylevel', 'serverstatus')`;
  return {
    json: (t: string, c: string) => type(t, c) ?? 'jsonb',
    parameters: type('mcp_tools', 'parameters') ? 'parameters' : 'parameters_schema',
    label: (typname: string, value: string) => labels.find((l) => l.typname === typname && l.label.toLowerCase() === value)?.label ?? value,
  };
}

/**
 * The v1 application: updates (single and multi-row), inserts of a server with tools in one
 * statement, deletes of tools and of servers (cascading to their tools). Rows are picked by the
 * server, at the first key from a random uuid on (one index probe), so the writer holds no list
 * of a million ids and picks among rows written since it started too.
 */
export function startV1Writer(conn: ConnectionSettings, o: WriterOptions = {}): Writer {
  return startLoop(conn, o, async (sql) => {
    const cols = await v1Columns(sql);
    // The first key at or after a random point of the uuid space, wrapping round to the smallest.
    const pick = (table: 'mcp_servers' | 'mcp_tools', from: string) =>
      `coalesce((select id from ${table} where id >= '${from}' order by id limit 1), (select id from ${table} order by id limit 1))`;
    let n = 0;
    return (r) => {
      n += 1;
      const x = o.updatesOnly ? [0.15, 0.35, 0.7][Math.floor(r() * 3)]! : r();
      const point = () => uuidFrom(r);
      if (x < 0.3) {
        return { kind: 'update_server', run: (q) => q`update mcp_servers set description = ${`touched by the writer, op ${n}`}, updated_at = clock_timestamp() where id = ${q.unsafe(pick('mcp_servers', point()))}` };
      }
      if (x < 0.4) {
        const ids = [point(), point(), point()].map((p) => pick('mcp_servers', p)).join(', ');
        return { kind: 'update_servers_multi', run: (q) => q`update mcp_servers set tags = ${JSON.stringify([`op:${n}`])}::text::${q.unsafe(cols.json('mcp_servers', 'tags'))} where id in (${q.unsafe(ids)})` };
      }
      if (x < 0.6) {
        const id = uuidFrom(r);
        const toolIds = [uuidFrom(r), uuidFrom(r)];
        return {
          kind: 'insert_server_with_tools',
          run: (q) => q`
            with s as (
              insert into mcp_servers (id, name, transport, endpoint, mcp_version, capabilities, sensitivity_level, status, tags, extra_metadata, created_at, updated_at)
              values (${id}, ${`writer server ${n}`}, ${cols.label('transporttype', 'http')}, ${`https://writer-${n}.example.com/mcp`}, '2025-06-18',
                      '["tools"]'::text::${q.unsafe(cols.json('mcp_servers', 'capabilities'))},
                      ${cols.label('sensitivitylevel', 'medium')}, ${cols.label('serverstatus', 'active')},
                      '[]'::text::${q.unsafe(cols.json('mcp_servers', 'tags'))},
                      ${JSON.stringify({ writer_op: n })}::text::${q.unsafe(cols.json('mcp_servers', 'extra_metadata'))},
                      clock_timestamp(), clock_timestamp())
              returning id)
            insert into mcp_tools (id, server_id, name, description, ${q.unsafe(cols.parameters)}, sensitivity_level, requires_approval, extra_metadata, created_at, updated_at)
            select t.id, s.id, 'tool ' || t.k, 'a writer tool', '{"type":"object"}'::text::${q.unsafe(cols.json('mcp_tools', cols.parameters))},
                   ${cols.label('sensitivitylevel', 'low')}, false, '{}'::text::${q.unsafe(cols.json('mcp_tools', 'extra_metadata'))}, clock_timestamp(), clock_timestamp()
              from s, unnest(${toolIds}::uuid[]) with ordinality as t(id, k)`,
        };
      }
      if (x < 0.8) {
        return { kind: 'update_tool', run: (q) => q`update mcp_tools set description = ${`tool touched, op ${n}`}, updated_at = clock_timestamp() where id = ${q.unsafe(pick('mcp_tools', point()))}` };
      }
      if (x < 0.9) {
        return { kind: 'delete_tool', run: (q) => q`delete from mcp_tools where id = ${q.unsafe(pick('mcp_tools', point()))}` };
      }
      // Never below 20 servers (a small test database must not be emptied).
      return {
        kind: 'delete_server',
        run: (q) => q`delete from mcp_servers where id = ${q.unsafe(pick('mcp_servers', point()))}
                        and exists (select 1 from mcp_servers offset 20)`,
      };
    };
  });
}

/** A version 4 uuid from the writer's seeded generator, so a run can be replayed. */
function uuidFrom(r: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(r() * 16).toString(16));
  hex[12] = '4';
  hex[16] = '89ab'[Math.floor(r() * 4)]!;
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The p-th percentile (0-100) of the latencies, in ms. */
export function percentile(latenciesMs: number[], p: number): number {
  const s = [...latenciesMs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : 0;
}

/** Several writers (sessions) of one application, as one. */
export function mergeStats(all: WriterStats[]): WriterStats {
  const slowest = all.reduce((a, b) => (b.maxLatencyMs > a.maxLatencyMs ? b : a));
  const startedAt = Math.min(...all.map((s) => s.startedAt));
  const stoppedAt = Math.max(...all.map((s) => s.stoppedAt));
  const ops = all.reduce((n, s) => n + s.ops, 0);
  const byKind: Record<string, number> = {};
  for (const s of all) for (const [k, v] of Object.entries(s.byKind)) byKind[k] = (byKind[k] ?? 0) + v;
  return {
    ops,
    byKind,
    errors: all.flatMap((s) => s.errors),
    maxLatencyMs: slowest.maxLatencyMs,
    maxLatencyKind: slowest.maxLatencyKind,
    throughput: ops / Math.max(0.001, (stoppedAt - startedAt) / 1000),
    latenciesMs: all.flatMap((s) => s.latenciesMs),
    startedAt,
    stoppedAt,
  };
}

/** What bench reports of a writer: statements, errors, and its latency distribution. */
export function writerSummary(s: WriterStats) {
  return {
    statements: s.ops,
    statements_per_second: Math.round(s.throughput * 10) / 10,
    errors: s.errors.length,
    first_errors: s.errors.slice(0, 3),
    p50_ms: Math.round(percentile(s.latenciesMs, 50) * 10) / 10,
    p99_ms: Math.round(percentile(s.latenciesMs, 99) * 10) / 10,
    max_ms: Math.round(s.maxLatencyMs),
    slowest: s.maxLatencyKind,
  };
}
