/**
 * The last line of `make test`: "N passed, N failed" over vitest and pgTAP together, read from the
 * reports both runners wrote.
 */
import { existsSync, readFileSync } from 'node:fs';

const read = (path: string) => (existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined);
const vitest = read('reports/vitest.json');
const pgtap = read('reports/pgtap.json');

let passed = 0;
let failed = 0;
if (vitest) {
  passed += vitest.numPassedTests;
  failed += vitest.numFailedTests + (vitest.numTotalTestSuites > 0 && vitest.success === false && vitest.numFailedTests === 0 ? 1 : 0);
} else failed += 1;
if (pgtap) {
  passed += pgtap.passed;
  failed += pgtap.failed;
} else failed += 1;

console.log(`vitest: ${vitest ? `${vitest.numPassedTests} passed, ${vitest.numFailedTests} failed` : 'no report'}; pgTAP: ${pgtap ? `${pgtap.passed} passed, ${pgtap.failed} failed` : 'no report'}`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
