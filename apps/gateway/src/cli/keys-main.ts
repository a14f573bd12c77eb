import { loadEnvFile } from '../config/env-file.js';
import { runKeysCli } from './keys-cli.js';

// OAUTH_PROVIDERS as the gateway reads it: `ENV_FILE` or `.env`, real variables win.
const problem = loadEnvFile();
if (problem) {
  process.stderr.write(`Invalid configuration:\n  ${problem}\n`);
  process.exit(1);
}
process.exitCode = runKeysCli(process.argv.slice(2), process.env, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
