import type { Command } from 'commander';
import { UserError } from '../../errors.js';

// Placeholder: the real command is being built (see the issue tracker).
export function registerAgent(program: Command): void {
  program
    .command('agent')
    .description('(not yet available)')
    .option('--json', 'print JSON')
    .action(() => {
      throw new UserError('agent is not implemented yet');
    });
}
