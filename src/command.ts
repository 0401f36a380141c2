/**
 * The thin layer between yargs and a command's library function: validates the command's options
 * with zod (a bad value is a usage error, exit 2), runs it, prints the result (human or --json) and
 * sets the exit code the result asks for. Errors are mapped to exit codes once, in cli.ts.
 */
import type { Argv, CommandModule } from 'yargs';
import { z } from 'zod';
import { GlobalOptions } from './context.ts';
import { ExitCode, usageError } from './errors.ts';
import { emit, output } from './output.ts';

export interface Outcome<R> {
  result: R;
  /** Human rendering of the result, printed to stdout unless --json. */
  human: () => string;
  exitCode?: ExitCode;
  /** Why the exit code is not 0, in one sentence; --json carries it as `exit.reason`. */
  reason?: string;
}

export interface CommandSpec<S extends z.ZodObject> {
  command: string | string[];
  describe: string;
  builder: (y: Argv) => Argv;
  options: S;
  run: (options: z.infer<S> & GlobalOptions) => Promise<Outcome<unknown>>;
}

export function defineCommand<S extends z.ZodObject>(spec: CommandSpec<S>): CommandModule {
  return {
    command: spec.command,
    describe: spec.describe,
    builder: spec.builder,
    handler: async (argv) => {
      const global = parseOrUsage(GlobalOptions, argv);
      const own = parseOrUsage(spec.options, argv);
      output.json = global.json;
      const outcome = await spec.run({ ...global, ...own } as z.infer<S> & GlobalOptions);
      const code = outcome.exitCode ?? ExitCode.ok;
      // A script reading --json sees why a run exited non-zero without parsing the human text.
      const result = code !== ExitCode.ok && isRecord(outcome.result)
        ? { ...outcome.result, exit: { code, reason: outcome.reason ?? 'see the result above' } }
        : outcome.result;
      emit(result, outcome.human);
      process.exitCode = code;
    },
  };
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function parseOrUsage<S extends z.ZodType>(schema: S, argv: unknown): z.infer<S> {
  const parsed = schema.safeParse(argv);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const flag = issue.path.length ? `--${String(issue.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : 'the options';
  throw usageError(`${flag} is invalid: ${issue.message}.`, `See \`sark-migrate ${''}--help\` for the accepted values.`);
}
