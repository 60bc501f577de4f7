#!/usr/bin/env node
/**
 * The `flux-token` command. For now it only explains itself; the emulator, token, refresh, decode
 * and demo commands arrive with their issues.
 */
import { VERSION } from './version.js';

const HELP = `flux-token ${VERSION}: OAuth2 tokens for the Flux API

Usage: flux-token <command> [options]

Commands arrive with the emulator and demo. Options:
  --help       show this help
  --version    print the version
`;

const args = process.argv.slice(2);
if (args.includes('--version')) process.stdout.write(`${VERSION}\n`);
else process.stdout.write(HELP);
