import 'reflect-metadata';
import { loadEnvFile } from '../config/env-file.js';
import { runTokenCli } from './token-cli.js';

// The same configuration as the gateway: `ENV_FILE` or `.env`, real variables win.
const problem = loadEnvFile();
if (problem) {
  process.stderr.write(`Invalid configuration:\n  ${problem}\n`);
  process.exit(1);
}
const code = await runTokenCli(process.argv.slice(2), process.env, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
process.exit(code);
