import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startProviderEmulators, type ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { keyDigest } from '../../apps/gateway/src/config/api-keys.config.js';
import { newApiKey } from '../../apps/gateway/src/cli/keys-cli.js';
import { apiKeysIn, emulatorEnv, expectNoSecretIn, KEY_ALL } from '../support/gateway-harness.js';
import { GatewayProcess, metric, runGatewayToExit } from '../support/gateway-process.js';
import { HoldingUpstream } from '../support/holding-upstream.js';
import { waitUntil } from '../support/helpers.js';

const keys = { partner: newApiKey(), ops: newApiKey(), limited: newApiKey(), later: newApiKey(), newer: newApiKey() };

/** A keys file: `partner` in plain text, the others by digest, as `npm run keys` writes them. */
function keysFile(entries: Array<{ name: string; key: string; providers: string; rateLimit?: string; plain?: boolean }>): string {
  return `keys:\n${entries
    .map(
      ({ name, key, providers, rateLimit, plain }) =>
        `  - name: ${name}\n    key: ${plain ? key : `sha256:${keyDigest(key)}`}\n    providers: ${providers}\n${rateLimit ? `    rateLimit: ${rateLimit}\n` : ''}`,
    )
    .join('')}`;
}
const FIRST = keysFile([
  { name: 'partner-a', key: keys.partner, providers: '[prio]', plain: true },
  { name: 'ops', key: keys.ops, providers: '"*"' },
  { name: 'limited', key: keys.limited, providers: '[prio]', rateLimit: '3/m' },
]);

const call = (g: GatewayProcess, path: string, key?: string) =>
  fetch(`${g.url}${path}`, { headers: key === undefined ? {} : { 'x-api-key': key } });
const statusOf = async (g: GatewayProcess, path: string, key?: string) => (await call(g, path, key)).status;
const loaded = (g: GatewayProcess, after: number, trigger: string) =>
  g.waitForLog((l) => l.msg === 'API keys loaded' && l.trigger === trigger && (l.time as number) > after, `keys loaded on ${trigger}`);
const notReloaded = (g: GatewayProcess, after: number) =>
  g.waitForLog((l) => l.msg === 'API keys not reloaded: the current keys stay in use' && (l.time as number) > after, 'a failed reload');

describe('GATEWAY_API_KEYS_FILE on a real gateway process', () => {
  let emulators: ProviderEmulators;
  let upstream: HoldingUpstream;
  let gateway: GatewayProcess;
  // A ConfigMap volume as the kubelet lays it out: keys.yaml -> ..data/keys.yaml, ..data -> ..<version>.
  const dir = mkdtempSync(join(tmpdir(), 'keys-file-'));
  const version = (name: string, text: string) => {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'keys.yaml'), text);
  };

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    upstream = new HoldingUpstream();
    await upstream.start();
    version('..2026_01_01_v1', FIRST);
    symlinkSync('..2026_01_01_v1', join(dir, '..data'));
    symlinkSync('..data/keys.yaml', join(dir, 'keys.yaml'));
    const { GATEWAY_API_KEYS: _, ...env } = emulatorEnv(emulators);
    gateway = await GatewayProcess.start({
      ...env,
      PRIO_API_URL: upstream.url,
      GATEWAY_API_KEYS_FILE: join(dir, 'keys.yaml'),
      LOG_LEVEL: 'debug',
    });
  }, 60_000);

  afterAll(async () => {
    await gateway?.stop();
    upstream.release();
    await upstream.close();
    await emulators.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the callers of the file by name: plain and hashed keys, their providers, the caller and client in the access line', async () => {
    expect(await statusOf(gateway, '/prio/echo', keys.partner)).toBe(200);
    expect(await statusOf(gateway, '/latam/echo', keys.partner)).toBe(403);
    expect(await statusOf(gateway, '/latam/echo', keys.ops)).toBe(200);
    expect(await statusOf(gateway, '/prio/echo', keys.later)).toBe(401);
    expect(await statusOf(gateway, '/prio/echo', `sha256:${keyDigest(keys.ops)}`)).toBe(401); // a digest is not a key
    const tokens = await call(gateway, '/tokens', keys.ops);
    expect(tokens.status).toBe(200);
    expect(((await tokens.json()) as { rateLimits: unknown }).rateLimits).toEqual({ shared: false, degraded: false });
    const line = await gateway.waitForLog((l) => l.msg === 'proxied' && l.caller === 'partner-a', 'an access line of partner-a');
    expect(line).toMatchObject({ client: '127.0.0.1', provider: 'prio', status: 200 });
    await gateway.waitForLog((l) => l.msg === 'proxied' && l.caller === '-' && l.status === 401, 'the refused call, caller "-"');
    expect(await metric(gateway.url, 'gateway_keys_loaded')).toBe(3);
    expect(await metric(gateway.url, 'gateway_keys_reload_failed')).toBe(0);
  });

  it('limits a key to its rate in this instance without Redis: 429 with Retry-After and the RateLimit fields, counted per provider', async () => {
    const started = Date.now();
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await call(gateway, '/prio/echo', keys.limited));
    const admitted = answers.filter((a) => a.status === 200).length;
    // 3/m: a burst of 3, then one more every 20 s.
    expect(admitted).toBeGreaterThanOrEqual(3);
    expect(admitted).toBeLessThanOrEqual(3 + Math.floor((Date.now() - started) / 20_000));
    const refused = answers.find((a) => a.status === 429)!;
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(20);
    expect(refused.headers.get('ratelimit-policy')).toBe('"default";q=3;w=60');
    expect(refused.headers.get('ratelimit')).toBe(`"default";r=0;t=${retryAfter}`);
    expect(await refused.json()).toMatchObject({ status: 429, code: 'rate_limited', provider: 'prio' });
    expect(await metric(gateway.url, 'gateway_rate_limited_total{provider="prio"}')).toBe(answers.length - admitted);
    // Keys without a limit are not limited.
    for (let i = 0; i < 10; i++) expect(await statusOf(gateway, '/prio/echo', keys.partner)).toBe(200);
  });

  it('reloads on SIGHUP a change its directory watch cannot see (the file edited in place under ..data)', async () => {
    const before = Date.now();
    writeFileSync(
      join(dir, '..2026_01_01_v1', 'keys.yaml'),
      `${FIRST}  - { name: later, key: "sha256:${keyDigest(keys.later)}", providers: "*" }\n`,
    );
    gateway.child.kill('SIGHUP');
    expect(await loaded(gateway, before, 'SIGHUP')).toMatchObject({ keys: 4 });
    expect(await statusOf(gateway, '/prio/echo', keys.later)).toBe(200);
  });

  it('reloads when a ConfigMap swaps its ..data symlink, and in-flight requests finish under the keys they started with', async () => {
    const held = call(gateway, '/prio/hold', keys.partner);
    await waitUntil(() => upstream.held.length === 1, 'the held request to reach the provider');
    const before = Date.now();
    // What the kubelet does: a new version directory, a new ..data_tmp link, renamed over ..data.
    version(
      '..2026_01_02_v2',
      keysFile([
        { name: 'ops', key: keys.ops, providers: '"*"' },
        { name: 'newer', key: keys.newer, providers: '[prio]' },
      ]),
    );
    symlinkSync('..2026_01_02_v2', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    expect(await loaded(gateway, before, 'change')).toMatchObject({ keys: 2 });
    expect(await statusOf(gateway, '/prio/echo', keys.partner)).toBe(401);
    expect(await statusOf(gateway, '/prio/echo', keys.newer)).toBe(200);
    upstream.release();
    const answer = await held;
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe('released');
  }, 45_000);

  it("reloads after an editor's save (a new file renamed over the old path)", async () => {
    const before = Date.now();
    writeFileSync(join(dir, '.keys.yaml.swp'), FIRST);
    renameSync(join(dir, '.keys.yaml.swp'), join(dir, 'keys.yaml'));
    expect(await loaded(gateway, before, 'change')).toMatchObject({ keys: 3 });
    expect(await statusOf(gateway, '/prio/echo', keys.partner)).toBe(200);
    expect(await statusOf(gateway, '/prio/echo', keys.newer)).toBe(401);
  });

  it('keeps the current keys when the file does not parse, does not validate or is gone, says so once each time, and recovers with a good file', async () => {
    const replaceWith = (text: string) => {
      writeFileSync(join(dir, '.next'), text);
      renameSync(join(dir, '.next'), join(dir, 'keys.yaml'));
    };
    const attempts: Array<[string, () => void]> = [
      ['does not parse', () => replaceWith(`keys:\n  - name: broken\n    key: "${keys.later}\n`)],
      ['does not validate', () => replaceWith(`${FIRST}  - { name: partner-a, key: ${keys.later}, providers: [nope] }\n`)],
      ['is gone', () => rmSync(join(dir, 'keys.yaml'))],
    ];
    for (const [what, act] of attempts) {
      const before = Date.now();
      act();
      const line = await notReloaded(gateway, before);
      expect({ what, level: line.level, keys: line.keys }).toEqual({ what, level: 50, keys: 3 });
      expect(await metric(gateway.url, 'gateway_keys_reload_failed')).toBe(1);
      expect(await statusOf(gateway, '/prio/echo', keys.partner)).toBe(200);
      expect(await statusOf(gateway, '/prio/echo', keys.later)).toBe(401);
    }
    const before = Date.now();
    replaceWith(FIRST);
    expect(await loaded(gateway, before, 'change')).toMatchObject({ keys: 3 });
    expect(await metric(gateway.url, 'gateway_keys_reload_failed')).toBe(0);
    expect(await metric(gateway.url, 'gateway_keys_loaded')).toBe(3);
    // One error line per bad file, however many file-system events each change made.
    expect(gateway.logs().filter((l) => l.msg === 'API keys not reloaded: the current keys stay in use')).toHaveLength(3);
    // Every file was parsed in a parser thread, off the event loop.
    expect(gateway.logs().filter((l) => String(l.msg).includes('no parser thread'))).toEqual([]);
  }, 90_000);

  it('never writes a key or a digest anywhere: logs, /metrics, /tokens', async () => {
    const secrets = apiKeysIn(Object.values(keys).join(','));
    const seen = [
      gateway.output(),
      await (await call(gateway, '/metrics')).text(),
      await (await call(gateway, '/tokens', keys.ops)).text(),
    ];
    expectNoSecretIn(seen.join('\n'), secrets);
  });
});

describe('a keys file that is bad at start-up', () => {
  it('stops the process before it listens: exit 1, one line per problem naming the entry, never a key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keys-bad-'));
    const emulators = await startProviderEmulators();
    try {
      const file = join(dir, 'keys.yaml');
      writeFileSync(
        file,
        `keys:\n  - { name: partner-a, key: ${keys.partner}, providers: [prio, nope] }\n  - { name: ops, key: ${keys.partner}, providers: "*" }\n`,
      );
      const { GATEWAY_API_KEYS: _, ...env } = emulatorEnv(emulators);
      const bad = await runGatewayToExit({ ...env, GATEWAY_API_KEYS_FILE: file });
      expect(bad.code).toBe(1);
      expect(bad.output).toBe(
        [
          'Invalid configuration:',
          '  GATEWAY_API_KEYS_FILE: entry 1 (partner-a): providers: item 2 is not a built-in or OAUTH_PROVIDERS name (or use providers: "*")',
          '  GATEWAY_API_KEYS_FILE: entry 2 (ops): key: the same key as entry 1 (partner-a)',
          '',
        ].join('\n'),
      );
      const both = await runGatewayToExit({ ...env, GATEWAY_API_KEYS_FILE: file, GATEWAY_API_KEYS: keys.ops });
      expect(both).toEqual({
        code: 1,
        output: 'Invalid configuration:\n  GATEWAY_API_KEYS_FILE: cannot be combined with GATEWAY_API_KEYS (keep one source of keys)\n',
      });
    } finally {
      await emulators.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('SIGHUP without a keys file', () => {
  it('is logged and ignored: the process keeps serving, and stops normally', async () => {
    const emulators = await startProviderEmulators();
    try {
      const gateway = await GatewayProcess.start({ ...emulatorEnv(emulators), LOG_LEVEL: 'info' });
      const before = Date.now();
      gateway.child.kill('SIGHUP');
      await gateway.waitForLog(
        (l) => l.msg === 'SIGHUP ignored: no GATEWAY_API_KEYS_FILE to reload' && (l.time as number) >= before,
        'SIGHUP ignored',
      );
      expect(await statusOf(gateway, '/prio/echo', KEY_ALL)).toBe(200);
      expect(await gateway.stop()).toBe(0);
    } finally {
      await emulators.close();
    }
  }, 60_000);
});
