import type { Command } from 'commander';
import { UserError } from '../../errors.js';

// Placeholder: the real command is being built (see the issue tracker).
export function registerCalibrate(program: Command): void {
  program
    .command('calibrate')
    .description('(not yet available)')
    .option('--json', 'print JSON')
    .action(() => {
      throw new UserError('calibrate is not implemented yet');
    });
}
