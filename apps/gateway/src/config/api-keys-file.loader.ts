import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { parseApiKeysYaml, readKeysText, type ApiKeysRead } from './api-keys.config.js';
import type { GatewayConfig } from './gateway-config.js';
import { ConfigValidationError } from './parse-config.js';

/** The worker next to this module, compiled (`.js`) or, when the sources run as they are, `.ts`. */
const PARSER = new URL(`./api-keys-file.worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/**
 * `parseApiKeysYaml` in a worker thread. A large keys file takes long, and many transient objects,
 * to parse: off the event loop, requests are not held up by a reload, and that memory goes back to
 * the system with the worker instead of staying in the gateway's heap.
 * Falls back to this thread when no worker can run (resource limits, a test runner without the
 * sources' loader): `threaded` says which it was.
 */
export function parseOffThread(text: string, known: ReadonlySet<string>): Promise<{ read: ApiKeysRead; threaded: boolean }> {
  return new Promise((resolve) => {
    let answered = false;
    const worker = new Worker(PARSER, { workerData: { text, known: [...known] } });
    worker.once('message', (read: ApiKeysRead) => {
      answered = true;
      resolve({ read, threaded: true });
    });
    worker.once('error', () => undefined); // the exit that follows answers
    worker.once('exit', () => answered || resolve({ read: parseApiKeysYaml(text, known), threaded: false }));
  });
}

/**
 * Start-up: reads and validates `GATEWAY_API_KEYS_FILE` (off the event loop, see `parseOffThread`)
 * into the configuration's keys, or throws `ConfigValidationError` with its problems, as
 * `parseGatewayConfig` does for every other variable.
 */
export async function withKeysFile(config: GatewayConfig): Promise<GatewayConfig> {
  if (config.apiKeysFile === undefined) return config;
  const text = readKeysText(config.apiKeysFile);
  const read = 'problem' in text ? text.problem : (await parseOffThread(text.text, config.knownProviders)).read;
  if (!read.ok) throw new ConfigValidationError(read.problems);
  return { ...config, apiKeys: read.keys };
}
