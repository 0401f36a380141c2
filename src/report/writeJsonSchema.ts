/**
 * Writes report.schema.json at the top of the project from the zod schema (src/report/schema.ts),
 * the single source of the report's shape. Run after changing the schema:
 *
 *   npx tsx src/report/writeJsonSchema.ts          # writes the file
 *   npx tsx src/report/writeJsonSchema.ts --check  # exit 1 if the committed file is out of date
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT } from '../db/sqlFiles.ts';
import { reportJsonSchema } from './schema.ts';

export const REPORT_SCHEMA_FILE = join(PROJECT_ROOT, 'report.schema.json');

export function renderJsonSchema(): string {
  return `${JSON.stringify(reportJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const text = renderJsonSchema();
  if (process.argv.includes('--check')) {
    const current = readFileSync(REPORT_SCHEMA_FILE, 'utf8');
    if (current !== text) {
      process.stderr.write('report.schema.json is out of date: run `npx tsx src/report/writeJsonSchema.ts`.\n');
      process.exitCode = 1;
    }
  } else {
    writeFileSync(REPORT_SCHEMA_FILE, text);
    process.stdout.write(`wrote ${REPORT_SCHEMA_FILE}\n`);
  }
}
