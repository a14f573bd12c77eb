import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startProviderEmulators, type ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { runTokenCli } from './token-cli.js';

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
  it('status lists every configured provider as valid, without token values', async () => {
    emulators.reset();
    const { code, out } = await run(['status']);
    expect(code).toBe(0);
    expect(out[0]).toMatch(/^provider\s+state\s+expires/);
    expect(out.slice(1).map((l) => l.split(/\s+/).slice(0, 2))).toEqual([
      ['latam', 'valid'],
      ['prio', 'valid'],
    ]);
    for (const secret of [emulators.credentials.latam.clientSecret, emulators.credentials.prio.clientSecret]) {
      expect(out.join('\n')).not.toContain(secret);
    }
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

  it('--force renews instead of reusing', async () => {
    emulators.reset();
    await run(['token', 'prio', '--force']);
    expect(emulators.tokenRequests('prio')).toHaveLength(1);
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
    const { code, err } = await run(['status'], env({ PRIO_CLIENT_SECRET: '', TOKEN_REFRESH_SKEW_SECONDS: 'abc', LATAM_CLIENT_SECRET: 'hunter2-secret' }));
    expect(code).toBe(1);
    expect(err[0]).toBe('Invalid configuration:');
    expect(err.join('\n')).toMatch(/TOKEN_REFRESH_SKEW_SECONDS/);
    expect(err.join('\n')).toMatch(/PRIO_CLIENT_SECRET/);
    expect(err.join('\n')).not.toContain('hunter2-secret');
  });

  it('prints usage with exit 2 for an unknown command', async () => {
    const { code, err } = await run(['steal', 'prio']);
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(/Usage: npm run token/);
  });
});
