import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startProviderEmulators, type ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { newApiKey } from '../../apps/gateway/src/cli/keys-cli.js';
import { keyDigest } from '../../apps/gateway/src/config/api-keys.config.js';
import { emulatorEnv } from '../support/gateway-harness.js';
import { GatewayProcess, metric, runGatewayToExit } from '../support/gateway-process.js';

const partner = newApiKey();
const others = Array.from({ length: 18 }, () => newApiKey());
const entry = (name: string, key: string) => `  - name: ${name}\n    key: sha256:${keyDigest(key)}\n    providers: "*"\n`;
const FIRST = `keys:\n${entry('partner-a', partner)}`;
/** The file of the report: ten aliases of ten aliases of ten items, a few lines that YAML expands a thousandfold. */
const ALIASES = `x: &a [k,k,k,k,k,k,k,k,k,k]\ny: &b [${Array(10).fill('*a').join(',')}]\nz: &c [${Array(10).fill('*b').join(',')}]\nkeys: []\n`;
const ALIASES_REFUSED = 'GATEWAY_API_KEYS_FILE: aliases are not allowed (write each entry out instead of &anchor / *alias)';
const SETTLE_MS = 1_000;
const MAX_BYTES = 65_536;

const NOT_RELOADED = 'API keys not reloaded: the current keys stay in use';
const statusOf = async (g: GatewayProcess, path: string, key?: string) =>
  (await fetch(`${g.url}${path}`, { headers: key === undefined ? {} : { 'x-api-key': key } })).status;

describe('GATEWAY_API_KEYS_FILE that is hostile or half-written, on a running gateway', () => {
  let emulators: ProviderEmulators;
  let gateway: GatewayProcess;
  const dir = mkdtempSync(join(tmpdir(), 'keys-faults-'));
  const file = join(dir, 'keys.yaml');
  const replaceWith = (text: string) => {
    writeFileSync(join(dir, '.next'), text);
    renameSync(join(dir, '.next'), file);
  };
  const loadedAfter = (after: number) => (l: Record<string, unknown>) => l.msg === 'API keys loaded' && (l.time as number) > after;
  const refusedAfter = (after: number) => (l: Record<string, unknown>) => l.msg === NOT_RELOADED && (l.time as number) > after;

  /** The problems of the one failed reload since `after`, once the gateway has logged it. */
  async function refusal(after: number): Promise<unknown> {
    const line = await gateway.waitForLog(refusedAfter(after), 'a refused reload');
    expect(gateway.logs().filter(refusedAfter(after))).toHaveLength(1);
    expect(line).toMatchObject({ level: 50, file, keys: await metric(gateway.url, 'gateway_keys_loaded') });
    return line.problems;
  }

  /** The current keys still serve, the gauge says the last reload failed, and a good file loads again. */
  async function stillServingThenRecover(): Promise<void> {
    expect(gateway.alive()).toBe(true);
    expect(await statusOf(gateway, '/health')).toBe(200);
    expect(await metric(gateway.url, 'gateway_keys_reload_failed')).toBe(1);
    expect(await statusOf(gateway, '/prio/echo', partner)).toBe(200);
    const before = Date.now();
    replaceWith(FIRST);
    await gateway.waitForLog(loadedAfter(before), 'a good file loaded again');
    expect(await metric(gateway.url, 'gateway_keys_reload_failed')).toBe(0);
  }

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    writeFileSync(file, FIRST);
    const { GATEWAY_API_KEYS: _, ...env } = emulatorEnv(emulators);
    gateway = await GatewayProcess.start({
      ...env,
      GATEWAY_API_KEYS_FILE: file,
      KEYS_FILE_MAX_BYTES: String(MAX_BYTES),
      KEYS_FILE_SETTLE_MS: String(SETTLE_MS),
      LOG_LEVEL: 'info',
    });
  }, 60_000);

  afterAll(async () => {
    await gateway?.stop();
    await emulators.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a file with YAML aliases in one line, and lives on with the current keys', async () => {
    const before = Date.now();
    replaceWith(ALIASES);
    expect(await refusal(before)).toEqual([ALIASES_REFUSED]);
    await stillServingThenRecover();
  }, 60_000);

  it('refuses a file larger than KEYS_FILE_MAX_BYTES without parsing it', async () => {
    const before = Date.now();
    replaceWith(`${FIRST}${'# padding\n'.repeat(MAX_BYTES / 10 + 1)}`);
    expect(await refusal(before)).toEqual([`GATEWAY_API_KEYS_FILE: is larger than KEYS_FILE_MAX_BYTES (${MAX_BYTES} bytes)`]);
    await stillServingThenRecover();
  }, 60_000);

  it('never loads half a file: a writer pausing mid-write for less than KEYS_FILE_SETTLE_MS gets the whole file read', async () => {
    const before = Date.now();
    const added = others.slice(0, 18).map((key, i) => entry(`caller-${i}`, key));
    // In place, as a slow copy does (non-blocking: never waiting on a FIFO left by a failed test).
    const fd = openSync(file, constants.O_WRONLY | constants.O_TRUNC | constants.O_NONBLOCK);
    writeSync(fd, `${FIRST}${added.slice(0, 9).join('')}`);
    // The writer's pause, shorter than the settle time.
    await sleep(SETTLE_MS / 3);
    writeSync(fd, added.slice(9).join(''));
    closeSync(fd);
    expect(await gateway.waitForLog(loadedAfter(before), 'the whole file loaded')).toMatchObject({ trigger: 'change', keys: 19 });
    expect(gateway.logs().filter((l) => loadedAfter(before)(l) || refusedAfter(before)(l))).toHaveLength(1);
    expect(await statusOf(gateway, '/prio/echo', others[17])).toBe(200);
  }, 60_000);

  it('refuses a FIFO renamed over the file without waiting for a writer: /health keeps answering', async () => {
    const before = Date.now();
    execFileSync('mkfifo', [join(dir, '.fifo')]);
    renameSync(join(dir, '.fifo'), file);
    expect(await refusal(before)).toEqual([`GATEWAY_API_KEYS_FILE: is not a regular file: ${file}`]);
    await stillServingThenRecover();
  }, 60_000);
});

describe('a hostile keys file at start-up', () => {
  let emulators: ProviderEmulators;
  const dir = mkdtempSync(join(tmpdir(), 'keys-faults-start-'));
  beforeAll(async () => {
    emulators = await startProviderEmulators();
  });
  afterAll(async () => {
    await emulators.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const start = (file: string) => {
    const { GATEWAY_API_KEYS: _, ...env } = emulatorEnv(emulators);
    return runGatewayToExit({ ...env, GATEWAY_API_KEYS_FILE: file });
  };

  it('stops with exit 1 and the one problem, no stack trace, for a file with aliases', async () => {
    const file = join(dir, 'aliases.yaml');
    writeFileSync(file, ALIASES);
    expect(await start(file)).toEqual({ code: 1, output: `Invalid configuration:\n  ${ALIASES_REFUSED}\n` });
  }, 60_000);

  it('stops with exit 1 for a FIFO, without waiting for a writer', async () => {
    const file = join(dir, 'fifo.yaml');
    execFileSync('mkfifo', [file]);
    expect(await start(file)).toEqual({
      code: 1,
      output: `Invalid configuration:\n  GATEWAY_API_KEYS_FILE: is not a regular file: ${file}\n`,
    });
  }, 60_000);
});
