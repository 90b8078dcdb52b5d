import type { Command } from 'commander';
import { UserError } from '../../errors.js';

// Placeholder: the real command is being built (see the issue tracker).
export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('(not yet available)')
    .option('--json', 'print JSON')
    .action(() => {
      throw new UserError('predict is not implemented yet');
    });
}
