/**
 * The validation report of docs/CONTRACT.md, as a zod schema: the single source of its shape. The
 * runner validates every report against it before writing it, and `report.schema.json` (shipped at
 * the top of the project) is generated from it (`npx tsx src/report/writeJsonSchema.ts`).
 *
 * Change it only by adding: operators' `jq` pipelines read these fields. Objects are open
 * (additionalProperties allowed) so that a report of a later version, which may only add fields,
 * still validates against this schema.
 */
import { z } from 'zod';

export const SEVERITIES = ['info', 'warning', 'error', 'critical'] as const;
export const Severity = z.enum(SEVERITIES).meta({
  description: 'info and warning never fail a validation; a failed check of severity error or critical does.',
});
export type Severity = z.infer<typeof Severity>;

export const VALIDATION_MODES = ['full', 'quick', 'schema', 'data', 'relationships'] as const;
export const ValidationMode = z.enum(VALIDATION_MODES);
export type ValidationMode = z.infer<typeof ValidationMode>;

const count = z.number().int().nonnegative();

export const Issue = z
  .looseObject({
    severity: Severity,
    check_name: z.string().min(1).meta({ description: 'family.check, e.g. data.server_count or fidelity.resources' }),
    message: z.string().min(1).meta({ description: 'one readable sentence: what is wrong and what to run next' }),
    details: z.record(z.string(), z.unknown()).meta({ description: 'the evidence: counts, the first offending ids, the differing fields' }),
  })
  .meta({ title: 'Issue', description: 'A check that did not pass.' });
export type Issue = z.infer<typeof Issue>;

/** Every check, passing or not (an addition to the contract's shape: passing checks carry figures too). */
export const CheckResult = Issue.extend({ passed: z.boolean() }).meta({ title: 'Check', description: 'One row of the validation view.' });
export type CheckResult = z.infer<typeof CheckResult>;

export const ValidationReport = z
  .looseObject({
    status: z.enum(['passed', 'failed']).meta({ description: 'failed when a check of severity error or critical failed' }),
    mode: ValidationMode,
    start_time: z.iso.datetime(),
    end_time: z.iso.datetime(),
    duration_seconds: z.number().nonnegative(),
    database: z
      .looseObject({ host: z.string(), database: z.string(), server_version: z.string() })
      .meta({ description: 'where the report was made; never a password' }),
    counts: z.looseObject({
      v1_servers: count,
      v1_tools: count,
      v2_mcp_resources: count,
      v2_mcp_capabilities: count,
    }),
    total_checks: count,
    passed_checks: count,
    failed_checks: count.meta({ description: 'checks that did not pass, whatever their severity (= issues.length)' }),
    issues: z.array(Issue).meta({ description: 'every check that did not pass; jq \'.issues[] | select(.severity == "error")\' lists the errors' }),
    checks: z.array(CheckResult).meta({ description: 'every check that ran, passing or not, in report order' }),
  })
  .superRefine((r, ctx) => {
    if (r.passed_checks + r.failed_checks !== r.total_checks || r.checks.length !== r.total_checks) {
      ctx.addIssue({ code: 'custom', message: 'total_checks must equal passed_checks + failed_checks and the number of checks', path: ['total_checks'] });
    }
    if (r.issues.length !== r.failed_checks) {
      ctx.addIssue({ code: 'custom', message: 'issues must list every failed check', path: ['issues'] });
    }
    const failing = r.issues.some((i) => i.severity === 'error' || i.severity === 'critical');
    if ((r.status === 'failed') !== failing) {
      ctx.addIssue({ code: 'custom', message: 'status must be failed exactly when an error or critical check failed', path: ['status'] });
    }
  })
  .meta({
    title: 'sark-migrate validation report',
    description: 'Written by `sark-migrate validate --output FILE` and embedded in the results of `run` and `demo` (docs/CONTRACT.md).',
  });
export type ValidationReport = z.infer<typeof ValidationReport>;

/** The JSON Schema of the report (draft 2020-12), as shipped in report.schema.json. */
export function reportJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ValidationReport, { target: 'draft-2020-12' }) as Record<string, unknown>;
}
