import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { startProviderEmulators, type ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { expectNoSecretIn } from '../support/gateway-harness.js';
import { GatewayProcess, runGatewayToExit } from '../support/gateway-process.js';

const PRIO_US = { clientId: 'prio-distributor.us', clientSecret: 'us:pr%41io+/=' };
const SABRE_APAC = { clientId: 'V1-apac-app', clientSecret: 'apac:S%41+b/=', username: 'pcc-apac', password: 'apac:12%34+/=' };
const KEY_ALL = 'k-all-accounts-5d1f9a';
const KEY_EU = 'k-prio-eu-only-3c7b20';
const KEY_APAC = 'k-sabre-apac-only-8e4a61';
const redisUrl = process.env.TEST_REDIS_URL;

/**
 * Two Prio and two Sabre accounts in one gateway process, each a name of `OAUTH_PROVIDERS` with
 * its `_TYPE`, against one emulator process that holds both accounts of each partner; plus a name
 * given one account's client id and the other's secret, which only that name pays for.
 */
describe('several accounts of one partner, side by side (real gateway process)', () => {
  let emulators: ProviderEmulators;
  let gateway: GatewayProcess;
  let secrets: string[];
  let keysBefore = new Set<string>();

  beforeAll(async () => {
    emulators = await startProviderEmulators({ credentials: { prio: [{}, PRIO_US], sabre: [{}, SABRE_APAC] } });
    const [prioEu, sabreEmea] = [emulators.credentials.prio, emulators.credentials.sabre];
    const account = (prefix: string, type: 'prio' | 'sabre', values: Record<string, string>) => ({
      [`${prefix}_TYPE`]: type,
      [`${prefix}_TOKEN_URL`]: emulators.tokenUrl(type),
      [`${prefix}_API_URL`]: emulators.apiUrl(type),
      ...Object.fromEntries(Object.entries(values).map(([k, v]) => [`${prefix}_${k.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`, v])),
    });
    const env: Record<string, string> = {
      OAUTH_PROVIDERS: 'prio-eu,prio-us,sabre-emea,sabre-apac,prio-mixed',
      ...account('PRIO_EU', 'prio', prioEu),
      ...account('PRIO_US', 'prio', PRIO_US),
      ...account('SABRE_EMEA', 'sabre', sabreEmea),
      ...account('SABRE_APAC', 'sabre', SABRE_APAC),
      ...account('PRIO_MIXED', 'prio', { clientId: PRIO_US.clientId, clientSecret: prioEu.clientSecret }),
      GATEWAY_API_KEYS: `${KEY_ALL}:*,${KEY_EU}:prio-eu,${KEY_APAC}:sabre-apac`,
      SANDBOX: 'false',
      TOKEN_WARM_ON_START: 'false',
      TOKEN_MIN_INTERVAL_MS: '0',
      ...(redisUrl && { REDIS_URL: redisUrl, TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex') }),
    };
    secrets = [prioEu.clientSecret, PRIO_US.clientSecret, sabreEmea.clientSecret, sabreEmea.password, SABRE_APAC.clientSecret];
    secrets.push(SABRE_APAC.password, KEY_ALL, KEY_EU, KEY_APAC);
    if (redisUrl) {
      const redis = new Redis(redisUrl);
      keysBefore = new Set(await redis.keys('oauth:{*}:*').finally(() => redis.disconnect()));
    }
    gateway = await GatewayProcess.start(env, { oauth: { retry: { maxAttempts: 1, baseDelayMs: 5, maxDelayMs: 5, maxTotalMs: 100 } } });
  }, 90_000);

  afterAll(async () => {
    await gateway?.stop();
    await emulators?.close();
  });

  const get = (path: string, key = KEY_ALL) => fetch(`${gateway.url}${path}`, { headers: { 'x-api-key': key } });
  /** The token the emulated API received through `/<name>/echo`. */
  const tokenSentBy = async (name: string) => {
    const answer = await get(`/${name}/echo`);
    expect(answer.status).toBe(200);
    const { headers } = (await answer.json()) as { headers: Record<string, string> };
    return headers.authorization.replace(/^Bearer /, '');
  };

  it('gives each name its own token, issued to its own account', async () => {
    const tokens = {
      'prio-eu': await tokenSentBy('prio-eu'),
      'prio-us': await tokenSentBy('prio-us'),
      'sabre-emea': await tokenSentBy('sabre-emea'),
      'sabre-apac': await tokenSentBy('sabre-apac'),
    };
    expect(new Set(Object.values(tokens)).size).toBe(4);
    expect(emulators.tokenOwner('prio', tokens['prio-eu'])).toEqual(emulators.credentials.prio);
    expect(emulators.tokenOwner('prio', tokens['prio-us'])).toEqual(PRIO_US);
    expect(emulators.tokenOwner('sabre', tokens['sabre-emea'])).toEqual(emulators.credentials.sabre);
    expect(emulators.tokenOwner('sabre', tokens['sabre-apac'])).toEqual(SABRE_APAC);
    // Cached per name: asking again sends the same token, without another token request.
    const requests = emulators.tokenRequests('prio').length;
    expect(await tokenSentBy('prio-us')).toBe(tokens['prio-us']);
    expect(emulators.tokenRequests('prio').length).toBe(requests);
  });

  it("refuses a key restricted to one account on the other's route", async () => {
    expect((await get('/prio-eu/products', KEY_EU)).status).toBe(200);
    const refused = await get('/prio-us/products', KEY_EU);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'forbidden' });
    expect((await get('/sabre-apac/echo', KEY_APAC)).status).toBe(200);
    expect((await get('/sabre-emea/echo', KEY_APAC)).status).toBe(403);
    expect((await get('/prio-eu/products', KEY_APAC)).status).toBe(403);
  });

  it("keeps a refused account's failure to itself: the other accounts keep their tokens", async () => {
    const refused = await get('/prio-mixed/products');
    expect(refused.status).toBe(502);
    expect(await refused.json()).toMatchObject({ code: 'token_rejected', provider: 'prio-mixed' });
    expect((await get('/prio-eu/products')).status).toBe(200);
    expect((await get('/prio-us/products')).status).toBe(200);
  });

  it('shows one /tokens row per name', async () => {
    const { providers } = (await (await get('/tokens')).json()) as { providers: Array<{ provider: string; state: string }> };
    const states = Object.fromEntries(providers.map((p) => [p.provider, p.state]));
    expect(states).toMatchObject({ 'prio-eu': 'valid', 'prio-us': 'valid', 'sabre-emea': 'valid', 'sabre-apac': 'valid' });
    expect(states['prio-mixed']).not.toBe('valid');
    expect(Object.keys(states).sort()).toEqual(['prio-eu', 'prio-mixed', 'prio-us', 'sabre-apac', 'sabre-emea']);
  });

  it('labels the metrics with each name', async () => {
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    for (const name of ['prio-eu', 'prio-us', 'sabre-emea', 'sabre-apac']) {
      expect(text).toMatch(new RegExp(`^gateway_token_requests_total\\{provider="${name}",outcome="success"\\} [1-9]`, 'm'));
      expect(text).toMatch(new RegExp(`^gateway_proxied_requests_total\\{provider="${name}",[^}]*status_class="2xx"\\} [1-9]`, 'm'));
    }
    expect(text).toMatch(/^gateway_token_requests_total\{provider="prio-mixed",outcome="rejected"\} [1-9]/m);
  });

  (redisUrl ? it : it.skip)('shares each name’s token under a Redis key of its own', async () => {
    const redis = new Redis(redisUrl!);
    try {
      for (const name of ['prio-eu', 'prio-us', 'sabre-emea', 'sabre-apac']) {
        // Earlier runs' keys (other emulator ports, so other identities) may still be there: only this run's count.
        const keys = await redis.keys(`oauth:{${name}}:*`);
        expect(keys.filter((key) => !keysBefore.has(key))).toHaveLength(1);
      }
    } finally {
      redis.disconnect();
    }
  });

  it('never writes a secret to its output', () => {
    expectNoSecretIn(gateway.output(), secrets);
  });
});

describe('a bad <NAME>_TYPE (real gateway process)', () => {
  it('exits 1 with one line naming the variable and the types, nothing else about that name, no secret', async () => {
    const { code, output } = await runGatewayToExit({
      OAUTH_PROVIDERS: 'sabre-apac',
      SABRE_APAC_TYPE: 'sabre-v2',
      SABRE_APAC_CLIENT_SECRET: 'apac-secret-value-9',
      SANDBOX: 'false',
    });
    expect(code).toBe(1);
    expect(output).toContain('Invalid configuration:\n  SABRE_APAC_TYPE: must be one of latam, transatel, payme, prio, sabre, oauth2\n');
    expect(output).not.toMatch(/SABRE_APAC_(?!TYPE)|apac-secret-value-9/);
  });
});
