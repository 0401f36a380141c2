/**
 * Zero downtime, measured (not a unit test): `npx tsx test/load/measure.ts [--servers 100000]
 * [--tools 10] [--batch-size 10000] [--baseline-seconds 10] [--compare-upsert]`.
 *
 * On a throwaway PostgreSQL (DATABASE_URL's server if set, else a local cluster) it seeds the v1
 * tables, then runs a v1 writer at full speed (one connection, its own statement loop, no
 * lock_timeout) through the whole migration — sync --enable, the batched copy, validation,
 * cutover — and prints the writer's throughput before, during and after, its longest wait, and
 * whether v1 and v2 end equal row for row.
 */
import { parseArgs } from 'node:util';
import { executeData } from '../../src/commands/data.ts';
import { seed } from '../../src/commands/seed.ts';
import { GlobalOptions, openContext } from '../../src/context.ts';
import { createDatabase, dropDatabase, startThrowawayServer, type PostgresServer } from '../../src/db/throwaway.ts';
import { formatDuration, log, output } from '../../src/output.ts';
import { schemaUp } from '../../src/schema/migrate.ts';
import { readSyncState } from '../../src/sync/state.ts';
import { syncCutover, syncEnable } from '../../src/sync/sync.ts';
import { ensureMapping, inverseDifferences, startV1Writer } from '../support/writer.ts';

const { values: args } = parseArgs({
  options: {
    servers: { type: 'string', default: '100000' },
    tools: { type: 'string', default: '10' },
    'batch-size': { type: 'string' },
    'baseline-seconds': { type: 'string', default: '10' },
    'lock-timeout': { type: 'string', default: '2s' },
  },
});
const servers = Number(args.servers);
const tools = Number(args.tools);
const batchSize = args['batch-size'] ? Number(args['batch-size']) : undefined;
const baselineMs = Number(args['baseline-seconds']) * 1000;
output.quiet = true;
let lockRetries = 0;
log.warn = (m: string) => {
  if (/lock not available|deadlock/.test(m)) lockRetries += 1;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (m: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`);

async function timed<T>(name: string, fn: () => Promise<T>, marks: { name: string; from: number; to: number }[]): Promise<T> {
  const from = performance.now();
  const r = await fn();
  marks.push({ name, from, to: performance.now() });
  say(`${name}: ${formatDuration(performance.now() - from)}`);
  return r;
}

async function main() {
  const server: PostgresServer = await startThrowawayServer();
  const name = `sync_measure_${process.pid}`;
  say(`PostgreSQL: ${server.kind}${server.bindir ? ` (${server.bindir})` : ''}`);
  try {
    const conn = await createDatabase(server, name);
    const options = GlobalOptions.parse({ lockTimeout: args['lock-timeout'], allowDrift: true }); // other engineers edit sql/ meanwhile
    const ctx = await openContext(options, conn);
    try {
      const marks: { name: string; from: number; to: number }[] = [];
      await schemaUp(ctx, { to: '005' });
      await timed(`seed ${servers.toLocaleString('en-US')} servers x ${tools} tools`, () => seed(ctx, { servers, toolsPerServer: tools, dirty: false }), marks);
      await timed('schema up (006, 007)', () => schemaUp(ctx, {}), marks);
      await ensureMapping(ctx.sql);
      await ctx.sql`vacuum analyze`;

      const writer = startV1Writer(conn, { maxMs: 60 * 60 * 1000, seed: 2024 });
      await sleep(1000); // the writer reads its ids first
      const baseFrom = performance.now();
      await sleep(baselineMs);
      const migFrom = performance.now();
      await timed('sync --enable', () => syncEnable(ctx), marks);
      const copy = await timed(`data --execute${batchSize ? ` --batch-size ${batchSize}` : ''}`, () => executeData(ctx, { batchSize }), marks);
      const diff = await timed('validation (inverse_differences: v1 EXCEPT rebuilt, both ways, one snapshot)', () => inverseDifferences(ctx.sql), marks);
      await timed('sync --cutover', () => syncCutover(ctx), marks);
      const migTo = performance.now();
      await sleep(baselineMs);
      const stats = await writer.stop();
      const afterTo = performance.now();

      const final = await timed('final comparison', () => inverseDifferences(ctx.sql), marks);
      const state = await readSyncState(ctx.sql);
      const before = writer.window(baseFrom, migFrom);
      const during = writer.window(migFrom, migTo);
      const after = writer.window(migTo, afterTo);
      const counts = (await ctx.sql<{ s1: number; t1: number; s2: number; t2: number }[]>`
        select (select count(*) from mcp_servers)::int as s1, (select count(*) from mcp_tools)::int as t1,
               (select count(*) from resources)::int as s2, (select count(*) from capabilities)::int as t2`)[0]!;

      const lines = [
        '',
        `== zero-downtime migration of ${servers.toLocaleString('en-US')} servers / ${(servers * tools).toLocaleString('en-US')} tools, v1 writer at full speed ==`,
        ...marks.map((m) => `  ${m.name.padEnd(78)} ${formatDuration(m.to - m.from)}`),
        `  copy: ${copy.tables.map((t) => `${t.table} ${t.inserted + t.updated} written in ${t.batches} batches, ${t.rows_per_second.toLocaleString('en-US')} rows/s`).join('; ')}`,
        '',
        `  writer throughput before the migration   ${before.throughput.toFixed(0).padStart(6)} statements/s (${before.ops} in ${formatDuration(migFrom - baseFrom)}), max wait ${before.maxLatencyMs.toFixed(0)} ms`,
        `  writer throughput during the migration   ${during.throughput.toFixed(0).padStart(6)} statements/s (${during.ops} in ${formatDuration(migTo - migFrom)}), max wait ${during.maxLatencyMs.toFixed(0)} ms`,
        ...marks
          .filter((m) => m.from >= migFrom && m.to <= migTo)
          .map((m) => {
            const w = writer.window(m.from, m.to);
            return `    during ${m.name.split(' (')[0]!.padEnd(36)} ${w.throughput.toFixed(0).padStart(6)} statements/s, max wait ${w.maxLatencyMs.toFixed(0)} ms`;
          }),
        `  writer throughput after the cutover      ${after.throughput.toFixed(0).padStart(6)} statements/s (${after.ops} in ${formatDuration(afterTo - migTo)}), max wait ${after.maxLatencyMs.toFixed(0)} ms`,
        `  writer: ${stats.ops} statements in all, ${stats.errors.length} errors, longest wait ${stats.maxLatencyMs.toFixed(0)} ms (${stats.maxLatencyKind}); lock_timeout ${args['lock-timeout']}`,
        `  statements: ${Object.entries(stats.byKind).map(([k, v]) => `${k} ${v}`).join(', ')}`,
        '',
        `  v1 ${counts.s1} servers / ${counts.t1} tools; v2 ${counts.s2} resources / ${counts.t2} capabilities`,
        `  differences during the migration (validation): ${diff}; at the end: ${final} -> v1 and v2 ${final === 0 ? 'EQUAL row for row' : 'DIFFER'}`,
        `  sync failures open: ${state.failures.open}; phase: ${state.phase}; lock waits the migration gave up and retried: ${lockRetries}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
      if (stats.errors.length) process.stdout.write(`  writer errors: ${stats.errors.slice(0, 5).join(' | ')}\n`);
      process.exitCode = final === 0 && state.failures.open === 0 && stats.errors.length === 0 ? 0 : 1;
    } finally {
      await ctx.close();
    }
  } finally {
    await dropDatabase(server, name).catch(() => {});
    await server.stop();
  }
}

await main();
