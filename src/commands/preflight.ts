/**
 * `preflight [--save-counts FILE] [--long-transaction-threshold 1min]`: the runbook's
 * Pre-Migration Checklist — prerequisites, privileges per phase, database health, v1/v2 counts,
 * schema drift and dirty-data findings. Never writes; takes no lock. Exit 1 when anything blocks
 * the migration (each blocker comes with its fix), 0 otherwise (warnings allowed), 3 when the
 * database cannot be reached.
 */
import { z } from 'zod';
import { defineCommand } from '../command.ts';
import { withContext } from '../context.ts';
import { ExitCode } from '../errors.ts';
import { color } from '../output.ts';
import type { Check, Severity } from '../preflight/checks.ts';
import { preflight, type PreflightResult } from '../preflight/preflight.ts';

const Options = z.object({
  saveCounts: z.string().min(1).optional(),
  longTransactionThreshold: z.string().regex(/^\d+(ms|s|min|h)?$/, 'use a PostgreSQL duration such as 1min or 30s').default('1min'),
});

export const preflightCommand = defineCommand({
  command: 'preflight',
  describe: 'Pre-migration checklist: prerequisites, privileges, health, counts, drift, dirty data; never writes',
  builder: (y) =>
    y
      .option('save-counts', { type: 'string', describe: 'also write the v1/v2 row counts to this JSON file, for comparison after the migration' })
      .option('long-transaction-threshold', { type: 'string', default: '1min', describe: 'list transactions open longer than this (sessions idle in transaction are always listed)' }),
  options: Options,
  run: async (o) =>
    withContext(o, async (ctx) => {
      const result = await preflight(ctx, { saveCounts: o.saveCounts, longTransactionThreshold: o.longTransactionThreshold, allowDrift: o.allowDrift });
      return { result, human: () => render(result), exitCode: result.summary.blockers ? ExitCode.failed : ExitCode.ok,
        reason: `${result.summary.blockers} blocker(s): ${result.checks.filter((c) => c.severity === 'blocker').map((c) => c.name).join(', ')}.` };
    }),
});

const LABEL: Record<Severity, (s: string) => string> = {
  ok: (s) => color.green(s),
  info: (s) => color.dim(s),
  warning: (s) => color.yellow(s),
  blocker: (s) => color.red(s),
};

const SECTIONS: [string, RegExp][] = [
  ['server and prerequisites', /^(server|prerequisites)\b/],
  ['privileges', /^privileges\./],
  ['health', /^health\./],
  ['counts', /^counts$/],
  ['schema drift', /^drift\./],
  ['dirty-data findings', /^findings\b/],
];

function render(r: PreflightResult): string {
  const lines = [`preflight of ${r.database.where} (PostgreSQL ${r.database.server_version}, role ${r.database.current_user}${r.database.is_superuser ? ', superuser' : ''})`];
  for (const [title, match] of SECTIONS) {
    const checks = r.checks.filter((c) => match.test(c.name));
    if (!checks.length) continue;
    lines.push('', color.bold(title));
    const shown = title === 'privileges' ? checks.filter((c) => c.severity !== 'ok') : checks;
    if (title === 'privileges' && shown.length < checks.length) lines.push(line({ name: '', severity: 'ok', message: `${checks.length - shown.length} privilege requirement(s) met` }));
    for (const c of shown) lines.push(line(c));
  }
  if (r.counts_file) lines.push('', `counts saved to ${r.counts_file}`);
  const { blockers, warnings } = r.summary;
  const verdict =
    r.status === 'blocked'
      ? color.red(`BLOCKED: ${blockers} blocker(s), ${warnings} warning(s). Fix the blockers and run preflight again.`)
      : r.status === 'warnings'
        ? color.yellow(`READY with ${warnings} warning(s): read them before starting.`)
        : color.green('READY: every check passed.');
  lines.push('', verdict);
  return lines.join('\n');
}

function line(c: Check): string {
  const head = `  ${LABEL[c.severity](c.severity.padEnd(8))} ${c.message}`;
  return c.fix && c.severity !== 'ok' && c.severity !== 'info' ? `${head}\n  ${' '.repeat(8)} ${color.bold('fix:')} ${c.fix}` : head;
}
