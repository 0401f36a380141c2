/**
 * sark-migrate: the command line. Commands live one per module under src/commands; this file only
 * wires them into yargs, declares the options every command shares, and turns any failure into one
 * clear sentence with its fix and the exit code docs/CONTRACT.md promises.
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

/**
 * yargs names an unknown flag as it parsed it: `--no-such-flag` as "such-flag, suchFlag" (boolean
 * negation, then its camelCase alias). Name each as the operator typed it.
 */
function asTyped(message: string): string {
  const m = /^Unknown arguments?: (.*)$/.exec(message);
  if (!m) return message;
  const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  const names = [...new Set(m[1]!.split(', ').map(kebab))];
  const args = process.argv.slice(2);
  const words = names.filter((n) => args.includes(n));
  const typed = args.filter((a) => a.startsWith('-')).map((a) => a.split('=')[0]!);
  const flags = names
    .filter((n) => !words.includes(n))
    .map((n) => typed.find((t) => t === `--${n}` || t === `--no-${n}` || t === `-${n}`) ?? (n.length === 1 ? `-${n}` : `--${n}`));
  return [
    words.length ? `Unknown command or argument${words.length > 1 ? 's' : ''}: ${words.join(', ')}.` : '',
    flags.length ? `Unknown option${flags.length > 1 ? 's' : ''}: ${[...new Set(flags)].join(', ')}.` : '',
  ].filter(Boolean).join(' ');
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
      throw usageError(asTyped(message ?? 'Invalid command line.'), 'Run `sark-migrate --help` (or `sark-migrate <command> --help`) for usage.');
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
