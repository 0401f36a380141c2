/**
 * `bench [--servers N] [--tools-per-server M] [--cost-rows N] [--fast] [--output FILE]`: the whole
 * pipeline timed on a throwaway PostgreSQL (durable, as users run it, unless --fast), with the naive
 * upsert, the bare INSERT … SELECT floor and the load strategies side by side; the result is also written as JSON (default reports/bench-<timestamp>.json) so runs can be
 * compared. Never touches the database DATABASE_URL names beyond creating and dropping its own
 * database there.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { defineCommand } from '../command.ts';
import { runBench } from '../bench/pipeline.ts';
import { renderBench } from '../bench/render.ts';
import { DEFAULT_LOADS, isCopyLoad, LOADS, type LoadName } from '../bench/strategies.ts';
import { BatchTime, DEFAULT_BATCH_TIME_MS } from '../data/batches.ts';
import { DEFAULT_JOBS } from '../data/copy.ts';
import { log } from '../output.ts';

const Options = z.object({
  fast: z.boolean().default(false),
  servers: z.number().int().min(1).max(10_000_000).default(100_000),
  toolsPerServer: z.number().int().min(0).max(100).default(10),
  costRows: z.number().int().min(0).max(1_000_000_000).optional(),
  loads: z
    .string()
    .refine((s) => s.split(',').every((x) => (LOADS as readonly string[]).includes(x)), `a comma-separated list of ${LOADS.join(', ')}`)
    // The pipeline (no-op re-run, validation) continues from the last load's database: after a bare
    // insert or the naive upsert there is no finished copy run, and the "no-op" re-run copies everything.
    .refine((s) => isCopyLoad(s.split(',').at(-1)!), 'the last load is the pipeline\'s copy: end --loads with a copy load (copy:*, live:A, unsynced:A), e.g. --loads naive:S,lanes:A,copy:A')
    .default(DEFAULT_LOADS.join(',')),
  batchSize: z.number().int().min(1).optional(),
  batchTime: BatchTime,
  jobs: z.number().int().min(1).max(64).default(DEFAULT_JOBS),
  writerRate: z.number().min(1).max(100_000).default(200),
  runs: z.number().int().min(1).max(10_000).default(50),
  maintenanceWorkMem: z.string().regex(/^\d+(kB|MB|GB)$/, 'use a size such as 512MB or 1GB').default('512MB'),
  parallelWorkers: z.number().int().min(0).max(64).default(2),
  output: z.string().min(1).optional(),
});

export const benchCommand = defineCommand({
  command: 'bench',
  describe: 'Phase timings of the whole pipeline on a throwaway PostgreSQL, next to a bare INSERT … SELECT floor',
  builder: (y) =>
    y
      .option('fast', { type: 'boolean', default: false, describe: 'a NON-durable throwaway cluster (fsync, synchronous_commit, full_page_writes off): faster than production, labelled so' })
      .option('servers', { type: 'number', default: 100_000, describe: 'v1 servers to seed' })
      .option('tools-per-server', { type: 'number', default: 10, describe: 'v1 tools per server' })
      .option('cost-rows', { type: 'number', describe: 'cost_tracking rows over the last 30 days (default 10 per server)' })
      .option('loads', { type: 'string', default: DEFAULT_LOADS.join(','), describe: `loads to time, in order (${LOADS.join(', ')}); the last one is the pipeline's copy` })
      .option('batch-size', { type: 'number', describe: 'rows per copy transaction (passed to the copy)' })
      .option('batch-time', { type: 'string', default: `${DEFAULT_BATCH_TIME_MS}ms`, describe: 'what each copy batch aims to take (data --execute --batch-time)' })
      .option('jobs', { type: 'number', default: DEFAULT_JOBS, describe: 'lanes per table of the copy (data --execute --jobs)' })
      .option('writer-rate', { type: 'number', default: 200, describe: 'statements/s of the application writing v1 during the live:A load' })
      .option('runs', { type: 'number', default: 50, describe: 'runs per query pattern' })
      .option('maintenance-work-mem', { type: 'string', default: '512MB', describe: 'maintenance_work_mem of index builds' })
      .option('parallel-workers', { type: 'number', default: 2, describe: 'max_parallel_maintenance_workers of index builds' })
      .option('output', { type: 'string', describe: 'JSON result file (default reports/bench-<timestamp>.json)' }),
  options: Options,
  run: async (o) => {
    const result = await runBench(o, {
      durability: o.fast ? 'fast' : 'durable',
      servers: o.servers,
      toolsPerServer: o.toolsPerServer,
      costRows: o.costRows ?? o.servers * 10,
      loads: o.loads.split(',') as LoadName[],
      batchSize: o.batchSize,
      batchTimeMs: o.batchTime,
      jobs: o.jobs,
      writerRate: o.writerRate,
      runs: o.runs,
      build: { maintenanceWorkMem: o.maintenanceWorkMem, parallelWorkers: o.parallelWorkers },
    });
    const file = o.output ?? `reports/bench-${result.started_at.replace(/[:.]/g, '-')}.json`;
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    log.ok(`wrote ${file}`);
    return { result, human: () => renderBench(result, file) };
  },
});
