/**
 * sark-migrate: the command line. Commands live one per module under src/commands; this file only
 * wires them into yargs, declares the options every command shares, and turns any failure into one
 * clear sentence with its fix and the exit code CONTRACT.md promises.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { redact, resolveConnection } from './config/connection.ts';
import { commands } from './commands/index.ts';
import { ExitCode, SarkError, toSarkError, usageError } from './errors.ts';
import { color, output } from './output.ts';

function where(): string {
  try {
    const urlFlag = process.argv.findIndex((a) => a === '--database-url');
    return redact(resolveConnection(urlFlag >= 0 ? process.argv[urlFlag + 1] : undefined));
  } catch {
    return 'the configured database';
  }
}

function report(error: SarkError) {
  if (output.json) {
    process.stdout.write(`${JSON.stringify({ error: { message: error.message, fix: error.fix, exit_code: error.exitCode, ...(error.details ? { details: error.details } : {}) } }, null, 2)}\n`);
  }
  process.stderr.write(`${color.red('error:')} ${error.message}\n${color.bold('fix:')}   ${error.fix}\n`);
  if (process.env.SARK_DEBUG && error.stack) process.stderr.write(`${error.stack}\n`);
}

async function main() {
  output.json = process.argv.includes('--json');
  const cli = yargs(hideBin(process.argv))
    .scriptName('sark-migrate')
    .usage('$0 <command> [options]\n\nMigrates a SARK database from v1.x (mcp_servers/mcp_tools) to v2.0 (resources/capabilities).')
    .option('database-url', { type: 'string', describe: 'libpq URL; default DATABASE_URL, then PG* variables and ~/.pgpass' })
    .option('json', { type: 'boolean', default: false, describe: 'machine-readable result on stdout (human text goes to stderr)' })
    .option('lock-timeout', { type: 'string', default: '500ms', describe: 'longest wait for a lock before a statement backs off and retries (the application queues behind a waiting DDL statement at most this long)' })
    .option('statement-timeout', { type: 'string', default: '0', describe: 'upper bound for any single statement (0 = none)' })
    .option('allow-drift', { type: 'boolean', default: false, describe: 'apply even though applied SQL files were edited since' })
    .command(commands)
    .demandCommand(1, 'Name a command: sark-migrate --help lists them.')
    .strict()
    .recommendCommands()
    .help()
    .version(false)
    .wrap(Math.min(110, process.stdout.columns || 110))
    .fail((message, error) => {
      if (error) throw error;
      throw usageError(message ?? 'Invalid command line.', 'Run `sark-migrate --help` (or `sark-migrate <command> --help`) for usage.');
    });
  await cli.parseAsync();
}

try {
  await main();
} catch (e) {
  const error = e instanceof SarkError ? e : toSarkError(e, where());
  report(error);
  process.exitCode = error.exitCode ?? ExitCode.failed;
}
