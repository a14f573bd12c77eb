import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createGateway } from '../../apps/gateway/src/gateway.factory.js';
import { runGateway } from '../../apps/gateway/src/gateway.runner.js';
import { KEY_ALL, LogCapture, expectNoSecretIn, problemOf, send } from '../support/gateway-harness.js';
import { holdPort, type HeldPort } from '../support/helpers.js';

/** A runner whose exit and stderr are recorded instead of acted on. */
function fakeIo() {
  const io = { lines: [] as string[], exitCodes: [] as number[] };
  return { io, runnerIo: { exit: (code: number) => void io.exitCodes.push(code), error: (line: string) => void io.lines.push(line) } };
}

describe('start-up', () => {
  it('exits 1 on a bad configuration, one line per problem naming the variable, no secret, nothing listening', async () => {
    const { io, runnerIo } = fakeIo();
    const gateway = await runGateway(
      { PORT: 'eighty', SABRE_CLIENT_SECRET: 'sabre-secret-xyz', GATEWAY_API_KEYS: 'key-secret-abc:nope', SANDBOX: 'false' },
      runnerIo,
    );
    expect(gateway).toBeUndefined();
    expect(io.exitCodes).toEqual([1]);
    expect(io.lines[0]).toBe('Invalid configuration:');
    expect(io.lines.slice(1)).toEqual([
      '  PORT: must be a whole number between 0 and 65535',
      expect.stringMatching(/^ {2}SABRE_TOKEN_URL: missing/),
      expect.stringMatching(/^ {2}SABRE_API_URL: missing/),
      expect.stringMatching(/^ {2}SABRE_CLIENT_ID: missing/),
      expect.stringMatching(/^ {2}SABRE_USERNAME: missing/),
      expect.stringMatching(/^ {2}SABRE_PASSWORD: missing/),
      '  GATEWAY_API_KEYS: entry 1: providers must be * or built-in / OAUTH_PROVIDERS names joined by |',
    ]);
    expect(io.lines.join('\n')).not.toMatch(/sabre-secret-xyz|key-secret-abc/);
  });

  describe('when the port is taken', () => {
    let held: HeldPort;
    beforeAll(async () => (held = await holdPort()));
    afterAll(() => held.close());

    it('exits 1 with one line saying why', async () => {
      const { io, runnerIo } = fakeIo();
      const provider = {
        PRIO_TOKEN_URL: 'http://127.0.0.1:9/token',
        PRIO_API_URL: 'http://127.0.0.1:9/api',
        PRIO_CLIENT_ID: 'p',
        PRIO_CLIENT_SECRET: 's',
      };
      const env = {
        ...provider,
        PORT: String(held.port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'fatal',
        GATEWAY_API_KEYS: KEY_ALL,
        TOKEN_WARM_ON_START: 'false',
      };
      expect(await runGateway(env, runnerIo)).toBeUndefined();
      expect(io.exitCodes).toEqual([1]);
      expect(io.lines).toEqual([
        `The gateway could not start: 127.0.0.1:${held.port} is already in use (set PORT, or HOST, to a free one)`,
      ]);
    });

    it('regression: at LOG_LEVEL=info, in sandbox mode, that one line is all it prints (no "API keys loaded" before it)', async () => {
      const { io, runnerIo } = fakeIo();
      const logs = new LogCapture();
      const banner: string[] = [];
      const env = { PORT: String(held.port), HOST: '127.0.0.1', LOG_LEVEL: 'info', SANDBOX: 'true', TOKEN_WARM_ON_START: 'false' };
      expect(await runGateway(env, runnerIo, { logDestination: logs, banner: (text) => banner.push(text) })).toBeUndefined();
      expect(io.exitCodes).toEqual([1]);
      expect(io.lines).toEqual([
        `The gateway could not start: 127.0.0.1:${held.port} is already in use (set PORT, or HOST, to a free one)`,
      ]);
      expect(logs.lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual([]);
      expect(banner).toEqual([]);
    });
  });

  it('answers 404 provider_not_configured for a built-in without credentials, and does not start the sandbox when one provider is configured', async () => {
    const logs = new LogCapture();
    const gateway = await createGateway(
      {
        LATAM_TOKEN_URL: 'http://127.0.0.1:9/token',
        LATAM_API_URL: 'http://127.0.0.1:9/api',
        LATAM_CLIENT_ID: 'latam-id',
        LATAM_CLIENT_SECRET: 'latam-secret-123456',
        GATEWAY_API_KEYS: KEY_ALL,
      },
      { port: 0, host: '127.0.0.1', logDestination: logs },
    );
    try {
      expect(gateway.sandbox).toBeUndefined();
      const answer = await send(gateway.url, '/sabre/flights', { headers: { 'x-api-key': KEY_ALL } });
      expect(answer.status).toBe(404);
      expect(problemOf(answer)).toMatchObject({ code: 'provider_not_configured', provider: 'sabre' });
      expect(problemOf(await send(gateway.url, '/nope/x', { headers: { 'x-api-key': KEY_ALL } }))).toMatchObject({
        code: 'unknown_provider',
      });
    } finally {
      await gateway.close();
    }
    expectNoSecretIn(logs.text(), ['latam-secret-123456', KEY_ALL]);
  });

  it('starts the sandbox with no provider configured: a generated key and one working curl per provider', async () => {
    const logs = new LogCapture();
    let banner = '';
    const gateway = await createGateway(
      { LOG_LEVEL: 'debug' },
      { port: 0, host: '127.0.0.1', logDestination: logs, banner: (text) => (banner += text) },
    );
    try {
      expect(gateway.sandbox?.providers).toEqual(['latam', 'transatel', 'payme', 'prio', 'sabre']);
      const key = gateway.sandbox?.devApiKey;
      expect(key).toMatch(/^dev-[\w-]{20,}$/);
      expect(banner).toContain(`Development API key (generated for this run): ${key}`);
      const curls = [...banner.matchAll(/curl -H 'x-api-key: ([^']+)' '([^']+)'/g)];
      expect(curls.map(([, , url]) => new URL(url).pathname.split('/')[1])).toEqual(['latam', 'transatel', 'payme', 'prio', 'sabre']);
      for (const [, apiKey, url] of curls) {
        const res = await fetch(url, { headers: { 'x-api-key': apiKey } });
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ method: 'GET', query: 'from=sandbox' });
      }
      expectNoSecretIn(logs.text(), [
        key!,
        ...(Object.values(gateway.sandbox!.emulators.credentials) as Array<{ clientSecret: string }>).map((c) => c.clientSecret),
      ]);
    } finally {
      await gateway.close();
    }
  });

  it('keeps GATEWAY_API_KEYS in sandbox mode instead of generating a key', async () => {
    let banner = '';
    const gateway = await createGateway(
      { SANDBOX: 'true', GATEWAY_API_KEYS: KEY_ALL, LOG_LEVEL: 'error' },
      { port: 0, host: '127.0.0.1', logDestination: new LogCapture(), banner: (text) => (banner += text) },
    );
    try {
      expect(gateway.sandbox?.devApiKey).toBeUndefined();
      expect(banner).not.toContain('Development API key');
      expect((await send(gateway.url, '/prio/products', { headers: { 'x-api-key': KEY_ALL } })).status).toBe(200);
    } finally {
      await gateway.close();
    }
  });
});
