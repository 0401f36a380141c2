/** Every command, one module each; cli.ts registers this list. */
import type { CommandModule } from 'yargs';
import { dataCommand } from './data.ts';
import { demoCommand } from './demo.ts';
import { schemaCommand } from './schema.ts';
import { seedCommand } from './seed.ts';
import { statusCommand } from './status.ts';
import { validateCommand } from './validate.ts';
import { backupCommand } from './backup.ts';
import { preflightCommand } from './preflight.ts';
import { restoreCommand } from './restore.ts';
import { optimizeCommand } from './optimize.ts';
import { benchCommand } from './bench.ts';
import { syncCommand } from './sync.ts';
import { decommissionCommand } from './decommission.ts';
import { runCommand } from './run.ts';
import { uninstallCommand } from './uninstall.ts';

export const commands: CommandModule[] = [schemaCommand, statusCommand, seedCommand, demoCommand, dataCommand, preflightCommand, backupCommand, restoreCommand, optimizeCommand, benchCommand, syncCommand, decommissionCommand, runCommand, validateCommand, uninstallCommand];
