import type { Command } from 'commander';
import { UserError } from '../../errors.js';

// Placeholder: the real command is being built (see the issue tracker).
export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('(not yet available)')
    .option('--json', 'print JSON')
    .action(() => {
      throw new UserError('validate is not implemented yet');
    });
}
