import type { Command } from 'commander';
import { UserError } from '../../errors.js';

// Placeholder: the real command is being built (see the issue tracker).
export function registerStudy(program: Command): void {
  program
    .command('study')
    .description('(not yet available)')
    .option('--json', 'print JSON')
    .action(() => {
      throw new UserError('study is not implemented yet');
    });
}
