#!/usr/bin/env node
/**
 * The `flux-token` command: get, refresh and decode Flux tokens, run the local emulator, and run the
 * demo. Every failure is one line on stderr and a non-zero exit code, never a stack trace.
 */
import { Command, CommanderError, Option } from 'commander';
import { ConfigurationError, InvalidArgumentError } from '../shared/errors.js';
import { numberFlag } from './credentials.js';
import { emulatorCommand } from './emulator-command.js';
import { oneLine, UsageError } from './errors.js';
import { decodeCommand, refreshCommand, tokenCommand } from './token-commands.js';
import { demoCommand } from './demo-command.js';
import { EMULATOR_DEFAULTS } from '../emulator/options.js';
import { DEFAULT_TIMEOUT_MS, DEFAULT_TOKEN_URL } from '../endpoint/token-endpoint.js';
import { VERSION } from '../shared/version.js';

const out = (line: string) => process.stdout.write(`${line}\n`);

/** `--scope` takes a user id; an empty one is a usage mistake, worded for the command line. */
function scopeFlag(value: string): string {
  if (value === '') throw new UsageError('--scope expects a user id, got an empty string (leave --scope out for a client-wide token)');
  return value;
}

/**
 * Every option's help shows its default. Commander prints `(default: ...)` only for a defined
 * value, so the options that default to the environment or to nothing say so in their text.
 */
function endpointOptions(command: Command): Command {
  return command
    .option('--client-id <id>', 'OAuth2 client id (default: $FLUX_CLIENT_ID)')
    .option('--client-secret <secret>', 'OAuth2 client secret; prefer the environment (default: $FLUX_CLIENT_SECRET)')
    .option('--token-url <url>', `token endpoint (default: $FLUX_TOKEN_URL, else Flux's test environment, ${DEFAULT_TOKEN_URL})`)
    .addOption(new Option('--timeout <ms>', 'per-attempt timeout in ms').default(DEFAULT_TIMEOUT_MS).argParser(numberFlag('--timeout', { min: 1 })))
    .addOption(new Option('--retry <n>', 'retries on transient failures').default(0).argParser(numberFlag('--retry', { integer: true, max: 10 })));
}

function buildProgram(): Command {
  const program = new Command('flux-token')
    .description('OAuth2 tokens for the Flux API: get, refresh, decode, emulate, demo')
    .version(VERSION)
    .showHelpAfterError(false)
    .exitOverride()
    // Set here, before the subcommands exist: commander copies a parent's output settings into a
    // subcommand when `.command()` creates it, not later. Configured after that, a subcommand's own
    // errors (an unknown option, a missing `--refresh-token`) bypassed this and printed `error: ...`.
    // Commander's messages may carry a second line ("(Did you mean --scope?)"), joined here.
    .configureOutput({
      writeErr: (text) => process.stderr.write(text),
      outputError: (text, write) => write(`flux-token: ${text.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ')}\n`),
    });

  endpointOptions(program.command('token').description('issue a token (client_credentials grant), print the JSON'))
    .addOption(new Option('--scope <user>', 'restrict the token to this user id (default: none, a client-wide token)').argParser(scopeFlag))
    .action((flags) => tokenCommand(flags, out));

  endpointOptions(program.command('refresh').description('renew a token (refresh_token grant), print the JSON'))
    .option('--refresh-token <token>', 'the refresh token to spend; - reads it from stdin (default: $FLUX_REFRESH_TOKEN)')
    .addOption(new Option('--with-client-credentials', 'also send client_id and client_secret').default(false))
    .action((flags) => refreshCommand(flags, out));

  program
    .command('decode')
    .description('print the header and gunzipped claims of a Flux access token')
    .argument('<token>', 'the access token (a JWS); - reads it from stdin')
    .action((token: string) => decodeCommand(token, out));

  const e = EMULATOR_DEFAULTS;
  program
    .command('emulator')
    .description('run the local Flux emulator in the foreground')
    .addOption(new Option('--port <n>', 'TCP port (0 = any free port)').default(e.port).argParser(numberFlag('--port', { integer: true, max: 65535 })))
    .addOption(new Option('--expires-in <s>', 'token lifetime in seconds').default(e.expiresIn).argParser(numberFlag('--expires-in', { min: 0.001 })))
    .addOption(new Option('--client-id <id>', 'client id to accept').default(e.clientId))
    .addOption(new Option('--client-secret <secret>', 'client secret to accept').default(e.clientSecret))
    .action((flags) => emulatorCommand(flags, out));

  program
    .command('demo')
    .description('per-user workers calling the emulated API through got and fetch while tokens refresh')
    .addOption(new Option('--users <n>', 'number of users').default(50).argParser(numberFlag('--users', { min: 1, integer: true, max: 100_000 })))
    .addOption(new Option('--concurrency <n>', 'concurrent workers').default(16).argParser(numberFlag('--concurrency', { min: 1, integer: true, max: 1000 })))
    .addOption(new Option('--duration <s>', 'run time in seconds').default(15).argParser(numberFlag('--duration', { min: 0.5, max: 3600 })))
    .addOption(new Option('--token-lifetime <s>', 'token lifetime in seconds').default(5).argParser(numberFlag('--token-lifetime', { min: 0.5 })))
    .addOption(new Option('--outage <s>', 'endpoint outage in the middle, seconds (0 = none)').default(2).argParser(numberFlag('--outage', { min: 0 })))
    .option('--report <file.html>', 'also write the run as one self-contained HTML page (token timeline, charts, summary) (default: none, the terminal summary only)')
    .action(async (flags) => {
      const ok = await demoCommand(flags, out);
      if (!ok) process.exitCode = 1;
    });

  return program;
}

/**
 * Whether an error is the caller's mistake (exit 2) rather than a failure (exit 1). Besides the CLI's
 * own UsageError, the library's ConfigurationError and InvalidArgumentError come from flag or
 * environment values here (an http: `--token-url` off loopback, an empty `--scope`).
 */
function isUsageError(error: unknown): boolean {
  return error instanceof UsageError || error instanceof ConfigurationError || error instanceof InvalidArgumentError;
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0. Every other commander error (unknown
      // option or command, missing argument or required option, too many arguments, no command at
      // all) is a usage error: commander says 1, the documented contract says 2.
      return error.exitCode === 0 ? 0 : 2;
    }
    process.stderr.write(`flux-token: ${oneLine(error)}\n`);
    return isUsageError(error) ? 2 : 1;
  }
}

process.exitCode = await main(process.argv);
