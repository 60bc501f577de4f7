#!/usr/bin/env node
// Written by .ci/entry-guards.mjs: do not edit. Checks that dist/ is built, then loads it.
import { assertBuilt } from './built.cjs';

assertBuilt('cli/main.js');
await import('../../dist/cli/main.js');
