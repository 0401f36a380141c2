/**
 * Rows of a validation view → the docs/CONTRACT.md report. Pure: the caller supplies the rows, the
 * counts and the clock, so the shape is testable without a database. The result is parsed with the
 * zod schema, so a report that does not match the contract is never returned, let alone written.
 */
import { CheckResult, SEVERITIES, ValidationReport, type Severity, type ValidationMode } from './schema.ts';

export interface CheckRow {
  check_name: string;
  severity: string;
  passed: boolean;
  message: string;
  details: unknown;
}

export interface ReportInput {
  mode: ValidationMode;
  rows: CheckRow[];
  counts: ValidationReport['counts'];
  database: ValidationReport['database'];
  startedAt: Date;
  endedAt: Date;
}

const FAMILY_ORDER = ['schema', 'data', 'relationships', 'fidelity', 'rules', 'health'];
const rank = (severity: string) => SEVERITIES.length - SEVERITIES.indexOf(severity as Severity);

/** Report order: by family in runbook order, then check name. */
function byFamilyThenName(a: CheckRow, b: CheckRow): number {
  const fa = FAMILY_ORDER.indexOf(a.check_name.split('.')[0]!);
  const fb = FAMILY_ORDER.indexOf(b.check_name.split('.')[0]!);
  return (fa < 0 ? 99 : fa) - (fb < 0 ? 99 : fb) || a.check_name.localeCompare(b.check_name);
}

export function buildReport(input: ReportInput): ValidationReport {
  const checks = [...input.rows].sort(byFamilyThenName).map((r) =>
    CheckResult.parse({
      check_name: r.check_name,
      severity: r.severity,
      passed: r.passed,
      message: r.message,
      details: r.details && typeof r.details === 'object' && !Array.isArray(r.details) ? r.details : { value: r.details ?? null },
    }),
  );
  // Issues: the failed checks, most severe first (errors before warnings), stable within a severity.
  const issues = checks
    .filter((c) => !c.passed)
    .sort((a, b) => rank(a.severity) - rank(b.severity))
    .map(({ passed: _passed, ...issue }) => issue);
  const failing = issues.some((i) => i.severity === 'error' || i.severity === 'critical');
  return ValidationReport.parse({
    status: failing ? 'failed' : 'passed',
    mode: input.mode,
    start_time: input.startedAt.toISOString(),
    end_time: input.endedAt.toISOString(),
    duration_seconds: Math.round((input.endedAt.getTime() - input.startedAt.getTime()) / 10) / 100,
    database: input.database,
    counts: input.counts,
    total_checks: checks.length,
    passed_checks: checks.length - issues.length,
    failed_checks: issues.length,
    issues,
    checks,
  });
}

/**
 * What a summary line says: failures (error, critical) apart from warnings (warning, info), which
 * are reported but do not fail the validation.
 */
export function tally(report: ValidationReport): { passed: number; failures: number; warnings: number; line: string } {
  const failures = report.issues.filter((i) => i.severity === 'error' || i.severity === 'critical').length;
  const warnings = report.issues.length - failures;
  return {
    passed: report.passed_checks,
    failures,
    warnings,
    line: `${report.total_checks} checks: ${report.passed_checks} passed, ${failures} failed${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'} (reported, not failures)` : ''}`,
  };
}

/** The failing checks by name, most severe first (for one-line reasons). */
export function failedNames(report: ValidationReport): string {
  const failing = report.issues.filter((i) => i.severity === 'error' || i.severity === 'critical').map((i) => i.check_name);
  return failing.length ? failing.join(', ') : 'no check failed';
}
