/**
 * `demo`: the first thing a newcomer runs. A throwaway PostgreSQL, a v1 database seeded with clean
 * and a few dirty rows, then every phase in runbook order; the server and its files are removed at
 * the end, also after a failure or Ctrl-C.
 */
import { z } from 'zod';
import { defineCommand } from '../command.ts';
import { openContext, type GlobalOptions } from '../context.ts';
import { createDatabase, startThrowawayServer } from '../db/throwaway.ts';
import { formatDuration, log, step } from '../output.ts';
import { schemaUp } from '../schema/migrate.ts';
import { readStatus, type DatabaseStatus } from '../status/phase.ts';
import { seed } from './seed.ts';

const DemoOptions = z.object({
  servers: z.number().int().min(1).max(1_000_000).default(2000),
  toolsPerServer: z.number().int().min(0).max(100).default(5),
});

export interface DemoResult {
  server: string;
  phases: { name: string; seconds: number }[];
  status: DatabaseStatus;
}

export async function demo(global: GlobalOptions, o: z.infer<typeof DemoOptions>): Promise<DemoResult> {
  const server = await step('starting a throwaway PostgreSQL', () => startThrowawayServer({ databaseUrl: global.databaseUrl }));
  const phases: DemoResult['phases'] = [];
  const timed = async <T>(name: string, fn: () => Promise<T>) => {
    const t = performance.now();
    const r = await step(name, fn);
    phases.push({ name, seconds: (performance.now() - t) / 1000 });
    return r;
  };
  try {
    const conn = await createDatabase(server, `sark_demo_${process.pid}`);
    const ctx = await openContext(global, conn);
    try {
      log.info(`demo database: ${ctx.where} (PostgreSQL ${ctx.server.serverVersion}, ${server.kind})`);
      await timed('building the SARK v1 schema (migrations 001-005)', () => schemaUp(ctx, { to: '005' }));
      await timed(`seeding v1 data (${o.servers} servers, ${o.toolsPerServer} tools each, plus dirty rows)`, () =>
        seed(ctx, { servers: o.servers, toolsPerServer: o.toolsPerServer, dirty: true }),
      );
      await timed('phase 1: schema up (migrations 006-007)', () => schemaUp(ctx, {}));
      const status = await readStatus(ctx.sql);
      return { server: server.kind, phases, status };
    } finally {
      await ctx.close();
    }
  } finally {
    await step('removing the throwaway PostgreSQL', () => server.stop());
  }
}

export const demoCommand = defineCommand({
  command: 'demo',
  describe: 'The whole migration on a throwaway PostgreSQL with seeded v1 data, ending in the report',
  builder: (y) =>
    y
      .option('servers', { type: 'number', default: 2000, describe: 'v1 servers to seed' })
      .option('tools-per-server', { type: 'number', default: 5, describe: 'v1 tools per server' }),
  options: DemoOptions,
  run: async (o) => {
    const result = await demo(o, o);
    return {
      result,
      human: () =>
        [
          'demo finished:',
          ...result.phases.map((p) => `  ${p.name.padEnd(72)} ${formatDuration(p.seconds * 1000)}`),
          '',
          `status: database_version ${result.status.database_version}, schema ${result.status.schema_version}, phase ${result.status.phase}`,
          ...Object.entries(result.status.counts).map(([k, v]) => `  ${k.padEnd(18)} ${v ?? '-'}`),
        ].join('\n'),
    };
  },
});
