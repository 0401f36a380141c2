/**
 * `run`: every phase in runbook order — preflight, backup (if asked), schema up, data --execute
 * (with the forward sync on), validate --quick, optimize (if this build has it) — stopping at the
 * first failure with the phase named. Each phase is the library function its own command uses and
 * is idempotent, so after fixing the cause the same `run` picks up where it stopped.
 * The cutover is NOT part of `run`: it is the operator's decision (`sync --cutover`).
 */
import { existsSync } from 'node:fs';
import { checkBackup } from '../backup/archive.ts';
import { backup } from '../backup/backup.ts';
import { executeData } from '../commands/data.ts';
import { validate } from '../commands/validate.ts';
import type { Context } from '../context.ts';
import { withRunLock } from '../db/lock.ts';
import { guardDrift } from '../db/sqlFiles.ts';
import { ExitCode, SarkError, toSarkError } from '../errors.ts';
import { optimizeDatabase } from '../optimize/apply.ts';
import { log } from '../output.ts';
import { preflight } from '../preflight/preflight.ts';
import { tally } from '../report/build.ts';
import { schemaUp } from '../schema/migrate.ts';
import { readStatus, type DatabaseStatus } from '../status/phase.ts';

export const RUN_PHASES = ['preflight', 'backup', 'schema', 'data', 'validate', 'optimize'] as const;
export type RunPhaseName = (typeof RUN_PHASES)[number];

export interface RunOptions {
  backup?: string;
  batchSize?: number;
  batchTime?: number;
  offline?: boolean;
  jobs?: number;
  sync: boolean;
  optimize: boolean;
  longTransactionThreshold: string;
}

export interface RunPhase {
  phase: RunPhaseName;
  status: 'passed' | 'failed' | 'skipped';
  seconds: number;
  summary: string;
  fix?: string;
  result?: unknown;
}

export interface RunResult {
  status: 'passed' | 'failed';
  failed_phase: RunPhaseName | null;
  phases: RunPhase[];
  final: DatabaseStatus;
  next: string;
}

type Outcome = { ok: boolean; summary: string; fix?: string; result?: unknown } | { skipped: string };

/** A phase implementation. */
type PhaseImpl = (ctx: Context, o: RunOptions) => Promise<Outcome>;

const PHASES: Record<RunPhaseName, PhaseImpl> = {
  async preflight(ctx, o) {
    const r = await preflight(ctx, { longTransactionThreshold: o.longTransactionThreshold, allowDrift: ctx.options.allowDrift });
    const blockers = r.checks.filter((c) => c.severity === 'blocker');
    return {
      ok: r.status !== 'blocked',
      summary: `${r.status}: ${r.summary.blockers} blocker(s), ${r.summary.warnings} warning(s)${blockers.length ? ` — ${blockers.map((b) => b.message).join(' ')}` : ''}`,
      fix: blockers.length ? 'Fix the blockers `sark-migrate preflight` lists, then run again.' : undefined,
      result: { status: r.status, summary: r.summary },
    };
  },
  async backup(ctx, o) {
    if (!o.backup) return { skipped: 'no --backup FILE given' };
    if (existsSync(o.backup)) {
      const check = await checkBackup(o.backup);
      if (check.verified) return { ok: true, summary: `${o.backup} exists and is verified (taken ${check.created_at}); not taken again`, result: check };
      return { ok: false, summary: `${o.backup} exists but is not a verified backup: ${check.problems.join('; ')}`, fix: 'Choose a new file name for --backup.' };
    }
    const r = await backup(ctx, o.backup);
    return { ok: true, summary: `${r.archive_path}, ${(r.size_bytes / 1024 / 1024).toFixed(1)} MB, verified`, result: { archive: r.archive_path, sha256: r.sha256 } };
  },
  async schema(ctx) {
    const r = await withRunLock(ctx.sql, async () => {
      await guardDrift(ctx.sql, ctx.options.allowDrift);
      return schemaUp(ctx, {});
    });
    return { ok: true, summary: r.applied.length ? `applied ${r.applied.join(', ')}` : `already at ${r.to}`, result: r };
  },
  async data(ctx, o) {
    const r = await executeData(ctx, { batchSize: o.batchSize, batchTimeMs: o.batchTime, offline: o.offline, jobs: o.jobs, sync: o.sync });
    const counts = r.tables.map((t) => `${t.table}: +${t.inserted} ~${t.updated} =${t.unchanged}`).join(', ');
    if (r.quarantined > 0) {
      return {
        ok: false,
        summary: `${counts}; ${r.quarantined} v1 row(s) quarantined (not copied)`,
        fix: 'Fix the quarantined rows in v1 (SELECT * FROM sark_migration.quarantine says how), then run again: the copy only writes what is missing or changed.',
        result: r,
      };
    }
    return { ok: true, summary: counts, result: r };
  },
  async validate(ctx) {
    const report = await validate(ctx, 'quick');
    const failed = report.issues.filter((i) => i.severity === 'error' || i.severity === 'critical');
    return {
      ok: report.status === 'passed',
      summary: `${report.status}: ${tally(report).line}${failed.length ? ` — ${failed.map((i) => i.check_name).join(', ')}` : ''}`,
      fix: report.status === 'passed' ? undefined : 'See `sark-migrate validate --quick` for each failed check and its fix.',
      result: report,
    };
  },
  async optimize(ctx, o) {
    if (!o.optimize) return { skipped: '--no-optimize' };
    const r = await withRunLock(ctx.sql, () => optimizeDatabase(ctx, { runs: 5 }));
    return { ok: true, summary: r.actions.length ? r.actions.map((a) => `${a.action} ${a.target}`).join(', ') : 'nothing to do', result: r };
  },
};

export async function runAll(ctx: Context, o: RunOptions): Promise<{ result: RunResult; exitCode: ExitCode }> {
  const phases: RunPhase[] = [];
  let failed: RunPhaseName | null = null;
  let exitCode: ExitCode = ExitCode.ok;
  for (const name of RUN_PHASES) {
    const started = performance.now();
    log.info(`run: ${name} …`);
    let outcome: Outcome;
    try {
      outcome = await PHASES[name](ctx, o);
    } catch (e) {
      const err = e instanceof SarkError ? e : toSarkError(e, ctx.where);
      outcome = { ok: false, summary: err.message, fix: err.fix };
      exitCode = err.exitCode;
    }
    const seconds = (performance.now() - started) / 1000;
    if ('skipped' in outcome) {
      phases.push({ phase: name, status: 'skipped', seconds, summary: outcome.skipped });
      continue;
    }
    phases.push({ phase: name, status: outcome.ok ? 'passed' : 'failed', seconds, summary: outcome.summary, fix: outcome.fix, result: outcome.result });
    if (!outcome.ok) {
      failed = name;
      if (exitCode === ExitCode.ok) exitCode = ExitCode.failed;
      log.error(`run: ${name} failed: ${outcome.summary}`);
      break;
    }
    log.ok(`run: ${name}: ${outcome.summary}`);
  }
  const final = await readStatus(ctx.sql);
  return {
    result: {
      status: failed ? 'failed' : 'passed',
      failed_phase: failed,
      phases,
      final,
      next: failed
        ? `Fix the ${failed} phase (see its fix), then run \`sark-migrate run\` again: every phase is idempotent and finished work is not redone.`
        : 'v1 and v2 are in step (phase syncing). Deploy the v2 application, then `sark-migrate sync --cutover` (and `sync --rollback` to go back).',
    },
    exitCode,
  };
}
