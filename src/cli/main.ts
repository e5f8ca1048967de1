#!/usr/bin/env node
/**
 * The `kmcl` command. Subcommands live in their own files; this one wires them
 * together and turns a CliError into one line on stderr and exit status 1.
 */
import { Command } from 'commander';
import { wireCommand } from './wire-command.js';
import { ringCommand } from './ring-command.js';
import { demoCommand } from './demo-command.js';
import { CliError } from './cli-error.js';

const print = (text: string): void => {
  process.stdout.write(text + '\n');
};

const program = new Command('kmcl')
  .description('VMBus Kernel Mode Client Library: run a VM with the Hyper-V integration components, and inspect VMBus wire formats and ring buffers')
  .addCommand(demoCommand(print))
  .addCommand(wireCommand(print))
  .addCommand(ringCommand(print))
  .addHelpText('after', `
Examples:
  $ kmcl demo
  $ kmcl demo --single-thread --seed 1 --json
  $ kmcl wire decode message 0700000000000000 05000000
  $ kmcl ring init /tmp/ring.bin --pages 4
  $ echo '{"packetType":6,"payload":"68656c6c6f"}' | kmcl ring write /tmp/ring.bin
  $ kmcl ring read /tmp/ring.bin`);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (!(e instanceof CliError)) throw e;
  process.stderr.write(`kmcl: ${e.message}\n`);
  process.exitCode = 1;
}
