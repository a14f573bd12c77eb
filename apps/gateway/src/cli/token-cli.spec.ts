import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startProviderEmulators, type ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { LogCapture } from '../../../../test/support/gateway-harness.js';
import { createGateway } from '../gateway.factory.js';
import { runTokenCli } from './token-cli.js';

const redisUrl = process.env.TEST_REDIS_URL;

let emulators: ProviderEmulators;
beforeAll(async () => {
  emulators = await startProviderEmulators();
});
afterAll(() => emulators.close());

function env(overrides: Record<string, string> = {}) {
  const c = emulators.credentials;
  return {
    SANDBOX: 'false',
    LATAM_TOKEN_URL: emulators.tokenUrl('latam'),
    LATAM_API_URL: emulators.apiUrl('latam'),
    LATAM_CLIENT_ID: c.latam.clientId,
    LATAM_CLIENT_SECRET: c.latam.clientSecret,
    PRIO_TOKEN_URL: emulators.tokenUrl('prio'),
    PRIO_API_URL: emulators.apiUrl('prio'),
    PRIO_CLIENT_ID: c.prio.clientId,
    PRIO_CLIENT_SECRET: c.prio.clientSecret,
    ...overrides,
  };
}

async function run(argv: string[], environment = env()) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runTokenCli(argv, environment, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('token CLI', () => {
  describe('status (regression: it fetched a token per provider)', () => {
    const KEY = 'k-cli-status-5d1e9a';

    it("prints the running gateway's view of each provider and asks no token endpoint", async () => {
      emulators.reset();
      const gatewayEnv = env({ GATEWAY_API_KEYS: KEY, TOKEN_WARM_ON_START: 'false' });
      const gateway = await createGateway(gatewayEnv, { port: 0, host: '127.0.0.1', logDestination: new LogCapture() });
      try {
        expect((await fetch(`${gateway.url}/prio/hello`, { headers: { 'x-api-key': KEY } })).status).toBe(200);
        expect(emulators.tokenRequests('prio')).toHaveLength(1);
        const { code, out, err } = await run(['status', '--gateway', gateway.url], gatewayEnv);
        expect(err).toEqual([]);
        expect(code).toBe(0);
        expect(out[0]).toMatch(/^provider\s+state\s+expires\s+details$/);
        expect(out.slice(1).map((l) => l.split(/\s+/).slice(0, 2))).toEqual([
          ['latam', 'empty'],
          ['prio', 'valid'],
        ]);
        expect(emulators.tokenRequests('prio')).toHaveLength(1);
        expect(emulators.tokenRequests('latam')).toHaveLength(0);
        expect(out.join('\n')).not.toContain(KEY);
        for (const secret of [emulators.credentials.latam.clientSecret, emulators.credentials.prio.clientSecret]) {
          expect(out.join('\n')).not.toContain(secret);
        }
      } finally {
        await gateway.close();
      }
    });

    it('says in one line when no gateway answers, exit 1', async () => {
      const { code, out, err } = await run(['status', '--gateway', 'http://127.0.0.1:9'], env({ GATEWAY_API_KEYS: KEY }));
      expect(code).toBe(1);
      expect(out).toEqual([]);
      expect(err).toEqual(['status: no gateway answered at http://127.0.0.1:9 (start one, or point at it with --gateway URL)']);
    });

    it('needs a key allowed * to ask', async () => {
      const { code, err } = await run(['status'], env({ GATEWAY_API_KEYS: `${KEY}:prio` }));
      expect(code).toBe(1);
      expect(err).toEqual([expect.stringMatching(/needs a key allowed \*: in GATEWAY_API_KEY, or in plain text in GATEWAY_API_KEYS/)]);
    });

    it('presents GATEWAY_API_KEY when the configured keys are digests only', async () => {
      emulators.reset();
      const digest = createHash('sha256').update(KEY).digest('hex');
      const gatewayEnv = env({ GATEWAY_API_KEYS: `sha256:${digest}:*`, TOKEN_WARM_ON_START: 'false' });
      const gateway = await createGateway(gatewayEnv, { port: 0, host: '127.0.0.1', logDestination: new LogCapture() });
      try {
        const withoutKey = await run(['status', '--gateway', gateway.url], gatewayEnv);
        expect(withoutKey.code).toBe(1);
        const { code, out } = await run(
          ['status', '--gateway', gateway.url],
          env({ GATEWAY_API_KEYS: `sha256:${digest}:*`, GATEWAY_API_KEY: KEY }),
        );
        expect(code).toBe(0);
        expect(out[0]).toMatch(/^provider\s+state/);
      } finally {
        await gateway.close();
      }
    });
  });

  it('token prints exactly a token the provider API accepts', async () => {
    const { code, out, err } = await run(['token', 'prio']);
    expect(code).toBe(0);
    expect(out).toHaveLength(1);
    expect(err.join('\n')).toMatch(/prio: valid until \d{4}-/);
    const res = await fetch(`${emulators.apiUrl('prio')}/echo`, { headers: { authorization: `Bearer ${out[0]}` } });
    expect(res.status).toBe(200);
  });

  it("header prints LATAM's own headers (client_id + access_token, no Authorization)", async () => {
    const { code, out } = await run(['header', 'latam']);
    expect(code).toBe(0);
    const headers = Object.fromEntries(out.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
    expect(Object.keys(headers).sort()).toEqual(['access_token', 'client_id']);
    const res = await fetch(`${emulators.apiUrl('latam')}/echo`, { headers });
    expect(res.status).toBe(200);
  });

  it('--force renews instead of reusing, with one token request', async () => {
    emulators.reset();
    await run(['token', 'prio', '--force']);
    expect(emulators.tokenRequests('prio')).toHaveLength(1);
  });

  (redisUrl ? describe : describe.skip)('with a shared store (Redis)', () => {
    it('reuses the token the gateways share, and --force replaces it (regression: --force returned the shared token)', async () => {
      emulators.reset();
      const shared = env({ REDIS_URL: redisUrl!, TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64') });
      const first = await run(['token', 'prio'], shared);
      const second = await run(['token', 'prio'], shared);
      expect(second.out).toEqual(first.out);
      expect(emulators.tokenRequests('prio')).toHaveLength(1);

      const forced = await run(['token', 'prio', '--force'], shared);
      expect(forced.code).toBe(0);
      expect(forced.out).toHaveLength(1);
      expect(forced.out).not.toEqual(first.out);
      expect(emulators.tokenRequests('prio')).toHaveLength(2);
      // The renewed token is the shared one now.
      expect((await run(['token', 'prio'], shared)).out).toEqual(forced.out);
      expect(emulators.tokenRequests('prio')).toHaveLength(2);
    });
  });

  it('reports a rejected secret with the provider message and exit 1, never the secret', async () => {
    const { code, out, err } = await run(['token', 'latam'], env({ LATAM_CLIENT_SECRET: 'not-the-secret:%+/=' }));
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err.join('\n')).toContain('Invalid secret in Authorization header');
    expect(err.join('\n')).not.toContain('not-the-secret');
  });

  it('names an unknown provider', async () => {
    const { code, err } = await run(['token', 'nope']);
    expect(code).toBe(1);
    expect(err.join('\n')).toContain('"nope"');
  });

  it('refuses a bad configuration with one line per problem and no secret value', async () => {
    const { code, err } = await run(
      ['status'],
      env({ PRIO_CLIENT_SECRET: '', TOKEN_REFRESH_SKEW_SECONDS: 'abc', LATAM_CLIENT_SECRET: 'hunter2-secret' }),
    );
    expect(code).toBe(1);
    expect(err[0]).toBe('Invalid configuration:');
    expect(err.join('\n')).toMatch(/TOKEN_REFRESH_SKEW_SECONDS/);
    expect(err.join('\n')).toMatch(/PRIO_CLIENT_SECRET/);
    expect(err.join('\n')).not.toContain('hunter2-secret');
  });

  it('prints usage on stderr with exit 2 for a missing or unknown command, nothing on stdout', async () => {
    for (const argv of [
      [],
      ['steal', 'prio'],
      ['token'],
      ['token', 'prio', 'extra'],
      ['status', 'prio'],
      ['token', 'prio', '--verbose'],
      ['status', '--gateway'],
    ]) {
      const { code, out, err } = await run(argv);
      expect({ argv, code, out }).toEqual({ argv, code: 2, out: [] });
      expect(err.join('\n')).toMatch(/^Usage: npm run -s token -- <command>/);
    }
  });

  it('prints usage on stdout with exit 0 when asked for it', async () => {
    const { code, out, err } = await run(['--help']);
    expect(code).toBe(0);
    expect(err).toEqual([]);
    expect(out.join('\n')).toMatch(/^Usage: npm run -s token/);
  });
});
