/**
 * The copy under a live application, measured (not a unit test):
 *   npx tsx test/load/live.ts [--servers 20000] [--tools 10] [--rate 5] [--deadline-factor 3]
 *                             [--batch-size N] [--jobs N] [--rounds N]
 *
 * On a throwaway PostgreSQL (DATABASE_URL's server if set) it seeds v1 once, applies the v2
 * schema, then runs the default `data --execute` on clones of that database, quietly and with a v1
 * writer at a fixed rate (updates, inserts, deletes of random servers and tools), alternating
 * which comes first over --rounds, each after a CHECKPOINT (so neither inherits the other's
 * dirty buffers). It
 * prints both copy times, their ratio, the writer's statement latencies (p50 / p99 / max), its
 * errors, and whether v1 and v2 end equal. A copy under the writer that is not done after
 * deadline-factor x the quiet time (plus 30 s) is cancelled and reported as such.
 */
import { parseArgs } from 'node:util';
import { executeData } from '../../src/commands/data.ts';
import { seed } from '../../src/commands/seed.ts';
import { GlobalOptions, openContext } from '../../src/context.ts';
import { createDatabase, dropDatabase, startThrowawayServer } from '../../src/db/throwaway.ts';
import { formatDuration, output } from '../../src/output.ts';
import { schemaUp } from '../../src/schema/migrate.ts';
import { writerSummary } from '../../src/bench/appWriter.ts';
import { differences, ensureMapping, startV1Writer, type WriterStats } from '../support/writer.ts';

const { values: args } = parseArgs({
  options: {
    servers: { type: 'string', default: '20000' },
    tools: { type: 'string', default: '10' },
    rate: { type: 'string', default: '5' },
    'deadline-factor': { type: 'string', default: '3' },
    'batch-size': { type: 'string' },
    jobs: { type: 'string' },
    rounds: { type: 'string', default: '1' },
  },
});
output.quiet = !process.env.SARK_DEBUG;
const say = (m: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const latencySummary = (s: WriterStats) => {
  const w = writerSummary(s);
  return `${w.statements} statements, ${w.errors} errors, p50 ${w.p50_ms} ms, p99 ${w.p99_ms} ms, max ${w.max_ms} ms (${w.slowest})`;
};

async function main() {
  const servers = Number(args.servers);
  const tools = Number(args.tools);
  const copyOpts = { batchSize: args['batch-size'] ? Number(args['batch-size']) : undefined, jobs: args.jobs ? Number(args.jobs) : undefined };
  const server = await startThrowawayServer();
  const template = `live_${process.pid}`;
  const made: string[] = [template];
  try {
    const conn = await createDatabase(server, template);
    const ctx = await openContext(GlobalOptions.parse({}), conn);
    await schemaUp(ctx, { to: '005' });
    await seed(ctx, { servers, toolsPerServer: tools, dirty: false });
    await schemaUp(ctx, {});
    await ensureMapping(ctx.sql);
    await ctx.sql`vacuum analyze`;
    await ctx.close();
    say(`seeded ${servers} servers x ${tools} tools`);

    const clone = async (suffix: string) => {
      const name = `${template}_${suffix}`;
      made.push(name);
      return openContext(GlobalOptions.parse({}), await createDatabase(server, name, template));
    };

    const admin = await openContext(GlobalOptions.parse({}), server.admin);
    const quietCopy = async (round: number) => {
      const quiet = await clone(`quiet${round}`);
      await admin.sql`checkpoint`;
      const t = performance.now();
      await executeData(quiet, copyOpts);
      const ms = performance.now() - t;
      await quiet.close();
      say(`round ${round}: quiet copy ${formatDuration(ms)}`);
      return ms;
    };
    const liveCopy = async (round: number, quietMs: number) => {
      const live = await clone(`live${round}`);
      await admin.sql`checkpoint`;
      const writer = startV1Writer(live.conn, { ratePerSecond: Number(args.rate), seed: 7 + round, maxMs: 3_600_000 });
      await sleep(2000);
      const deadline = Number(args['deadline-factor']) * quietMs + 30_000;
      const t = performance.now();
      const outcome = await Promise.race([executeData(live, copyOpts).then(() => 'done' as const), sleep(deadline).then(() => 'deadline' as const)]);
      const ms = performance.now() - t;
      await sleep(1000);
      const stats = await writer.stop();
      say(`round ${round}: copy under a writer at ${args.rate}/s ${outcome === 'done' ? formatDuration(ms) : `NOT DONE after ${formatDuration(ms)}`}; writer: ${latencySummary(stats)}`);
      if (stats.errors.length) say(`writer errors: ${stats.errors.slice(0, 3).join(' | ')}`);
      if (outcome === 'done') say(`v1 vs v2: ${JSON.stringify({ ...(await differences(live.sql)), sample: undefined })}`);
      await live.close().catch(() => {});
      return ms;
    };
    const quietMs: number[] = [];
    const liveMs: number[] = [];
    for (let round = 1; round <= Number(args.rounds); round++) {
      if (round % 2 === 1) {
        quietMs.push(await quietCopy(round));
        liveMs.push(await liveCopy(round, quietMs.at(-1)!));
      } else {
        const q = quietMs.at(-1)!;
        liveMs.push(await liveCopy(round, q));
        quietMs.push(await quietCopy(round));
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    say(`median quiet ${formatDuration(median(quietMs))}, median under the writer ${formatDuration(median(liveMs))}: ratio ${(median(liveMs) / median(quietMs)).toFixed(2)}`);
    await admin.close();
  } finally {
    // the copy of a missed deadline may still run: FORCE ends its sessions
    for (const name of made.reverse()) await dropDatabase(server, name).catch((e) => say(`drop ${name}: ${(e as Error).message}`));
    await server.stop();
  }
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
