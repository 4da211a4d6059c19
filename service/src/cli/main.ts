#!/usr/bin/env node
/** `acm-cert-export`: the command-line client of the service (see docs/auth.md and docs/api.md). */
import { processEnvironment } from './environment.ts';
import { runCli } from './program.ts';

process.exitCode = await runCli(process.argv.slice(2), processEnvironment());
