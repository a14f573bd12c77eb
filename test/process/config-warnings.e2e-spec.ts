import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startProviderEmulators, type ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { emulatorEnv } from '../support/gateway-harness.js';
import { freePort, waitUntil } from '../support/helpers.js';
import { jsonLines, scratchDir, startProcess, waitForHealth, type RunningProcess } from '../support/processes.js';

const TS_REGISTER = fileURLToPath(new URL('../../libs/oauth-providers/test-support/ts-register.mjs', import.meta.url));
const MAIN = fileURLToPath(new URL('../../apps/gateway/src/main.ts', import.meta.url));
const SECRET = 'value-that-must-never-show';
const MISSPELT = {
  PRIO_CLIENTID: SECRET,
  PRIO_SCOPES: SECRET,
  UPSTREAM_TIMEOUT: SECRET,
  MAX_BODY_SIZE: SECRET,
  PRIO_CLIENT_ID_FILE: `/run/${SECRET}`,
  PRIO_TOKENURL: SECRET,
};
const MISSPELT_LINES = [
  'MAX_BODY_SIZE: not a variable the gateway reads; did you mean MAX_BODY_BYTES?',
  'PRIO_CLIENTID: not a variable the gateway reads; did you mean PRIO_CLIENT_ID?',
  expect.stringMatching(/^PRIO_CLIENT_ID_FILE: not a variable the gateway reads; PRIO_CLIENT_ID cannot be given as a file \(only /),
  'PRIO_SCOPES: not a variable the gateway reads; did you mean PRIO_SCOPE?',
  'PRIO_TOKENURL: not a variable the gateway reads; did you mean PRIO_TOKEN_URL?',
  'UPSTREAM_TIMEOUT: not a variable the gateway reads; did you mean UPSTREAM_TIMEOUT_MS?',
];

describe("start-up warnings and problems, from the gateway's own main.ts", () => {
  let emulators: ProviderEmulators;
  const scratch = scratchDir('config-warnings-');
  const running: RunningProcess[] = [];
  /** main.ts in a process of its own, in the scratch folder (relative paths resolve there). */
  const gateway = (env: Record<string, string>) => {
    const child = startProcess(process.execPath, ['--import', TS_REGISTER, MAIN], { env, cwd: scratch.dir });
    running.push(child);
    return child;
  };
  /** Runs a gateway that must not start: its exit code and stderr. */
  const refused = async (env: Record<string, string>) => {
    const child = gateway({ HOST: '127.0.0.1', PORT: String(await freePort()), ...env });
    const { code } = await child.exited;
    return { code, stderr: child.stderr(), stdout: child.stdout() };
  };
  const stopped = async (child: RunningProcess) => {
    child.child.kill('SIGTERM');
    return (await child.exited).code;
  };
  const keysFile = (name: string, text: string) => {
    writeFileSync(join(scratch.dir, name), text);
    return join(scratch.dir, name);
  };
  const ONE_KEY = 'keys:\n  - name: partner-a\n    key: partner-a-key-0123456789\n    providers: "*"\n';

  beforeAll(async () => {
    emulators = await startProviderEmulators();
  });
  afterAll(async () => {
    for (const child of running) child.kill();
    await emulators.close();
    scratch.remove();
  });

  it("the issue's misspellings, from the environment and the env file: one warning line each, no value, and the gateway serves", async () => {
    const port = await freePort();
    const { PRIO_CLIENTID, PRIO_SCOPES, PRIO_TOKENURL, ...inEnv } = MISSPELT;
    const envFile = scratch.envFile('typos.env', { PRIO_CLIENTID, PRIO_SCOPES, PRIO_TOKENURL });
    const child = gateway({
      ...emulatorEnv(emulators),
      ...inEnv,
      ENV_FILE: envFile,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
    });
    await waitForHealth(`http://127.0.0.1:${port}/health`, child);
    const warningLines = () => jsonLines(child.stdout()).filter((line) => line.level === 40);
    // Production logs are written in batches: the lines come shortly after the gateway answers.
    await waitUntil(() => warningLines().length >= MISSPELT_LINES.length, 'the warning lines');
    const warnings = warningLines();
    expect(warnings.map((line) => line.msg)).toEqual(MISSPELT_LINES);
    expect(child.stdout() + child.stderr()).not.toContain(SECRET);
    expect(await stopped(child)).toBe(0);
  }, 60_000);

  it('CONFIG_STRICT=true: the same lines are problems, exit 1, nothing served', async () => {
    const { code, stderr } = await refused({ ...emulatorEnv(emulators), ...MISSPELT, NODE_ENV: 'production', CONFIG_STRICT: 'true' });
    expect(code).toBe(1);
    expect(stderr.split('\n').filter(Boolean)).toEqual([
      'Invalid configuration:',
      ...MISSPELT_LINES.map((line) =>
        typeof line === 'string'
          ? `  ${line} (CONFIG_STRICT=true)`
          : expect.stringMatching(/^ {2}PRIO_CLIENT_ID_FILE: .*\(CONFIG_STRICT=true\)$/),
      ),
    ]);
    expect(stderr).not.toContain(SECRET);
  }, 60_000);

  it('NODE_ENV=prod with a misspelt PRIO_TOKENURL: the sandbox starts, and both lines say why; under CONFIG_STRICT=true, exit 1', async () => {
    const port = await freePort();
    const child = gateway({ NODE_ENV: 'prod', PRIO_TOKENURL: 'https://prio.example/token', PORT: String(port), LOG_LEVEL: 'info' });
    await waitForHealth(`http://127.0.0.1:${port}/health`, child);
    await waitUntil(() => child.stdout().includes('NODE_ENV'), 'the NODE_ENV warning');
    expect(child.stdout()).toContain('PRIO_TOKENURL: not a variable the gateway reads; did you mean PRIO_TOKEN_URL?');
    expect(child.stdout()).toContain('NODE_ENV: "prod" is not production, development or test; it is treated as not production');
    expect(child.stdout()).toContain('Sandbox mode');
    expect(await stopped(child)).toBe(0);
    const strict = await refused({ NODE_ENV: 'prod', PRIO_TOKENURL: 'https://prio.example/token', CONFIG_STRICT: 'true' });
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/^ {2}PRIO_TOKENURL: .*did you mean PRIO_TOKEN_URL\? \(CONFIG_STRICT=true\)$/m);
    expect(strict.stderr).toMatch(/^ {2}NODE_ENV: "prod" is not production.*\(CONFIG_STRICT=true\)$/m);
  }, 60_000);

  it('production with no caller key: exit 1, one line saying what to set; GATEWAY_API_KEY in its place is named beside it', async () => {
    const { GATEWAY_API_KEYS: _keys, ...withoutKeys } = emulatorEnv(emulators);
    const none = await refused({ ...withoutKeys, NODE_ENV: 'production' });
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(
      'Invalid configuration:\n  GATEWAY_API_KEYS: no caller key is configured and NODE_ENV=production (every caller would get 401): set GATEWAY_API_KEYS or GATEWAY_API_KEYS_FILE\n',
    );
    const cli = await refused({ ...withoutKeys, NODE_ENV: 'production', GATEWAY_API_KEY: SECRET });
    expect(cli.code).toBe(1);
    expect(cli.stderr.split('\n').filter(Boolean)).toEqual([
      'Invalid configuration:',
      expect.stringMatching(
        /^ {2}GATEWAY_API_KEYS: no caller key .*\(GATEWAY_API_KEY is the token CLI's variable: the gateway does not read it\)$/,
      ),
      'Warnings:',
      expect.stringMatching(
        /^ {2}GATEWAY_API_KEY: the token CLI's variable, .*did you mean GATEWAY_API_KEYS \(or GATEWAY_API_KEYS_FILE\)\?$/,
      ),
    ]);
    expect(cli.stderr).not.toContain(SECRET);
    const empty = await refused({ ...withoutKeys, NODE_ENV: 'production', GATEWAY_API_KEYS_FILE: keysFile('empty.yaml', 'keys: []\n') });
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/^ {2}GATEWAY_API_KEYS_FILE: has no entry and NODE_ENV=production/m);
  }, 60_000);

  it('a reload to a keys file with no entry is applied, with a warning line', async () => {
    const { GATEWAY_API_KEYS: _keys, ...withoutKeys } = emulatorEnv(emulators);
    const port = await freePort();
    const file = keysFile('reloaded.yaml', ONE_KEY);
    const env = { ...withoutKeys, GATEWAY_API_KEYS_FILE: file, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port) };
    const child = gateway(env);
    await waitForHealth(`http://127.0.0.1:${port}/health`, child);
    writeFileSync(file, 'keys: []\n');
    child.child.kill('SIGHUP');
    await waitUntil(() => jsonLines(child.stdout()).some((line) => line.level === 40), 'the warning line', 20_000);
    expect(jsonLines(child.stdout()).find((line) => line.level === 40)).toMatchObject({
      msg: 'API keys file has no entry: every caller gets 401 until one is added',
      trigger: 'SIGHUP',
    });
    expect(await stopped(child)).toBe(0);
  }, 60_000);

  it('Pay-me with a password but no audience: PAYME_AUDIENCE and PAYME_USERNAME in the same run', async () => {
    const payme = { PAYME_TOKEN_URL: emulators.tokenUrl('payme'), PAYME_API_URL: emulators.apiUrl('payme'), PAYME_CLIENT_ID: 'c' };
    const { code, stderr } = await refused({ ...payme, PAYME_CLIENT_SECRET: SECRET, PAYME_PASSWORD: SECRET, GATEWAY_API_KEYS: 'k' });
    expect(code).toBe(1);
    expect(stderr.split('\n').filter(Boolean)).toEqual([
      'Invalid configuration:',
      expect.stringMatching(/^ {2}PAYME_AUDIENCE: missing/),
      '  PAYME_USERNAME: missing (PAYME_USERNAME and PAYME_PASSWORD go together)',
    ]);
    expect(stderr).not.toContain(SECRET);
  }, 60_000);

  it('HOST and ADMIN_HOST that do not resolve, and a relative keys file that does not exist, are named with what was given', async () => {
    const host = await refused({ ...emulatorEnv(emulators), HOST: 'no.such.host.invalid' });
    expect(host.code).toBe(1);
    expect(host.stderr).toMatch(
      /^The gateway could not start: HOST: no\.such\.host\.invalid does not resolve to an address \(getaddrinfo (ENOTFOUND|EAI_AGAIN)\)\n$/,
    );
    const admin = await refused({ ...emulatorEnv(emulators), ADMIN_PORT: String(await freePort()), ADMIN_HOST: 'no.such.host.invalid' });
    expect(admin.stderr).toMatch(/^The gateway could not start: ADMIN_HOST: no\.such\.host\.invalid does not resolve/);
    const { GATEWAY_API_KEYS: _keys, ...withoutKeys } = emulatorEnv(emulators);
    const keys = await refused({ ...withoutKeys, GATEWAY_API_KEYS_FILE: './keys.yaml' });
    expect(keys.code).toBe(1);
    expect(keys.stderr).toBe(
      `Invalid configuration:\n  GATEWAY_API_KEYS_FILE: cannot be read: ./keys.yaml (${join(scratch.dir, 'keys.yaml')}): ENOENT\n`,
    );
  }, 60_000);
});
