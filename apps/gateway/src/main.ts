// First: V8 flags must be set before the rest is evaluated.
import './v8-flags.js';
// Second: from here a SIGTERM / SIGINT is held rather than fatal, while the rest loads (imported below, not before).
import { earlySignal } from './shutdown/early-signals.js';

const { loadEnvFile } = await import('./config/env-file.js');
const problem = loadEnvFile();
if (problem) {
  process.stderr.write(`Invalid configuration:\n  ${problem}\n`);
  process.exit(1);
}
await import('reflect-metadata');
const { processIo, runGateway } = await import('./gateway.runner.js');
void runGateway(process.env, { ...processIo, earlySignal });
