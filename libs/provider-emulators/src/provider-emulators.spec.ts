import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { DEFAULT_EMULATOR_CREDENTIALS as C, startProviderEmulators } from './index.js';
import type { EmulatedEndpoint, ProviderEmulators } from './index.js';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`, 'utf8').toString('base64')}`;
/** What generic RFC 6749 §2.3.1 clients send: both parts form-urlencoded first. */
const formBasic = (id: string, secret: string) =>
  basic(new URLSearchParams({ x: id }).toString().slice(2), new URLSearchParams({ x: secret }).toString().slice(2));
const FORM = 'application/x-www-form-urlencoded';

/** The fields the emulators' JSON answers hold, all providers together: each test asserts the ones its provider sends. */
interface AnswerJson {
  [field: string]: unknown;
  access_token: string;
  expires_in: number;
  refresh_token?: string;
  error: string;
  error_description: string;
  error_reference: string;
  errorCode: string;
  success: boolean;
  result: string;
  errors: Array<{ type: string; message: string }>;
  authorization: { meta: { status: unknown } };
  headers: Record<string, string>;
  data: { items: unknown[] };
}

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** Undefined at run time when the body is not JSON (the tests of such answers read `text`). */
  json: AnswerJson;
}

async function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  const res = await fetch(url, { method: init.method ?? 'POST', headers: init.headers, body: init.body });
  const text = await res.text();
  let json: AnswerJson | undefined;
  try {
    json = JSON.parse(text) as AnswerJson;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json: json! };
}

let clock = 1_700_000_000_000;
let emu: ProviderEmulators;

beforeAll(async () => {
  emu = await startProviderEmulators({ now: () => clock });
});
afterAll(() => emu.close());
afterEach(() => emu.reset());

const latamToken = (headers: Record<string, string> = {}, body = 'grant_type=client_credentials') =>
  call(emu.tokenUrl('latam'), {
    headers: {
      authorization: basic(C.latam.clientId, C.latam.clientSecret),
      client_id: C.latam.clientId,
      'content-type': FORM,
      ...headers,
    },
    body,
  });
const transatelToken = (headers: Record<string, string> = {}, body = 'grant_type=client_credentials') =>
  call(emu.tokenUrl('transatel'), {
    headers: { authorization: basic(C.transatel.clientId, C.transatel.clientSecret), 'content-type': FORM, ...headers },
    body,
  });
const paymeBody = (fields: Record<string, unknown> = {}) =>
  JSON.stringify({
    action: 'authorize',
    grant_type: 'password',
    client_id: C.payme.clientId,
    client_secret: C.payme.clientSecret,
    audience: C.payme.audience,
    username: C.payme.username,
    password: C.payme.password,
    scope: 'create:token post:charges offline_access',
    ...fields,
  });
const paymeToken = (fields: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  call(emu.tokenUrl('payme'), {
    headers: { 'content-type': 'application/json', 'alg-api-version': '1618440906', ...headers },
    body: paymeBody(fields),
  });
const prioToken = (headers: Record<string, string> = {}, body = '{"grant_type":"client_credentials"}') =>
  call(emu.tokenUrl('prio'), {
    headers: {
      authorization: basic(C.prio.clientId, C.prio.clientSecret),
      'content-type': 'application/json',
      accept: 'application/json',
      ...headers,
    },
    body,
  });
const sabreForm = `grant_type=password&${new URLSearchParams({ username: C.sabre.username, password: C.sabre.password }).toString()}`;
const sabreToken = (headers: Record<string, string> = {}, body = sabreForm) =>
  call(emu.tokenUrl('sabre'), {
    headers: { authorization: basic(C.sabre.clientId, C.sabre.clientSecret), 'content-type': FORM, ...headers },
    body,
  });
const oauth2Token = (headers: Record<string, string> = {}, body = 'grant_type=client_credentials') =>
  call(emu.tokenUrl('oauth2'), {
    headers: { authorization: formBasic(C.oauth2.clientId, C.oauth2.clientSecret), 'content-type': FORM, ...headers },
    body,
  });

describe('provider emulators: token endpoints', () => {
  it('serves each token endpoint at the documented path', () => {
    expect(emu.tokenUrl('latam')).toBe(`${emu.url}/latam/oauth/access-token`);
    expect(emu.tokenUrl('transatel')).toBe(`${emu.url}/transatel/authentication/api/token`);
    expect(emu.tokenUrl('payme')).toBe(`${emu.url}/payme/token`);
    expect(emu.tokenUrl('prio')).toBe(`${emu.url}/prio/v3.8/distributor/oauth2/token`);
    expect(emu.tokenUrl('sabre')).toBe(`${emu.url}/sabre/v3/auth/token`);
    expect(emu.tokenUrl('oauth2')).toBe(`${emu.url}/oauth2/token`);
    expect(emu.apiUrl('prio')).toBe(`${emu.url}/prio/api`);
    expect(emu.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('uses secrets that form-encoding would change, and ids like ocs-subscription', () => {
    expect(C.transatel.clientId).toBe('ocs-subscription');
    for (const { clientSecret } of Object.values(C)) {
      for (const ch of [':', '%', '+', '/', '=']) expect(clientSecret).toContain(ch);
    }
  });

  describe('latam', () => {
    it('issues an opaque token with + / = and expires_in 3600, without token_type', async () => {
      const r = await latamToken();
      expect(r.status).toBe(200);
      expect(Object.keys(r.json).sort()).toEqual(['access_token', 'expires_in']);
      expect(r.json.expires_in).toBe(3600);
      expect(r.json.access_token).toMatch(/\+.*\/.*=/);
    });

    it('rejects form-encoded Basic credentials with 400 "Invalid secret in Authorization header"', async () => {
      const r = await latamToken({ authorization: formBasic(C.latam.clientId, C.latam.clientSecret) });
      expect(r.status).toBe(400);
      expect(r.json).toEqual({
        result: 'failure',
        errors: [{ type: 'INVALID', message: 'Invalid secret in Authorization header' }],
        status: 400,
      });
    });

    it('requires the client_id header on the token call', async () => {
      const r = await call(emu.tokenUrl('latam'), {
        headers: { authorization: basic(C.latam.clientId, C.latam.clientSecret), 'content-type': FORM },
        body: 'grant_type=client_credentials',
      });
      expect(r.status).toBe(400);
      expect(r.json.errors[0].message).toBe('Invalid client_id in Authorization header');
    });

    it('answers 400 "Invalid grant_type format" to a wrong grant or a non-form content type', async () => {
      for (const r of [await latamToken({}, 'grant_type=password'), await latamToken({ 'content-type': 'application/json' })]) {
        expect(r.status).toBe(400);
        expect(r.json.errors[0]).toEqual({ type: 'INVALID', message: 'Invalid grant_type format' });
      }
    });
  });

  describe('transatel', () => {
    it('issues a bearer token with expires_in 3600 and the granted scope, not cacheable', async () => {
      const r = await transatelToken();
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ token_type: 'bearer', expires_in: 3600, scope: expect.stringContaining('USER_READ') });
      expect(r.headers.get('cache-control')).toBe('no-store');
    });

    it('answers 400 invalid_request "Missing credentials" without Basic', async () => {
      const r = await call(emu.tokenUrl('transatel'), { headers: { 'content-type': FORM }, body: 'grant_type=client_credentials' });
      expect(r.status).toBe(400);
      expect(r.json).toEqual({ error: 'invalid_request', error_description: 'Missing credentials' });
    });

    it('answers 401 invalid_client to form-encoded Basic (ocs-subscription, secret with %/+=)', async () => {
      const r = await transatelToken({ authorization: formBasic(C.transatel.clientId, C.transatel.clientSecret) });
      expect(r.status).toBe(401);
      expect(r.json).toEqual({ error: 'invalid_client', error_description: 'Client authentication failed' });
    });

    it('refuses an unknown scope with 400 invalid_scope', async () => {
      const r = await transatelToken({}, 'grant_type=client_credentials&scope=ADMIN');
      expect(r.status).toBe(400);
      expect(r.json.error).toBe('invalid_scope');
    });
  });

  describe('payme', () => {
    it('answers the full success envelope with a refresh_token when offline_access is asked for', async () => {
      const r = await paymeToken();
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({
        action: 'authorize',
        success: true,
        scope: 'create:token post:charges offline_access',
        refresh_token: expect.any(String),
        expires_in: 86400,
        token_type: 'Bearer',
        authorization: { meta: { status: { code: '00', message_ilgn: [{ locale: 'es_PE', value: 'Access Token creado' }] } } },
      });
    });

    it('issues no refresh_token without offline_access', async () => {
      const r = await paymeToken({ scope: 'create:token post:charges' });
      expect(r.status).toBe(200);
      expect(r.json).not.toHaveProperty('refresh_token');
    });

    it('accepts the client_credentials grant without username/password', async () => {
      const r = await paymeToken({ grant_type: 'client_credentials', username: undefined, password: undefined });
      expect(r.json.success).toBe(true);
    });

    it('renews with the refresh grant, keeps the refresh token, and refuses revoked refresh tokens', async () => {
      const first = await paymeToken();
      const renewed = await paymeToken({
        grant_type: 'refresh_token',
        refresh_token: first.json.refresh_token,
        username: undefined,
        password: undefined,
      });
      expect(renewed.json.success).toBe(true);
      expect(renewed.json).not.toHaveProperty('refresh_token');
      emu.revokeRefreshTokens('payme');
      const refused = await paymeToken({ grant_type: 'refresh_token', refresh_token: first.json.refresh_token });
      expect(refused.status).toBe(401);
      expect(refused.json).toMatchObject({
        success: false,
        authorization: { meta: { status: { code: '01', message_ilgn: [{ value: 'Invalid refresh token' }] } } },
      });
    });

    it('requires ALG-API-VERSION and a JSON body', async () => {
      const noVersion = await call(emu.tokenUrl('payme'), { headers: { 'content-type': 'application/json' }, body: paymeBody() });
      expect(noVersion.status).toBe(400);
      expect(noVersion.json.success).toBe(false);
      const form = await paymeToken({}, { 'content-type': FORM });
      expect(form.status).toBe(400);
    });

    it('answers success:false code 01 with 401 to wrong credentials', async () => {
      const r = await paymeToken({ password: 'nope' });
      expect(r.status).toBe(401);
      expect(r.json.authorization.meta.status).toEqual({
        code: '01',
        message_ilgn: [{ locale: 'es_PE', value: 'Wrong email or password.' }],
      });
    });
  });

  describe('prio', () => {
    it('issues a Bearer token echoing the requested scope', async () => {
      const r = await prioToken(
        {},
        '{"grant_type":"client_credentials","scope":"https://www.prioticketapis.com/auth/distributor.booking"}',
      );
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({
        token_type: 'Bearer',
        expires_in: 3600,
        scope: 'https://www.prioticketapis.com/auth/distributor.booking',
      });
    });

    it('answers 406 with an error_reference unless Accept names application/json', async () => {
      const r = await prioToken({ accept: '*/*' });
      expect(r.status).toBe(406);
      expect(r.json).toMatchObject({
        error: 'NOT_ACCEPTABLE',
        error_reference: expect.any(String),
        error_message: expect.any(String),
        errors: [],
      });
    });

    it('answers 405 with an error_reference to GET', async () => {
      const r = await call(emu.tokenUrl('prio'), { method: 'GET', headers: { accept: 'application/json' } });
      expect(r.status).toBe(405);
      expect(r.json.error).toBe('METHOD_NOT_ALLOWED');
    });

    it('answers OAuth-style 401 invalid_client to form-encoded Basic', async () => {
      const r = await prioToken({ authorization: formBasic(C.prio.clientId, C.prio.clientSecret) });
      expect(r.status).toBe(401);
      expect(r.json).toMatchObject({
        error: 'invalid_client',
        error_description: 'Client authentication failed',
        error_uri: expect.any(String),
      });
      expect(r.headers.get('www-authenticate')).toMatch(/^Basic/);
    });

    it('answers OAuth-style 400 to a form body and 422 to a non-string scope', async () => {
      expect((await prioToken({ 'content-type': FORM }, 'grant_type=client_credentials')).json.error).toBe('invalid_request');
      const r = await prioToken({}, '{"grant_type":"client_credentials","scope":42}');
      expect(r.status).toBe(422);
      expect(r.json.error_reference).toEqual(expect.any(String));
    });
  });

  describe('sabre', () => {
    it('issues a T1RLAQ…** token with expires_in 604800 seconds', async () => {
      const r = await sabreToken();
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ token_type: 'bearer', expires_in: 604800 });
      expect(r.json.access_token).toMatch(/^T1RLAQ.*\*\*$/);
    });

    it.each([
      [
        'a JSON content type',
        { 'content-type': 'application/json' },
        sabreForm,
        'invalid_request',
        'Incorrect Content-Type. Only application/x-www-form-urlencoded is allowed',
      ],
      ['no grant_type', {}, 'username=u&password=p', 'invalid_request', 'Invalid payload: grant_type must be specified'],
      [
        'the client_credentials grant',
        {},
        'grant_type=client_credentials',
        'invalid_request',
        "Invalid grant type. The only supported type is 'password'",
      ],
      ['no Basic', { authorization: 'Bearer x' }, sabreForm, 'invalid_client', 'Credentials are missing or the syntax is not correct'],
      [
        'form-encoded Basic',
        { authorization: formBasic(C.sabre.clientId, C.sabre.clientSecret) },
        sabreForm,
        'invalid_client',
        'Wrong clientID or clientSecret',
      ],
      ['a wrong EPR password', {}, 'grant_type=password&username=x&password=y', 'invalid_client', 'Wrong clientID or clientSecret'],
    ])('answers 401 to %s', async (_what, headers, body, error, description) => {
      const r = await sabreToken(headers, body);
      expect(r.status).toBe(401);
      expect(r.json).toEqual({ error, error_description: description });
    });

    it('answers 401 "HTTP method not allowed" to GET', async () => {
      const r = await call(emu.tokenUrl('sabre'), { method: 'GET' });
      expect(r.status).toBe(401);
      expect(r.json.error_description).toBe('HTTP method not allowed');
    });
  });

  describe('oauth2 (RFC 6749)', () => {
    it('accepts form-encoded Basic per §2.3.1 and echoes the scope', async () => {
      const r = await oauth2Token({}, 'grant_type=client_credentials&scope=read%20write');
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'read write' });
    });

    it('refuses raw Basic when the secret holds % and +', async () => {
      const r = await oauth2Token({ authorization: basic(C.oauth2.clientId, C.oauth2.clientSecret) });
      expect(r.status).toBe(401);
      expect(r.json.error).toBe('invalid_client');
    });

    it('accepts client_secret_post and the password grant, and refuses both methods at once', async () => {
      const post = new URLSearchParams({
        grant_type: 'password',
        client_id: C.oauth2.clientId,
        client_secret: C.oauth2.clientSecret,
        username: C.oauth2.username,
        password: C.oauth2.password,
      });
      const ok = await call(emu.tokenUrl('oauth2'), { headers: { 'content-type': FORM }, body: post.toString() });
      expect(ok.status).toBe(200);
      const both = await oauth2Token({}, post.toString());
      expect(both.status).toBe(400);
      expect(both.json.error).toBe('invalid_request');
    });
  });

  it('records every token request, rejected ones included', async () => {
    await latamToken({ authorization: 'Basic bm9wZQ==' });
    await latamToken();
    const records = emu.tokenRequests('latam');
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({
      method: 'POST',
      path: '/latam/oauth/access-token',
      body: 'grant_type=client_credentials',
      at: clock,
    });
    expect(records[1].headers.client_id).toBe(C.latam.clientId);
    expect(emu.tokenRequests('sabre')).toHaveLength(0);
  });

  it('carries whatever expires_in was set, and omits it when set to undefined', async () => {
    emu.setTokenLifetime('prio', 'abc');
    expect((await prioToken()).json.expires_in).toBe('abc');
    emu.setTokenLifetime('prio', undefined);
    expect((await prioToken()).json).not.toHaveProperty('expires_in');
  });
});

describe('provider emulators: failure modes', () => {
  it("answers an injected 503 in the provider's own format `times` times, then recovers", async () => {
    emu.failTokenEndpoint('prio', { kind: 'status', status: 503, times: 2 });
    const first = await prioToken();
    expect(first.status).toBe(503);
    expect(first.json).toMatchObject({ error: 'SERVICE_UNAVAILABLE', error_reference: expect.any(String) });
    expect((await prioToken()).status).toBe(503);
    expect((await prioToken()).status).toBe(200);
  });

  it('answers 429 with Retry-After until clearFailures', async () => {
    emu.failTokenEndpoint('sabre', { kind: 'rate_limit', retryAfterSeconds: 7 });
    for (let i = 0; i < 3; i++) {
      const r = await sabreToken();
      expect(r.status).toBe(429);
      expect(r.headers.get('retry-after')).toBe('7');
      expect(r.json.errorCode).toBe('ERR.2SG.GATEWAY.REQUEST_THROTTLED');
    }
    emu.clearFailures('sabre');
    expect((await sabreToken()).status).toBe(200);
  });

  it('answers a WAF "Access Denied" HTML page with a Reference #18.…', async () => {
    emu.failTokenEndpoint('latam', { kind: 'waf', times: 1 });
    const r = await latamToken();
    expect(r.status).toBe(403);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    expect(r.text).toContain('Access Denied');
    expect(r.text).toMatch(/Reference #18\.[0-9a-f]+\.\d+\.[0-9a-f]+/);
  });

  it('answers garbage: 200 text/html by default, or exactly what was asked', async () => {
    emu.failTokenEndpoint('transatel', { kind: 'garbage', times: 1 });
    const html = await transatelToken();
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    emu.failTokenEndpoint('transatel', { kind: 'garbage', status: 200, contentType: 'application/json', body: '{"access_tok', times: 1 });
    const truncated = await transatelToken();
    expect(truncated.text).toBe('{"access_tok');
  });

  it('hangs until the client gives up, and close() ends hanging requests', async () => {
    const local = await startProviderEmulators();
    local.failTokenEndpoint('latam', { kind: 'hang' });
    const aborted = fetch(local.tokenUrl('latam'), { method: 'POST', body: 'x', signal: AbortSignal.timeout(100) });
    await expect(aborted).rejects.toThrow();
    const pending = fetch(local.tokenUrl('latam'), { method: 'POST', body: 'x' });
    // The request is recorded before it hangs: wait for that, then close (the aborted one may never have arrived).
    while (local.hangingRequests('latam') < 1) await new Promise((r) => setTimeout(r, 5));
    await local.close();
    await expect(pending).rejects.toThrow();
  });

  it('releases hanging requests with the answer the endpoint gives now: a token, or the failure set since', async () => {
    // Wrapped: an async function returning the pending promise would wait for it.
    const held = async () => {
      const pending = latamToken();
      while (emu.hangingRequests('latam') < 1) await new Promise((r) => setTimeout(r, 5));
      return { pending };
    };
    emu.failTokenEndpoint('latam', { kind: 'hang', times: 1 });
    const one = await held();
    expect(emu.hangingRequests('prio')).toBe(0);
    emu.releaseHanging('prio'); // another endpoint: nothing released
    expect(emu.hangingRequests('latam')).toBe(1);
    emu.releaseHanging('latam');
    const first = await one.pending;
    expect(first.status).toBe(200);
    expect(first.json.access_token).toEqual(expect.any(String));
    expect(emu.hangingRequests('latam')).toBe(0);

    emu.failTokenEndpoint('latam', { kind: 'hang', times: 1 });
    const { pending } = await held();
    emu.failTokenEndpoint('latam', { kind: 'status', status: 503, times: 1 });
    emu.releaseHanging('latam');
    expect((await pending).status).toBe(503);
    expect((await latamToken()).status).toBe(200); // the 503 was used up by the released request
  });

  it('refuses a times that is not a positive integer', () => {
    expect(() => emu.failTokenEndpoint('latam', { kind: 'hang', times: 0 })).toThrow(/positive integer/);
  });
});

describe('provider emulators: APIs', () => {
  const tokenOf = async (p: EmulatedEndpoint): Promise<string> => {
    const answers = {
      latam: latamToken,
      transatel: transatelToken,
      payme: paymeToken,
      prio: prioToken,
      sabre: sabreToken,
      oauth2: oauth2Token,
    };
    return (await answers[p]()).json.access_token;
  };

  it('LATAM: takes client_id + access_token headers and refuses Authorization', async () => {
    const token = await tokenOf('latam');
    const ok = await call(`${emu.apiUrl('latam')}/echo/members?x=1`, {
      method: 'GET',
      headers: { client_id: C.latam.clientId, access_token: token },
    });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ method: 'GET', path: '/latam/api/echo/members', query: 'x=1', bodyBytes: 0 });
    expect(ok.json.headers.access_token).toBe(token);
    const withBearer = await call(`${emu.apiUrl('latam')}/echo`, {
      method: 'GET',
      headers: { client_id: C.latam.clientId, access_token: token, authorization: `Bearer ${token}` },
    });
    expect(withBearer.status).toBe(401);
    expect(withBearer.json.result).toBe('failure');
    const noClientId = await call(`${emu.apiUrl('latam')}/echo`, { method: 'GET', headers: { access_token: token } });
    expect(noClientId.status).toBe(401);
  });

  it('Pay-me: needs Bearer and ALG-API-VERSION', async () => {
    const token = await tokenOf('payme');
    const ok = await call(`${emu.apiUrl('payme')}/charges`, {
      method: 'GET',
      headers: { authorization: `Bearer ${token}`, 'alg-api-version': '1618440906' },
    });
    expect(ok.status).toBe(200);
    const noVersion = await call(`${emu.apiUrl('payme')}/charges`, { method: 'GET', headers: { authorization: `Bearer ${token}` } });
    expect(noVersion.status).toBe(400);
  });

  it.each(['transatel', 'prio', 'sabre', 'oauth2'] as const)('%s: takes Authorization: Bearer, scheme in any case', async (p) => {
    const token = await tokenOf(p);
    expect((await call(`${emu.apiUrl(p)}/echo`, { method: 'GET', headers: { authorization: `bearer ${token}` } })).status).toBe(200);
    const bad = await call(`${emu.apiUrl(p)}/echo`, { method: 'GET', headers: { authorization: `Bearer ${token}x` } });
    expect(bad.status).toBe(401);
  });

  it("answers 401 in the provider's format once tokens are revoked", async () => {
    const token = await tokenOf('sabre');
    emu.revokeTokens('sabre');
    const r = await call(`${emu.apiUrl('sabre')}/echo`, { method: 'GET', headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(401);
    expect(r.json.errorCode).toBe('ERR.2SG.SEC.INVALID_CREDENTIALS');
  });

  it('expires tokens after a positive expires_in, by its own clock', async () => {
    emu.setTokenLifetime('transatel', 5);
    const token = await tokenOf('transatel');
    const get = () => call(`${emu.apiUrl('transatel')}/echo`, { method: 'GET', headers: { authorization: `Bearer ${token}` } });
    expect((await get()).status).toBe(200);
    clock += 5000;
    const expired = await get();
    expect(expired.status).toBe(401);
    expect(expired.headers.get('content-type')).toBe('application/problem+json');
    // counted, so a soak run can prove no expired token ever reached the API
    expect(emu.apiRequests('transatel')).toBe(2);
    expect(emu.apiRejections('transatel')).toBe(1);
  });

  it('never expires tokens issued with an unusable expires_in', async () => {
    emu.setTokenLifetime('transatel', -5);
    const token = await tokenOf('transatel');
    clock += 10 * 365 * 86400_000;
    expect((await call(`${emu.apiUrl('transatel')}/echo`, { method: 'GET', headers: { authorization: `Bearer ${token}` } })).status).toBe(
      200,
    );
  });

  it('echoes any unmatched path with the body digest', async () => {
    const token = await tokenOf('prio');
    const body = 'héllo wörld';
    const r = await call(`${emu.apiUrl('prio')}/some/where?a=1&a=2`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token}`, 'x-custom': 'yes' },
      body,
    });
    expect(r.json).toMatchObject({
      method: 'PATCH',
      path: '/prio/api/some/where',
      query: 'a=1&a=2',
      bodyBytes: Buffer.byteLength(body),
      bodySha256: createHash('sha256').update(body).digest('hex'),
    });
    expect(r.json.headers['x-custom']).toBe('yes');
    expect(emu.apiRequests('prio')).toBe(1);
  });

  it('streams n deterministic bytes (byte i = i % 251)', async () => {
    const token = await tokenOf('prio');
    const n = 300_000;
    const res = await fetch(`${emu.apiUrl('prio')}/bytes/${n}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(bytes.length).toBe(n);
    expect(bytes.every((b, i) => b === i % 251)).toBe(true);
  });

  it('digests a streamed upload', async () => {
    const token = await tokenOf('prio');
    const body = Buffer.alloc(1_000_000, 7);
    const r = await fetch(`${emu.apiUrl('prio')}/upload`, { method: 'PUT', headers: { authorization: `Bearer ${token}` }, body });
    expect(await r.json()).toEqual({ bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') });
  });

  it('answers a chosen status, a slow answer, and Prio products', async () => {
    const token = await tokenOf('prio');
    const auth = { authorization: `Bearer ${token}` };
    const status = await call(`${emu.apiUrl('prio')}/status/502`, { method: 'GET', headers: auth });
    expect(status.status).toBe(502);
    const started = Date.now();
    const slow = await call(`${emu.apiUrl('prio')}/slow/50`, { method: 'GET', headers: auth });
    expect(slow.json).toEqual({ sleptMs: 50 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    const products = await call(`${emu.apiUrl('prio')}/products`, { method: 'GET', headers: auth });
    expect(products.json.data.items.length).toBeGreaterThan(0);
  });

  it('answers 404 outside the emulated paths', async () => {
    expect((await call(`${emu.url}/nope/api/x`, { method: 'GET' })).status).toBe(404);
  });
});
