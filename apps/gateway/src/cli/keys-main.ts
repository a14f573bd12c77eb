import { existsSync } from 'node:fs';
import { runKeysCli } from './keys-cli.js';

// OAUTH_PROVIDERS as the gateway reads it: `.env` when present, real variables win.
if (existsSync('.env')) process.loadEnvFile('.env');

process.exitCode = runKeysCli(process.argv.slice(2), process.env, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
