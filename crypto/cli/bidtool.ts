/**
 * bidtool — the bidder's offline tool (投标人工具).
 *
 *   npx tsx crypto/cli/bidtool.ts <command> [options]
 *   npm run bidtool -- <command> [options]
 *
 * Each group of commands lives in ./commands/*.ts and is added by a
 * register*Commands(program, ctx) function; add new groups there.
 */
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { registerAccountCommands } from './commands/account';
import { registerAuditCommands } from './commands/audit';
import { registerBidCommands } from './commands/bid';
import { registerCertCommands } from './commands/certs';
import { registerCustodyCommands } from './commands/custody';
import { registerKeyCommands } from './commands/keys';
import { registerOpeningCommands } from './commands/opening';
import { registerPackageCommands } from './commands/package';
import { CliExit, defaultContext, EXIT_BAD_INPUT, println, type CliContext } from './context';

export function buildProgram(ctx: CliContext = defaultContext()): Command {
  const program = new Command();
  program
    .name('bidtool')
    .description('公共资源电子交易平台 投标人工具 / Public-resource trading platform bidder tool')
    .version('0.1.0')
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    })
    // Never call process.exit from inside; runBidtool maps errors to exit codes.
    .exitOverride()
    .showHelpAfterError();
  // Settings above are copied to subcommands created with .command().
  registerKeyCommands(program, ctx);
  registerCertCommands(program, ctx);
  registerAccountCommands(program, ctx);
  registerPackageCommands(program, ctx);
  registerBidCommands(program, ctx);
  registerCustodyCommands(program, ctx);
  registerOpeningCommands(program, ctx);
  registerAuditCommands(program, ctx);
  return program;
}

/**
 * Runs bidtool with user arguments (no "node script" prefix) and returns the
 * exit code; all output goes through ctx.
 */
export async function runBidtool(args: string[], ctx: CliContext = defaultContext()): Promise<number> {
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(args, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CliExit) {
      println(ctx.stderr, e.message);
      return e.exitCode;
    }
    if (e instanceof CommanderError) {
      // Commander has already printed its message (help, usage error...).
      return e.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
    }
    println(ctx.stderr, `错误 / Error: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT_BAD_INPUT;
  }
}

function isMainModule(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    // Resolve symlinks (npm's bin links) to compare with this module's real path.
    return import.meta.url === pathToFileURL(fs.realpathSync(entry)).href;
  } catch {
    return false;
  }
}

if (isMainModule()) {
  process.exitCode = await runBidtool(process.argv.slice(2));
}
