/**
 * `validate [--quick|--full|--schema|--data|--relationships] [--output FILE]`: Phase 3 of the runbook.
 * Every check is a row of a SQL view (sql/validate); this module evaluates the mode's view —
 * sark_migration.validation_<mode>, exactly what a DBA queries in psql — in one read-only snapshot,
 * turns the rows into the docs/CONTRACT.md report (validated by its zod schema before anything is
 * written), writes it and prints a summary grouped by severity. Takes no lock, leaves nothing behind.
 */
import { accessSync, constants, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { defineCommand } from '../command.ts';
import { withContext, type Context } from '../context.ts';
import { withDefinitionsReadOnly } from '../db/definitions.ts';
import { ExitCode, prerequisiteMissing, usageError } from '../errors.ts';
import { readSchemaState } from '../schema/state.ts';
import { color, formatDuration, log, working } from '../output.ts';
import { buildReport, failedNames, tally, type CheckRow } from '../report/build.ts';
import { SEVERITIES, VALIDATION_MODES, ValidationMode, type ValidationReport } from '../report/schema.ts';


/** The report of one validation mode (default full), for `validate`, `run` and `demo`. */
export async function validate(ctx: Context, how: ValidationMode | { mode?: ValidationMode } = 'full'): Promise<ValidationReport> {
  const mode = ValidationMode.parse(typeof how === 'string' ? how : (how.mode ?? 'full')); // it names the view
  const state = await readSchemaState(ctx.sql);
  if (!state.v1Tables) {
    // Every family compares v2 with v1 (or needs the mapping, which reads v1): nothing to compare.
    throw prerequisiteMissing(
      state.v2Tables ? 'The v1 tables are gone (decommissioned): validation compares v2 with v1, so there is nothing left to validate against.' : 'The v1 tables mcp_servers/mcp_tools are missing.',
      state.v2Tables
        ? 'The validation reports written before decommission are the record; for the v2 schema alone run `pg_prove pgtap/02-v2-schema.sql`, for its health `sark-migrate optimize --analyze`.'
        : 'Point DATABASE_URL at the SARK database being migrated.',
    );
  }
  const startedAt = new Date();
  const { rows, counts } = await withDefinitionsReadOnly(ctx, async (tx) => {
    // The view carries its own planner settings (sark_migration.evaluate_checks): a DBA's SELECT
    // in psql runs exactly this.
    const rows = await working(`validate --${mode}: evaluating sark_migration.validation_${mode}`, () =>
      tx.unsafe<CheckRow[]>(`select check_name, severity, passed, message, details from sark_migration.validation_${mode}`),
    );
    const [counts] = await tx<ValidationReport['counts'][]>`
      select v1_servers, v1_tools, v2_mcp_resources, v2_mcp_capabilities from sark_migration.validation_counts`;
    return { rows, counts: counts! };
  });
  return buildReport({
    mode,
    rows,
    counts,
    database: { host: ctx.conn.host, database: ctx.conn.database, server_version: ctx.server.serverVersion },
    startedAt,
    endedAt: new Date(),
  });
}

const FAMILIES = ['schema', 'data', 'relationships', 'fidelity', 'rules', 'health'] as const;
const MARK: Record<string, (s: string) => string> = {
  critical: (s) => color.red(`✗ ${s}`),
  error: (s) => color.red(`✗ ${s}`),
  warning: (s) => color.yellow(`! ${s}`),
  info: (s) => color.dim(`i ${s}`),
};
const n = (x: number) => x.toLocaleString('en-US');

/** The terminal summary: per-family tally, the issues grouped by severity, the STATUS line. */
export function summarize(report: ValidationReport, where: string): string {
  const lines = [
    `validate --${report.mode}: ${where} (PostgreSQL ${report.database.server_version}), ${formatDuration(report.duration_seconds * 1000)}`,
    `counts: v1 ${n(report.counts.v1_servers)} servers, ${n(report.counts.v1_tools)} tools; ` +
      `v2 ${n(report.counts.v2_mcp_resources)} MCP resources, ${n(report.counts.v2_mcp_capabilities)} MCP capabilities`,
    '',
  ];
  for (const family of FAMILIES) {
    const checks = report.checks.filter((c) => c.check_name.split('.')[0] === family);
    if (checks.length === 0) continue;
    const failed = checks.filter((c) => !c.passed);
    const text = `${family.padEnd(14)} ${checks.length - failed.length}/${checks.length} passed`;
    lines.push(`  ${failed.length === 0 ? color.green(`✓ ${text}`) : MARK[failed.some((c) => c.severity === 'error' || c.severity === 'critical') ? 'error' : 'warning']!(text)}`);
  }
  for (const severity of [...SEVERITIES].reverse()) {
    const issues = report.issues.filter((i) => i.severity === severity);
    if (issues.length === 0) continue;
    lines.push('', color.bold(`${severity.toUpperCase()} (${issues.length})`));
    for (const issue of issues) lines.push(`  ${MARK[severity]!(issue.check_name)}: ${issue.message}`);
  }
  lines.push(
    '',
    tally(report).line,
    report.status === 'passed' ? color.green('STATUS: VALIDATION PASSED') : color.red('STATUS: VALIDATION FAILED'),
  );
  return lines.join('\n');
}

const Options = z.object({
  quick: z.boolean().default(false),
  full: z.boolean().default(false),
  schema: z.boolean().default(false),
  data: z.boolean().default(false),
  relationships: z.boolean().default(false),
  output: z.string().min(1).optional(),
});

function chosenMode(o: z.infer<typeof Options>): ValidationMode {
  const chosen = VALIDATION_MODES.filter((m) => o[m]);
  if (chosen.length > 1) {
    throw usageError(
      `Choose one validation mode, not ${chosen.map((m) => `--${m}`).join(' and ')}.`,
      'For example `sark-migrate validate --quick` on every deploy, `sark-migrate validate --full` after the data copy.',
    );
  }
  return chosen[0] ?? 'full';
}

function checkWritable(file: string) {
  try {
    accessSync(dirname(resolve(file)), constants.W_OK);
  } catch {
    throw usageError(`Cannot write the report to ${file}: its directory does not exist or is not writable.`, 'Pass --output a path in an existing, writable directory.');
  }
}

export const validateCommand = defineCommand({
  command: 'validate',
  describe: 'Phase 3: evaluate the validation views (default --full); summary, JSON report, exit 1 on failure',
  builder: (y) =>
    y
      .option('quick', { type: 'boolean', default: false, describe: 'schema, counts and relationships: cheap, for every deploy' })
      .option('full', { type: 'boolean', default: false, describe: 'every check, with value-by-value fidelity (the default)' })
      .option('schema', { type: 'boolean', default: false, describe: 'tables, columns, constraints, indexes, ledgers' })
      .option('data', { type: 'boolean', default: false, describe: 'counts, fidelity and business rules' })
      .option('relationships', { type: 'boolean', default: false, describe: 'orphans and references' })
      .option('output', { type: 'string', describe: 'write the JSON report (docs/CONTRACT.md, report.schema.json) to this file' }),
  options: Options,
  run: async (o) => {
    const mode = chosenMode(o);
    if (o.output) checkWritable(o.output);
    return withContext(o, async (ctx) => {
      const report = await validate(ctx, mode);
      if (o.output) {
        writeFileSync(o.output, `${JSON.stringify(report, null, 2)}\n`);
        log.info(`report written to ${o.output}`);
      }
      return {
        result: report,
        human: () => summarize(report, ctx.where),
        exitCode: report.status === 'passed' ? ExitCode.ok : ExitCode.failed,
        reason: `validation failed: ${failedNames(report)}.`,
      };
    });
  },
});
