/**
 * `run [--backup FILE] [--batch-size N] [--batch-time T] [--offline] [--jobs N] [--no-sync] [--no-optimize]`: every phase in runbook order
 * (preflight, backup, schema up, data --execute with the sync on, validate --quick, optimize),
 * stopping at the first failure with the phase named; re-running continues where it stopped.
 */
import { z } from 'zod';
import { defineCommand } from '../command.ts';
import { withContext } from '../context.ts';
import { formatDuration } from '../output.ts';
import { DEFAULT_JOBS } from '../data/copy.ts';
import { BatchTime, DEFAULT_BATCH_TIME_MS } from '../data/batches.ts';
import { runAll, type RunResult } from '../sync/run.ts';

const Options = z.object({
  backup: z.string().min(1).optional(),
  batchSize: z.number().int().min(1).max(10_000_000).optional(),
  batchTime: BatchTime,
  offline: z.boolean().default(false),
  jobs: z.number().int().min(1).max(64).default(DEFAULT_JOBS),
  sync: z.boolean().default(true),
  optimize: z.boolean().default(true),
  longTransactionThreshold: z.string().regex(/^\d+(ms|s|min|h)?$/, 'use a PostgreSQL duration such as 1min or 30s').default('1min'),
});

export const runCommand = defineCommand({
  command: 'run',
  describe: 'Every phase in runbook order (preflight, backup, schema up, data, validate, optimize), stopping at the first failure',
  builder: (y) =>
    y
      .option('backup', { type: 'string', describe: 'take a verified backup to FILE before changing anything' })
      .option('batch-size', { type: 'number', describe: 'at most N rows per copy batch (default: as many as fit in --batch-time)' })
      .option('batch-time', { type: 'string', default: `${DEFAULT_BATCH_TIME_MS}ms`, describe: 'what each copy batch aims to take (the longest the application waits on it, typically)' })
      .option('offline', { type: 'boolean', default: false, describe: 'the application is STOPPED: copy each lane in one statement' })
      .option('jobs', { alias: 'j', type: 'number', default: DEFAULT_JOBS, describe: 'lanes per table of the copy, one connection each' })
      .option('sync', { type: 'boolean', default: true, describe: 'enable the forward sync before copying (--no-sync to opt out)' })
      .option('optimize', { type: 'boolean', default: true, describe: 'run the optimize phase (--no-optimize to skip it)' })
      .option('long-transaction-threshold', { type: 'string', default: '1min', describe: 'preflight lists transactions open longer than this' }),
  options: Options,
  run: async (o) =>
    withContext(o, async (ctx) => {
      const { result, exitCode } = await runAll(ctx, o);
      return { result, human: () => describe(result), exitCode, reason: `the ${result.failed_phase} phase failed: ${result.phases.find((p) => p.phase === result.failed_phase)?.summary ?? ''}` };
    }),
});

function describe(r: RunResult): string {
  return [
    r.status === 'passed' ? 'run finished:' : `run stopped: the ${r.failed_phase} phase failed`,
    ...r.phases.map((p) => `  ${p.phase.padEnd(10)} ${p.status.padEnd(8)} ${formatDuration(p.seconds * 1000).padStart(9)}  ${p.summary}${p.fix ? `\n             fix: ${p.fix}` : ''}`),
    `phase: ${r.final.phase}`,
    r.next,
  ].join('\n');
}
