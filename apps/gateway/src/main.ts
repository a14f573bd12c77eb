// First: V8 flags must be set before the rest is evaluated.
import './v8-flags.js';
import 'reflect-metadata';
import { loadEnvFile } from './config/env-file.js';
import { runGateway } from './gateway.runner.js';

const problem = loadEnvFile();
if (problem) {
  process.stderr.write(`Invalid configuration:\n  ${problem}\n`);
  process.exit(1);
}
void runGateway(process.env);
