#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { UserError } from '../errors.js';
import { commands } from './commands/index.js';

const program = new Command('roofcast')
  .description('Measure GPUs with WGSL kernels and predict LLM inference and agent cost on accelerators.')
  .version('0.1.0')
  .showSuggestionAfterError(true)
  .exitOverride()
  .configureOutput({
    // commander prints "error: ..." lines itself; keep them to one line each.
    outputError: (str, write) => write(`roofcast: ${str.replace(/^error: /, '').trim()}\n`),
  });

for (const register of commands) register(program);

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; usage errors were already printed by commander
      process.exitCode = err.exitCode === 0 ? 0 : 2;
    } else if (err instanceof UserError) {
      process.stderr.write(`roofcast: ${err.message}\n`);
      process.exitCode = 2;
    } else {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`roofcast: internal error: ${message}\n`);
      if (process.env.ROOFCAST_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
      process.exitCode = 1;
    }
  }
}

await main();
// Dawn can keep the event loop alive after the device is destroyed: always exit when done.
process.exit(process.exitCode ?? 0);
