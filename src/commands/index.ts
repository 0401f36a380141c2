/** Every command, one module each; cli.ts registers this list. */
import type { CommandModule } from 'yargs';
import { demoCommand } from './demo.ts';
import { schemaCommand } from './schema.ts';
import { seedCommand } from './seed.ts';
import { statusCommand } from './status.ts';

export const commands: CommandModule[] = [schemaCommand, statusCommand, seedCommand, demoCommand];
