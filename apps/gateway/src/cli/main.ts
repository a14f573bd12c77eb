import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { runTokenCli } from './token-cli.js';

// The same configuration as the gateway: `.env` when present, real variables win.
if (existsSync('.env')) process.loadEnvFile('.env');

const code = await runTokenCli(process.argv.slice(2), process.env, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
process.exit(code);
