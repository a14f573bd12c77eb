import { extname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { entriesOf, KEYS_FILE } from './api-keys.config.js';
import type { KeysTable } from './api-keys.table.js';
import type { GatewayConfig } from './gateway-config.js';
import { ConfigValidationError } from './parse-config.js';

/** The worker next to this module, compiled (`.js`) or, when the sources run as they are, `.ts`. */
const PARSER = new URL(`./api-keys-file.worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/** The parser thread's heap: a file too big for it fails alone, never the gateway's own heap. */
export const KEYS_PARSER_HEAP_MB = 512;
/** A parser thread still busy after this long is stopped and the load counts as failed. */
export const KEYS_PARSE_TIMEOUT_MS = 300_000;
const EMPTY_IN_PRODUCTION = `${KEYS_FILE}: has no entry and NODE_ENV=production (every caller would get 401): add one (npm run -s keys -- new NAME)`;

/** Start-up reads a file that keeps changing this many times before giving up. */
const START_ATTEMPTS = 10;

export interface KeysFileRequest {
  path: string;
  known: string[];
  maxBytes: number;
  /** The SHA-256 of the file as last read: the same content again is `unchanged`, not parsed. */
  unless?: string;
}

/** `content`: what was read (its SHA-256, or the read's problem), so that a reload can tell a changed file. */
export type KeysFileAnswer =
  | { status: 'loaded'; content: string; table: KeysTable }
  | { status: 'failed'; content: string; problems: string[] }
  | { status: 'unchanged' }
  | { status: 'unsettled' };

/** For tests: the parser thread's heap and time, and its Node options (a TypeScript loader). */
export interface KeysParserOptions {
  heapMb?: number;
  timeoutMs?: number;
  execArgv?: string[];
}

/**
 * Reads and parses a keys file in a worker thread, so that neither its reading nor its parsing
 * holds up requests; whatever becomes of the thread (an exception, no memory left within its heap
 * cap, an exit, no answer in time) is an answer, never an exception here, and the file is never
 * parsed on this thread instead.
 */
export function loadKeysFile(request: KeysFileRequest, options: KeysParserOptions = {}): Promise<KeysFileAnswer> {
  const { heapMb = KEYS_PARSER_HEAP_MB, timeoutMs = KEYS_PARSE_TIMEOUT_MS, execArgv } = options;
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let worker: Worker;
    const settle = (answer: KeysFileAnswer) => {
      clearTimeout(timer);
      timer = undefined;
      resolve(answer);
    };
    const fail = (why: string) => settle({ status: 'failed', content: why, problems: [`${KEYS_FILE}: ${why}`] });
    try {
      worker = new Worker(PARSER, { workerData: request, resourceLimits: { maxOldGenerationSizeMb: heapMb }, execArgv });
    } catch (error) {
      return fail(`could not be parsed: no parser thread (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    timer = setTimeout(() => {
      fail(`could not be parsed within ${timeoutMs} ms`);
      void worker.terminate();
    }, timeoutMs);
    worker.once('message', settle);
    worker.once('messageerror', () => fail('could not be parsed: the parser thread answered nothing readable'));
    worker.once('error', (error: NodeJS.ErrnoException) =>
      fail(
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `could not be parsed within the parser thread's ${heapMb} MB heap`
          : `could not be parsed: the parser thread failed (${error.name})`,
      ),
    );
    worker.once('exit', (code) => fail(`could not be parsed: the parser thread stopped (exit code ${code})`));
  });
}

/**
 * Start-up: reads and validates `GATEWAY_API_KEYS_FILE` (see `loadKeysFile`) into the
 * configuration's keys, or throws `ConfigValidationError` with its problems, as
 * `parseGatewayConfig` does for every other variable. The file is read at once; while a writer
 * is still changing it, read again once it has had `KEYS_FILE_SETTLE_MS` to finish.
 */
export async function withKeysFile(config: GatewayConfig, options?: KeysParserOptions): Promise<GatewayConfig> {
  if (config.apiKeysFile === undefined) return config;
  const request = { path: config.apiKeysFile, known: [...config.knownProviders], maxBytes: config.keysFileLimits.maxBytes };
  for (let attempt = 1; ; attempt++) {
    const answer = await loadKeysFile(request, options);
    if (answer.status === 'loaded') {
      const apiKeys = entriesOf(answer.table);
      // As with no keys at all: in production a gateway no caller can use must not start (a later reload to none only warns).
      if (config.production && apiKeys.length === 0) throw new ConfigValidationError([EMPTY_IN_PRODUCTION], config.warnings);
      return { ...config, apiKeys, apiKeysFileContent: answer.content };
    }
    if (answer.status === 'failed') throw new ConfigValidationError(answer.problems, config.warnings);
    if (attempt === START_ATTEMPTS) throw new ConfigValidationError([`${KEYS_FILE}: kept changing while it was read`], config.warnings);
    await sleep(Math.max(config.keysFileLimits.settleMs, 10));
  }
}
